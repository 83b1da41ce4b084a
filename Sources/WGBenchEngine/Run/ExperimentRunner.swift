import Foundation
import WGBenchCore
import WGBenchRemote

/// Why a run stopped before measuring every repetition. Each leaves the run resumable: what was
/// being measured is not recorded, and `--resume` measures it.
public enum RunStop: Error, CustomStringConvertible, Sendable {
    /// A host could not be reached even after reconnecting (the circuit breaker).
    case hostLost(HostLost)
    /// The controller could not write the results (a full disk): not a fault of any host.
    case localWrite(LocalWriteError)
    /// Another holder took the testbed's lease over: the testbed is no longer ours to touch.
    case leaseLost(LeaseError)

    public var description: String {
        switch self {
        case .hostLost(let lost): return "\(lost)"
        case .localWrite(let error): return "\(error)"
        case .leaseLost(let error): return "\(error)"
        }
    }
}

/// What does not go to plan in a run, as it happens.
package enum RunEvent: Sendable, CustomStringConvertible {
    /// The gateways cannot run a series' target: its repetitions are recorded as unsupported.
    case unsupported(series: String, reason: String)
    case attemptFailed(RunKey, attempt: Int, reason: String)
    /// A repetition failed every attempt.
    case repetitionFailed(RunKey, reason: String)

    package var description: String {
        switch self {
        case let .unsupported(series, reason): return "series \(series) is unsupported here: \(reason)"
        case let .attemptFailed(key, attempt, reason): return "\(key): attempt \(attempt) failed: \(reason)"
        case let .repetitionFailed(key, reason): return "\(key) FAILED: \(reason)"
        }
    }
}

/// Runs an experiment's repetitions in their recorded order, skipping those a run directory
/// already holds (so `--resume` finishes an interrupted sweep; failed ones are measured again
/// unless `retryFailed` is off). Before measuring it sweeps the testbed of anything of ours a
/// crashed run left; it stops at the first host lost, at a local write failure, or when the
/// lease is taken from it; and it tears the testbed's tunnels, flows and rules down at the end
/// (on every host it can still reach), with a residue check to prove it.
public final class ExperimentRunner: @unchecked Sendable {
    public let store: ResultStore
    public let record: RunRecord
    let testbed: Testbed
    let hosts: [HostRole: RemoteHost]
    let provisioner: Provisioner
    let log: @Sendable (String) -> Void
    /// Told of each stage before it starts ("metadata", "probe", "point <key>", "teardown"):
    /// how `wgbench plan` sections its transcript.
    package var onStage: @Sendable (String) -> Void = { _ in }
    /// Told of what does not go to plan, as it happens (the plan prints it).
    package var onEvent: @Sendable (RunEvent) -> Void = { _ in }
    /// Told the placement each point resolved to, one line per gateway and tunnel (the plan prints it).
    package var onPlacement: @Sendable ([String]) -> Void = { _ in }
    /// Measures the crypto floor for CPU-cost figures on a gateway's machine (the gateways it stands
    /// for given); nil leaves it out (plans and unit tests touch nothing).
    let measureFloor: FloorMeasurement?

    public typealias FloorMeasurement = @Sendable (_ host: RemoteHost, _ roles: [HostRole]) -> CryptoFloorCommands.Outcome
    /// Each gateway's CPUs, NUMA nodes and NICs, read at the start of every invocation.
    var topology: [HostRole: HostTopology] = [:]
    let teardownLock = NSLock()
    var tornDown = false
    /// Measure repetitions recorded as failed again (`--resume` does, unless `--keep-failed`).
    public var retryFailed = true
    /// The testbed's lease, checked between repetitions; nil where none is taken (plans, unit tests).
    public var lease: TestbedLease?
    /// The random part of each attempt's folder on the hosts (plans make it constant).
    package var makeNonce: @Sendable () -> String = { String(ShellFraming.newNonce().prefix(8)) }
    /// Pause between reconnect attempts to a host whose session broke.
    package var reconnectPause: useconds_t = HostFault.reconnectPause
    /// When the first repetition started: wall time for the overhead ratio counts from there.
    var measuringSince: Date?

    /// What a finished invocation did.
    public struct Report: Sendable {
        public var summary: [PointSummary]
        /// Each series against the baseline (or every pair), paired by round in a run in blocks.
        public var ratios: [PairedRatio]
        public var executed: Int
        public var failed: Int
        public var wallSeconds: Double
        /// Wall time over executed runs x (duration + omit); 1.0 would be no overhead at all.
        public var overheadRatio: Double?
        public var residue: [String]
        public var samplerCoreFraction: Double?
        /// What the sweep before measuring found and removed (left by a crashed run).
        public var swept: [String] = []
        /// Why the run stopped early, if it did.
        public var stop: RunStop?
        /// Every result the run directory holds at the end, in the run's order.
        public var results: [RepetitionResult] = []
    }

    public init(testbed: Testbed, hosts: [HostRole: RemoteHost], store: ResultStore, record: RunRecord,
                log: @escaping @Sendable (String) -> Void = { _ in },
                measureFloor: FloorMeasurement? = nil) {
        self.measureFloor = measureFloor
        var testbed = testbed
        // Uploaded programs run from the run's own directory on the gateways.
        for tool in testbed.uploads.keys { testbed.tools[tool] = FilePath(absolute: ToolUpload.remotePath(runID: record.id, tool: tool)) }
        self.testbed = testbed
        self.store = store
        self.record = record
        self.log = log
        var recording: [HostRole: RemoteHost] = [:]
        for (role, host) in hosts { recording[role] = RecordingHost(host, store: store) }
        self.hosts = recording
        provisioner = Provisioner(testbed: testbed, hosts: recording, steering: record.spec.placement.steering, runID: record.id)
    }

    /// A new run's record: picks the seed (the spec's, or a random one), fixes the order and notes
    /// the source revision; the caller writes it (run.json) before the run starts.
    public static func newRecord(spec: ExperimentSpec, experimentFile: String, testbed: Testbed, now: Date = Date()) -> RunRecord {
        let seed = spec.seed ?? UInt64.random(in: 0...UInt64.max)
        var resolved = spec
        resolved.seed = seed
        let stamp = ISO8601DateFormatter().string(from: now).replacingOccurrences(of: ":", with: "")
        var record = RunRecord(id: "\(spec.name)-\(stamp)", experimentFile: experimentFile, spec: resolved, seed: seed,
                               order: RunSchedule.order(resolved, seed: seed), testbedFile: testbed.file,
                               testbedName: testbed.name.rawValue, started: now)
        record.commit = SourceRevision.current()
        return record
    }

    /// Repetitions still to measure: those without a result and, with `retryFailed`, those that
    /// failed. A result that is there but unreadable is neither: the error names it.
    public var pending: [RunKey] {
        get throws(UnreadableRunFile) { pending(in: try recordedResults()) }
    }

    private func pending(in recorded: [RunKey: RepetitionResult]) -> [RunKey] {
        record.order.filter { key in recorded[key].map { retryFailed && $0.status == .failed } ?? true }
    }

    /// The results the run directory holds, by key, each file read once.
    private func recordedResults() throws(UnreadableRunFile) -> [RunKey: RepetitionResult] {
        Dictionary(try store.results(for: record.order).map { ($0.key, $0) }) { first, _ in first }
    }

    public func run() throws -> Report {
        var report = Report(summary: [], ratios: [], executed: 0, failed: 0, wallSeconds: 0, overheadRatio: nil, residue: [],
                            samplerCoreFraction: nil)
        // What was recorded must be readable before anything is measured (or a host touched) again.
        let recorded: [RunKey: RepetitionResult]
        do {
            recorded = try recordedResults()
            _ = try store.readCostContext()
        } catch { throw ResumeRefused(error) }
        var lostHost: HostRole?
        do {
            try prepareHosts(into: &report)
            try measureAll(recorded: recorded, into: &report)
        } catch let stop as RunStop {
            report.stop = stop
        } catch let lost as HostLost {
            report.stop = .hostLost(lost)
        } catch let error as LocalWriteError {
            report.stop = .localWrite(error)
        } catch {
            // A step before the first repetition that met a host which does not answer any more.
            if let lost = confirmedLost(error) {
                report.stop = .hostLost(lost)
            } else {
                _ = teardown()
                throw error
            }
        }
        if case .hostLost(let lost) = report.stop { lostHost = lost.host }
        onStage("teardown")
        if case .leaseLost = report.stop {
            // The testbed belongs to another run now: touching it would trample that run.
        } else {
            report.residue = teardown(skipping: lostHost)
        }
        // From the first repetition to the end of the teardown, as the overhead ratio has always been.
        report.wallSeconds = measuringSince.map { Date().timeIntervalSince($0) } ?? 0
        let spec = record.spec
        let results = try store.results(for: record.order)
        report.results = results
        let cost = try store.readCostContext()
        report.summary = RunSummary.build(record: record, results: results, cost: cost)
        report.ratios = PairedRatios.build(record: record, results: results)
        let perRun = Double(spec.traffic.durationSeconds + spec.traffic.omitSeconds)
        report.overheadRatio = report.executed > 0 ? report.wallSeconds / (Double(report.executed) * perRun) : nil
        report.samplerCoreFraction = Self.samplerCost(results)
        do {
            try store.writeJSON(report.summary, to: RunLayout.summaryJSON)
            try store.writeJSON(report.ratios, to: RunLayout.ratiosJSON)
            try store.write(RunSummary.csv(report.summary, sweep: spec.sweep, cost: cost, ratios: report.ratios), to: RunLayout.summaryCSV)
            try store.write(PairedRatios.csv(report.ratios), to: RunLayout.ratiosCSV)
            try store.write(RunSummary.repetitionsCSV(results), to: RunLayout.repetitionsCSV)
        } catch let error as LocalWriteError {
            if report.stop == nil { report.stop = .localWrite(error) }
        }
        return report
    }

    /// The one check for a lost host: an error that names a host which no longer answers (after
    /// reconnect attempts) ends the run; any other error is a step's failure.
    func confirmedLost(_ error: Error) -> HostLost? {
        guard let role = HostFault.host(of: error), let host = hosts[role] else { return nil }
        return HostFault.confirmLost(role, host: host, error: error, pause: reconnectPause, log: log)
    }

    private func measureAll(recorded: [RunKey: RepetitionResult], into report: inout Report) throws {
        var todo = pending(in: recorded)
        onStage("probe")
        let unsupported = try probeTargets(Set(todo.map(\.series)))
        for key in todo {
            guard let reason = unsupported[key.series] else { continue }
            let now = Date()
            try store.writeResult(.unmeasured(key, .unsupported, reason: reason, attempts: [], started: now, steps: []))
        }
        for (series, reason) in unsupported.sorted(by: { $0.key < $1.key }) {
            onEvent(.unsupported(series: series, reason: reason))
            log("series \(series) is unsupported here: \(reason)")
        }
        todo.removeAll { unsupported[$0.series] != nil }
        let again = todo.filter { recorded[$0]?.status == .failed }.count
        log("\(record.order.count - todo.count) of \(record.order.count) repetitions already done; \(todo.count) to run"
            + (again > 0 ? " (\(again) of them failed before and are measured again)" : ""))
        let start = Date()
        measuringSince = start
        let spec = record.spec
        for key in todo {
            if let lost = lease?.lost { throw RunStop.leaseLost(lost) }
            onStage("point \(key.series) \(key.point.id) rep \(key.repetition)")
            let result = try measure(key, previous: recorded[key])
            // After an abort, what was being measured is not a result: resume measures it again.
            guard !provisioner.isAborted else { break }
            try store.checkFault()
            try store.writeResult(result)
            report.executed += 1
            if result.status == .failed {
                report.failed += 1
                onEvent(.repetitionFailed(key, reason: result.reason ?? "?"))
            }
            let elapsed = Date().timeIntervalSince(start)
            let eta = elapsed / Double(report.executed) * Double(todo.count - report.executed)
            let outcome = result.throughput.map { String(format: "%.3f Gbit/s", $0 / 1e9) } ?? "FAILED: \(result.reason ?? "?")"
            log("[\(record.order.count - todo.count + report.executed)/\(record.order.count)] \(key.series) \(key.point.id) "
                + "rep \(key.repetition): \(outcome) | ETA \(Self.clock(eta))")
            if spec.pauseMilliseconds > 0 && report.executed < todo.count { usleep(useconds_t(spec.pauseMilliseconds) * 1000) }
        }
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
    }
}
