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
    var onStage: @Sendable (String) -> Void = { _ in }
    /// Told the placement each point resolved to, one line per gateway and tunnel (the plan prints it).
    var onPlacement: @Sendable ([String]) -> Void = { _ in }
    /// Measures the crypto floor for CPU-cost figures on a gateway's machine (the gateways it stands
    /// for given); nil leaves it out (plans and unit tests touch nothing).
    let measureFloor: FloorMeasurement?

    public typealias FloorMeasurement = @Sendable (_ host: RemoteHost, _ roles: [HostRole]) -> CryptoFloorCommands.Outcome
    /// Each gateway's CPUs, NUMA nodes and NICs, read at the start of every invocation.
    private var topology: [HostRole: HostTopology] = [:]
    private let teardownLock = NSLock()
    private var tornDown = false
    /// Measure repetitions recorded as failed again (`--resume` does, unless `--keep-failed`).
    public var retryFailed = true
    /// The testbed's lease, checked between repetitions; nil where none is taken (plans, unit tests).
    public var lease: TestbedLease?
    /// The random part of each attempt's folder on the hosts (plans make it constant).
    var makeNonce: @Sendable () -> String = { String(ShellFraming.newNonce().prefix(8)) }
    /// Pause between reconnect attempts to a host whose session broke.
    var reconnectPause: useconds_t = HostFault.reconnectPause
    /// When the first repetition started: wall time for the overhead ratio counts from there.
    private var measuringSince: Date?

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

    /// Repetitions still to measure: those without a result and, with `retryFailed`, those that failed.
    public var pending: [RunKey] {
        record.order.filter { key in
            guard let result = store.readResult(key) else { return true }
            return retryFailed && result.status == .failed
        }
    }

    public func run() throws -> Report {
        var report = Report(summary: [], ratios: [], executed: 0, failed: 0, wallSeconds: 0, overheadRatio: nil, residue: [],
                            samplerCoreFraction: nil)
        var lostHost: HostRole?
        do {
            try prepareHosts(into: &report)
            try measureAll(into: &report)
        } catch let stop as RunStop {
            report.stop = stop
        } catch let lost as HostLost {
            report.stop = .hostLost(lost)
        } catch let error as LocalWriteError {
            report.stop = .localWrite(error)
        } catch {
            // A step before the first repetition that met a host which does not answer any more.
            if let role = HostFault.host(of: error),
               let lost = HostFault.confirmLost(role, host: hosts[role]!, error: error, pause: reconnectPause, log: log) {
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
        let results = store.results(for: record.order)
        let cost = try? store.readJSON(CPUCostContext.self, from: "metadata/cpu-cost.json")
        report.summary = RunSummary.build(record: record, results: results, cost: cost)
        report.ratios = PairedRatios.build(record: record, results: results)
        let perRun = Double(spec.traffic.durationSeconds + spec.traffic.omitSeconds)
        report.overheadRatio = report.executed > 0 ? report.wallSeconds / (Double(report.executed) * perRun) : nil
        report.samplerCoreFraction = Self.samplerCost(results)
        do {
            try store.writeJSON(report.summary, to: "summary.json")
            try store.writeJSON(report.ratios, to: "ratios.json")
            try store.write(RunSummary.csv(report.summary, sweep: spec.sweep, cost: cost, ratios: report.ratios), to: "summary.csv")
            try store.write(PairedRatios.csv(report.ratios), to: "ratios.csv")
            try store.write(RunSummary.repetitionsCSV(results), to: "repetitions.csv")
        } catch let error as LocalWriteError {
            if report.stop == nil { report.stop = .localWrite(error) }
        }
        return report
    }

    /// Everything before the first repetition: the sweep, the run's folders, uploads, metadata,
    /// topology and the crypto floor.
    private func prepareHosts(into report: inout Report) throws {
        onStage("sweep")
        report.swept = try sweepTestbed()
        if report.swept.isEmpty {
            log("testbed swept before measuring: nothing of ours was left on it")
        } else {
            log("testbed swept before measuring; removed what an earlier run left: \(report.swept.joined(separator: "; "))")
        }
        _ = try onEachHostOrThrow(HostRole.allCases) { role in try self.hosts[role]!.check(HostFolders.prepare(runID: self.record.id)) }
        do { try uploadTools() } catch {
            _ = teardown()  // a partial upload is removed with the run's directory
            throw error
        }
        if !store.exists("metadata/\(HostRole.gw1).json") {
            onStage("metadata")
            try collectMetadata()
        }
        onStage("topology")
        try readTopology()
        if let preflight = record.spec.preflight {
            onStage("preflight")
            try checkQuietness(preflight)
        }
        if !store.exists("metadata/cpu-cost.json") {
            onStage("crypto floor")
            try store.writeJSON(measureCostContext(), to: "metadata/cpu-cost.json")
        }
        if let cost = try? store.readJSON(CPUCostContext.self, from: "metadata/cpu-cost.json") {
            for floor in cost.floors {
                log(String(format: "crypto floor on %@: %.2f CPU-s/GB sealing + %.2f opening %d-byte packets (OpenSSL, one core)",
                           floor.label, floor.sealSecondsPerGB, floor.openSecondsPerGB, floor.packetBytes))
            }
            for missing in cost.unavailableFloors { log("no crypto floor on \(missing.roles.joined(separator: " and ")) (\(missing.host)): \(missing.reason)") }
        }
    }

    /// Removes what a run that never tore down left (a controller killed with -9, a host lost):
    /// every tunnel, daemon, iperf3, flow route and address, and run folder of ours, found on the
    /// hosts as the teardown finds them. Returns what it removed.
    private func sweepTestbed() throws -> [String] {
        let sweep = ResidueCheck.sweep(hosts: hosts, testbed: testbed, folders: true)
        for problem in sweep.problems { log("sweep: \(problem)") }
        // A host that cannot be reached stops the run before it starts.
        for (role, error) in sweep.failures where HostFault.host(of: error) != nil {
            if let lost = HostFault.confirmLost(role, host: hosts[role]!, error: error, pause: reconnectPause, log: log) { throw lost }
        }
        return sweep.removed
    }

    private func measureAll(into report: inout Report) throws {
        var todo = pending
        onStage("probe")
        let unsupported = try probeTargets(Set(todo.map(\.series)))
        for key in todo {
            guard let reason = unsupported[key.series] else { continue }
            let now = Date()
            try store.writeResult(RepetitionResult(key: key, status: .unsupported, reason: reason, attempts: 0, started: now, finished: now,
                                                   throughput: nil, flows: [], cpu: [:], samplerCPUSeconds: [:], sampledSeconds: nil,
                                                   knobs: [:], steps: []))
        }
        for (series, reason) in unsupported.sorted(by: { $0.key < $1.key }) { log("series \(series) is unsupported here: \(reason)") }
        todo.removeAll { unsupported[$0.series] != nil }
        let again = todo.filter { store.readResult($0)?.status == .failed }.count
        log("\(record.order.count - todo.count) of \(record.order.count) repetitions already done; \(todo.count) to run"
            + (again > 0 ? " (\(again) of them failed before and are measured again)" : ""))
        let start = Date()
        measuringSince = start
        let spec = record.spec
        for key in todo {
            if let lost = lease?.lost { throw RunStop.leaseLost(lost) }
            onStage("point \(key.series) \(key.point.id) rep \(key.repetition)")
            let result = try measure(key, previous: store.readResult(key))
            // After an abort, what was being measured is not a result: resume measures it again.
            guard !provisioner.isAborted else { break }
            try store.checkFault()
            try store.writeResult(result)
            report.executed += 1
            if result.status == .failed { report.failed += 1 }
            let elapsed = Date().timeIntervalSince(start)
            let eta = elapsed / Double(report.executed) * Double(todo.count - report.executed)
            let outcome = result.throughput.map { String(format: "%.3f Gbit/s", $0 / 1e9) } ?? "FAILED: \(result.reason ?? "?")"
            log("[\(record.order.count - todo.count + report.executed)/\(record.order.count)] \(key.series) \(key.point.id) "
                + "rep \(key.repetition): \(outcome) | ETA \(Self.clock(eta))")
            if spec.pauseMilliseconds > 0 && report.executed < todo.count { usleep(useconds_t(spec.pauseMilliseconds) * 1000) }
        }
    }

    /// Which series' targets the gateways cannot run, with the reason; their repetitions are
    /// recorded as unsupported instead of being attempted.
    private func probeTargets(_ names: Set<String>) throws -> [String: String] {
        let series = record.spec.series.filter { names.contains($0.name) }
        var probed = Set<TargetKind>(), verdicts: [TargetKind: String] = [:]
        // Each target once, in the spec's order (plans print the probes).
        for entry in series where probed.insert(entry.target).inserted { verdicts[entry.target] = try probe(entry.target) }
        return Dictionary(uniqueKeysWithValues: series.compactMap { entry in verdicts[entry.target].map { (entry.name, $0) } })
    }

    private func probe(_ target: TargetKind) throws -> String? {
        for role in [HostRole.gw1, .gw2] {
            for command in TunnelCommands.probe(target, on: role, program: testbed.tools[target.rawValue]?.rawValue) ?? [] {
                do {
                    let result = try hosts[role]!.run(command)
                    if !result.succeeded {
                        let what = target == .kernel && command.program == "ip" ? "kernel WireGuard is not available" : "\(command.program) is not usable"
                        return "\(what) on \(role): `\(command)` exited \(result.status)\(result.stderrTail.isEmpty ? "" : ": " + result.stderrTail)"
                    }
                } catch {
                    // A host that does not answer says nothing about the target.
                    if HostFault.host(of: error) != nil, let lost = HostFault.confirmLost(role, host: hosts[role]!, error: error,
                                                                                          pause: reconnectPause, log: log) { throw lost }
                    return "probing \(target) on \(role): \(error)"
                }
            }
        }
        return nil
    }

    // MARK: One repetition

    /// One repetition with its retries. `previous` is its failed result from an earlier invocation,
    /// whose attempts are kept. Throws what stops the run: a lost host, a local write failure.
    private func measure(_ key: RunKey, previous: RepetitionResult?) throws -> RepetitionResult {
        let spec = record.spec
        let started = Date()
        var attempts = previous.map(Self.attempts(of:)) ?? []
        guard let series = spec.series.first(where: { $0.name == key.series }) else {
            return failed(key, "series \(key.series) is not in the spec", attempts: attempts, started: started, steps: [])
        }
        let knobs: KnobSettings
        let plan: TrafficPlan
        let placement: ResolvedPlacement
        do {
            knobs = try key.point.knobs(for: series)
            plan = try TrafficPlan(testbed: testbed, traffic: spec.traffic, tunnels: key.point.tunnels, flows: key.point.flows,
                                   target: series.target)
            placement = try PlacementResolver.resolve(series.placement, plan: plan, topology: topology, dataNIC: [
                .gw1: testbed.host(.gw1).interface(.ingress).name.rawValue, .gw2: testbed.host(.gw2).interface(.underlay).name.rawValue,
            ])
        } catch {
            return failed(key, "\(error)", attempts: attempts, started: started, steps: [])
        }
        onPlacement(placement.describe(plan: plan, knobs: knobs, target: series.target))
        let health = TunnelHealthCheck(hosts: hosts, runID: record.id)
        var lastFailure = "not attempted"
        var steps: [StepRecord] = []
        for attempt in 1...(spec.retries + 1) {
            let attemptStarted = Date()
            // Raw files of an earlier attempt must not lie beside this one's result.
            for raw in store.contents(of: key.directory) where raw != "result.json" {
                store.remove("\(key.directory)/\(raw)")
            }
            var inTraffic = false
            do {
                let prepared = try provisioner.prepare(series: series, knobs: knobs, plan: plan, placement: placement)
                steps = prepared.steps
                if let dead = try health.beforeTraffic(plan, target: series.target) {
                    lastFailure = dead
                    _ = provisioner.teardown()  // the next attempt makes the tunnels anew
                } else {
                    let work = HostFolders.attempt(runID: record.id, key: key, attempt: attempts.count + 1, nonce: makeNonce())
                    let dropsBefore = try readDrops(plan, target: series.target, settle: false)
                    inTraffic = true
                    let outcome = try TrafficRun(hosts: hosts, spec: spec, store: store, workDirectory: work).run(plan: plan, key: key)
                    // A daemon that died explains a traffic failure better than iperf3's view of it.
                    if let dead = try health.afterTraffic(plan, target: series.target) {
                        lastFailure = dead
                        _ = provisioner.teardown()
                    } else if let failure = outcome.failure {
                        lastFailure = failure
                    } else {
                        let dropsAfter = try readDrops(plan, target: series.target, settle: true)
                        attempts.append(AttemptRecord(started: attemptStarted, finished: Date(), failure: nil))
                        return RepetitionResult(
                            key: key, status: .ok, reason: nil, attempts: attempts.count, started: started, finished: Date(),
                            throughput: outcome.flows.compactMap(\.bitsPerSecond).reduce(0, +), flows: outcome.flows,
                            cpu: outcome.cpu, samplerCPUSeconds: outcome.samplerCPUSeconds, sampledSeconds: outcome.sampledSeconds,
                            knobs: prepared.knobs, steps: steps, placement: prepared.placed, attemptLog: attempts,
                            drops: DaemonDrops.perHost(before: dropsBefore, after: dropsAfter), steadyFrom: outcome.steadyFrom,
                            saturation: outcome.saturation)
                    }
                }
            } catch let error as LocalWriteError {
                throw error  // this machine's fault: retrying on the hosts would not help
            } catch {
                if let role = HostFault.host(of: error),
                   let lost = HostFault.confirmLost(role, host: hosts[role]!, error: error, pause: reconnectPause, log: log) {
                    throw lost
                }
                // A daemon that died during traffic stalls iperf3 until its time limit: name the daemon.
                let dead = inTraffic ? (try? health.afterTraffic(plan, target: series.target)) ?? nil : nil
                lastFailure = dead ?? "\(error)"
                // Start the next attempt from a clean slate.
                _ = provisioner.teardown()
            }
            attempts.append(AttemptRecord(started: attemptStarted, finished: Date(), failure: lastFailure))
            log("\(key): attempt \(attempt) failed: \(lastFailure)")
            try store.checkFault()
            if provisioner.isAborted { break }
        }
        return failed(key, lastFailure, attempts: attempts, started: started, steps: steps)
    }

    /// wireguard-swift's drop counters on both gateways, per gateway and interface; nil for other
    /// targets and where a gateway has no stats file for its tunnels (an older daemon).
    private func readDrops(_ plan: TrafficPlan, target: TargetKind, settle: Bool) throws -> [String: [String: [String: Int]]]? {
        guard target == .wireguardSwift, !plan.tunnels.isEmpty else { return nil }
        let hosts = self.hosts
        let read = try onEachHostOrThrow([HostRole.gw1, .gw2]) { role in
            (role.rawValue, DaemonDrops.parse(try hosts[role]!.check(DaemonDrops.read(interfaces: plan.tunnels.map { $0.interface(role) },
                                                                                       settle: settle))))
        }
        guard read.allSatisfy({ !$0.1.isEmpty }) else { return nil }
        return Dictionary(uniqueKeysWithValues: read)
    }

    /// The attempts a result records; an older result without the list has its last reason.
    static func attempts(of result: RepetitionResult) -> [AttemptRecord] {
        if !result.attemptLog.isEmpty { return result.attemptLog }
        guard result.attempts > 0 else { return [] }
        return [AttemptRecord(started: result.started, finished: result.finished, failure: result.reason)]
    }

    private func failed(_ key: RunKey, _ reason: String, attempts: [AttemptRecord], started: Date, steps: [StepRecord]) -> RepetitionResult {
        RepetitionResult(key: key, status: .failed, reason: reason, attempts: attempts.count, started: started, finished: Date(),
                         throughput: nil, flows: [], cpu: [:], samplerCPUSeconds: [:], sampledSeconds: nil, knobs: [:], steps: steps,
                         attemptLog: attempts)
    }

    // MARK: Metadata, teardown

    private func collectMetadata() throws {
        struct Entry: Codable { var name: String; var command: String; var status: Int32; var stdout: String; var stderr: String }
        let testbed = self.testbed, hosts = self.hosts, store = self.store
        try onEachHostOrThrow(HostRole.allCases) { role in
            let nics = testbed.host(role).interfaces.values.map(\.name.rawValue).sorted()
            let entries = try MetadataCommands.host(nics: nics).map { name, command -> Entry in
                let result = try hosts[role]!.run(command)
                return Entry(name: name, command: command.description, status: result.status, stdout: result.stdout, stderr: result.stderr)
            }
            try store.writeJSON(entries, to: "metadata/\(role).json")
        }
    }

    /// The crypto floor as `wgbench run` measures it: OpenSSL on one core of the gateway's machine.
    public static let cryptoFloor: FloorMeasurement = { host, roles in GatewayCryptoFloor.measure(on: host, roles: roles) }

    /// The quiet-machine check: each host's readings and warnings, recorded and logged; with
    /// `strict`, a warning stops the run before anything is changed on the hosts.
    private func checkQuietness(_ preflight: PreflightSpec) throws {
        let hosts = self.hosts
        let reports = try onEachHostOrThrow(preflight.hosts) { role in
            PreflightCommands.parse(try hosts[role]!.check(PreflightCommands.check), host: role.rawValue, spec: preflight)
        }
        try store.writeJSON(reports, to: "metadata/preflight.json")
        let warnings = reports.flatMap { report in report.warnings.map { "\(report.host): \($0)" } }
        for warning in warnings { log("preflight: \(warning)") }
        if warnings.isEmpty { log("preflight: \(preflight.hosts.map(\.rawValue).joined(separator: ", ")) quiet") }
        if preflight.strict && !warnings.isEmpty {
            throw ProvisioningError.notQuiet(warnings: warnings)
        }
    }

    /// Reads each gateway's topology (placement resolves against it) and records it.
    private func readTopology() throws {
        let testbed = self.testbed, hosts = self.hosts
        let read = try onEachHostOrThrow([HostRole.gw1, .gw2]) { role -> (HostRole, HostTopology) in
            let nics = testbed.host(role).interfaces.values.map(\.name.rawValue).sorted()
            let output = try hosts[role]!.check(TopologyCommands.read(nics: nics))
            guard let topology = TopologyCommands.parse(output) else {
                throw ProvisioningError.topologyUnreadable(host: role)
            }
            return (role, topology)
        }
        topology = Dictionary(uniqueKeysWithValues: read)
        try store.writeJSON(["gw1": topology[.gw1]!, "gw2": topology[.gw2]!], to: "metadata/topology.json")
    }

    /// Copies the testbed's `upload:` programs to the gateways, if a series of this run needs them.
    private func uploadTools() throws {
        let targets = Set(record.spec.series.map(\.target.rawValue))
        for (tool, source) in testbed.uploads.sorted(by: { $0.key < $1.key }) where targets.contains(tool) {
            onStage("upload \(tool)")
            let file = ToolUpload.localFile(source, tool: tool)
            // One gateway after the other: on the local testbed they share one filesystem.
            for role in [HostRole.gw1, .gw2] {
                try ToolUpload.upload(file, to: ToolUpload.remotePath(runID: record.id, tool: tool), on: hosts[role]!, role: role)
            }
            log("uploaded \(file.path) to gw1 and gw2")
        }
    }

    /// Whether the gateways are one machine (by boot id), and the crypto floor measured on each
    /// gateway machine: once where they are one.
    private func measureCostContext() throws -> CPUCostContext {
        struct Entry: Codable { var name: String; var stdout: String }
        let bootID = { (role: HostRole) in
            (try? self.store.readJSON([Entry].self, from: "metadata/\(role).json"))?.first { $0.name == "boot_id" }?.stdout
        }
        let shared = CPUCost.sameMachine(bootID: bootID(.gw1), bootID: bootID(.gw2))
        let machines: [[HostRole]] = shared ? [[.gw1, .gw2]] : [[.gw1], [.gw2]]
        let outcomes = measureFloor.map { measure in machines.map { roles in measure(hosts[roles[0]]!, roles) } } ?? []
        var floors: [CPUCostContext.Floor] = [], unavailable: [CPUCostContext.UnavailableFloor] = []
        for outcome in outcomes {
            switch outcome {
            case .measured(let floor): floors.append(floor)
            case .unavailable(let missing): unavailable.append(missing)
            }
        }
        return CPUCostContext(floors: floors, unavailableFloors: unavailable, gatewaysShareMachine: shared)
    }

    /// Removes tunnels, flows and rules, then checks the hosts for anything of ours. Safe to call
    /// more than once.
    @discardableResult
    public func teardown(skipping lost: HostRole? = nil) -> [String] {
        teardownLock.lock()
        defer { teardownLock.unlock() }
        if tornDown { return [] }
        tornDown = true
        guard let lost else { return cleanUp(using: hosts) }
        log("tearing down on every host but \(lost), which cannot be reached")
        return cleanUp(using: hosts.filter { $0.key != lost })
    }

    /// For a signal handler: stops the run where it is and tears down over `fresh` connections,
    /// since the run's own may be busy with a command. Traffic in flight is killed.
    public func abort(using fresh: [HostRole: RemoteHost]) -> [String] {
        provisioner.abort()
        teardownLock.lock()
        defer { teardownLock.unlock() }
        tornDown = true
        var recording: [HostRole: RemoteHost] = [:]
        for (role, host) in fresh { recording[role] = RecordingHost(host, store: store) }
        return cleanUp(using: recording)
    }

    private func cleanUp(using hosts: [HostRole: RemoteHost]) -> [String] {
        var problems = provisioner.teardown(using: hosts)
        // The id reaches `rm -rf` on every host: only one wgbench itself would have made.
        if RunRecord.isValidID(record.id) {
            for role in HostRole.allCases { _ = try? hosts[role]?.run(Command("rm", "-rf", HostFolders.run(record.id))) }
        }
        problems += ResidueCheck.check(hosts: hosts, testbed: testbed)
        return problems
    }

    static func samplerCost(_ results: [RepetitionResult]) -> Double? {
        let pairs = results.flatMap { result in result.samplerCPUSeconds.values.map { ($0, result.sampledSeconds ?? 0) } }
        let seconds = pairs.map(\.1).reduce(0, +)
        guard seconds > 0 else { return nil }
        return pairs.map(\.0).reduce(0, +) / seconds
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
    }
}
