import Foundation
import WGBenchCore
import WGBenchRemote

/// Runs an experiment's repetitions in their recorded order, skipping those a run directory
/// already holds (so `--resume` finishes an interrupted sweep), and tears the testbed's tunnels,
/// flows and rules down at the end, with a residue check to prove it.
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
    /// Measures the crypto floor for CPU-cost figures; nil leaves it out (plans and unit tests touch nothing).
    let measureFloor: (@Sendable () -> CPUCostContext.Floor)?
    /// Each gateway's CPUs, NUMA nodes and NICs, read at the start of every invocation.
    private var topology: [HostRole: HostTopology] = [:]
    private let teardownLock = NSLock()
    private var tornDown = false

    /// What a finished invocation did.
    public struct Report: Sendable {
        public var summary: [PointSummary]
        public var executed: Int
        public var failed: Int
        public var wallSeconds: Double
        /// Wall time over executed runs x (duration + omit); 1.0 would be no overhead at all.
        public var overheadRatio: Double?
        public var residue: [String]
        public var samplerCoreFraction: Double?
    }

    public init(testbed: Testbed, hosts: [HostRole: RemoteHost], store: ResultStore, record: RunRecord,
                log: @escaping @Sendable (String) -> Void = { _ in },
                measureFloor: (@Sendable () -> CPUCostContext.Floor)? = nil) {
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
        provisioner = Provisioner(testbed: testbed, hosts: recording, steering: record.spec.placement.steering)
    }

    /// A new run: picks the seed (the spec's, or a random one), fixes the order and writes run.json.
    public static func newRecord(spec: ExperimentSpec, experimentFile: String, testbed: Testbed, now: Date = Date()) -> RunRecord {
        let seed = spec.seed ?? UInt64.random(in: 0...UInt64.max)
        var resolved = spec
        resolved.seed = seed
        let stamp = ISO8601DateFormatter().string(from: now).replacingOccurrences(of: ":", with: "")
        return RunRecord(id: "\(spec.name)-\(stamp)", experimentFile: experimentFile, spec: resolved, seed: seed,
                         order: RunSchedule.order(resolved, seed: seed), testbedFile: testbed.file,
                         testbedName: testbed.name.rawValue, started: now)
    }

    public var pending: [RunKey] { record.order.filter { !store.exists(store.resultPath($0)) } }

    public func run() throws -> Report {
        let spec = record.spec
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
        if !store.exists("metadata/cpu-cost.json") {
            onStage("crypto floor")
            try store.writeJSON(measureCostContext(), to: "metadata/cpu-cost.json")
        }
        let cost = try? store.readJSON(CPUCostContext.self, from: "metadata/cpu-cost.json")
        if let floor = cost?.floor {
            log(String(format: "crypto floor on %@: %.2f CPU-s/GB sealing + %.2f opening %d-byte packets (OpenSSL, one core)",
                       floor.host, floor.sealSecondsPerGB, floor.openSecondsPerGB, floor.packetBytes))
        }
        var todo = pending
        onStage("probe")
        let unsupported = probeTargets(Set(todo.map(\.series)))
        for key in todo {
            guard let reason = unsupported[key.series] else { continue }
            let now = Date()
            try store.writeResult(RepetitionResult(key: key, status: .unsupported, reason: reason, attempts: 0, started: now, finished: now,
                                                   throughput: nil, flows: [], cpu: [:], samplerCPUSeconds: [:], sampledSeconds: nil,
                                                   knobs: [:], steps: []))
        }
        for (series, reason) in unsupported.sorted(by: { $0.key < $1.key }) { log("series \(series) is unsupported here: \(reason)") }
        todo.removeAll { unsupported[$0.series] != nil }
        log("\(record.order.count - todo.count) of \(record.order.count) repetitions already done; \(todo.count) to run")
        let start = Date()
        var executed = 0, failed = 0
        defer { _ = teardown() }
        for key in todo {
            onStage("point \(key.series) \(key.point.id) rep \(key.repetition)")
            let result = measure(key)
            // After an abort, what was being measured is not a result: resume measures it again.
            guard !provisioner.isAborted else { break }
            try store.writeResult(result)
            executed += 1
            if result.status == .failed { failed += 1 }
            let elapsed = Date().timeIntervalSince(start)
            let eta = elapsed / Double(executed) * Double(todo.count - executed)
            let outcome = result.throughput.map { String(format: "%.3f Gbit/s", $0 / 1e9) } ?? "FAILED: \(result.reason ?? "?")"
            log("[\(record.order.count - todo.count + executed)/\(record.order.count)] \(key.series) \(key.point.id) "
                + "rep \(key.repetition): \(outcome) | ETA \(Self.clock(eta))")
            if spec.pauseMilliseconds > 0 && executed < todo.count { usleep(useconds_t(spec.pauseMilliseconds) * 1000) }
        }
        onStage("teardown")
        let residue = teardown()
        let wall = Date().timeIntervalSince(start)
        let results = store.results(for: record.order)
        let summary = RunSummary.build(record: record, results: results, cost: cost)
        try store.writeJSON(summary, to: "summary.json")
        try store.write(RunSummary.csv(summary, sweep: spec.sweep, cost: cost), to: "summary.csv")
        try store.write(RunSummary.repetitionsCSV(results), to: "repetitions.csv")
        let perRun = Double(spec.traffic.durationSeconds + spec.traffic.omitSeconds)
        return Report(summary: summary, executed: executed, failed: failed, wallSeconds: wall,
                      overheadRatio: executed > 0 ? wall / (Double(executed) * perRun) : nil, residue: residue,
                      samplerCoreFraction: Self.samplerCost(results))
    }

    /// Which series' targets the gateways cannot run, with the reason; their repetitions are
    /// recorded as unsupported instead of being attempted.
    private func probeTargets(_ names: Set<String>) -> [String: String] {
        let series = record.spec.series.filter { names.contains($0.name) }
        var probed = Set<TargetKind>(), verdicts: [TargetKind: String] = [:]
        // Each target once, in the spec's order (plans print the probes).
        for entry in series where probed.insert(entry.target).inserted { verdicts[entry.target] = probe(entry.target) }
        return Dictionary(uniqueKeysWithValues: series.compactMap { entry in verdicts[entry.target].map { (entry.name, $0) } })
    }

    private func probe(_ target: TargetKind) -> String? {
        for role in [HostRole.gw1, .gw2] {
            for command in TunnelCommands.probe(target, on: role, program: testbed.tools[target.rawValue]?.rawValue) ?? [] {
                do {
                    let result = try hosts[role]!.run(command)
                    if !result.succeeded {
                        let what = target == .kernel && command.program == "ip" ? "kernel WireGuard is not available" : "\(command.program) is not usable"
                        return "\(what) on \(role): `\(command)` exited \(result.status)\(result.stderrTail.isEmpty ? "" : ": " + result.stderrTail)"
                    }
                } catch {
                    return "probing \(target) on \(role): \(error)"
                }
            }
        }
        return nil
    }

    // MARK: One repetition

    private func measure(_ key: RunKey) -> RepetitionResult {
        let spec = record.spec
        let started = Date()
        guard let series = spec.series.first(where: { $0.name == key.series }) else {
            return failed(key, "series \(key.series) is not in the spec", attempts: 0, started: started, steps: [])
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
            return failed(key, "\(error)", attempts: 0, started: started, steps: [])
        }
        onPlacement(placement.describe(plan: plan, knobs: knobs, target: series.target))
        var lastFailure = "not attempted"
        var steps: [StepRecord] = []
        for attempt in 1...(spec.retries + 1) {
            do {
                let prepared = try provisioner.prepare(series: series, knobs: knobs, plan: plan, placement: placement)
                steps = prepared.steps
                let work = "/run/wgbench/runs/\(record.id)/\(key.series)-\(key.point.directoryName)-\(key.repetition)-\(attempt)"
                let outcome = try TrafficRun(hosts: hosts, spec: spec, store: store, workDirectory: work).run(plan: plan, key: key)
                if let failure = outcome.failure {
                    lastFailure = failure
                } else {
                    return RepetitionResult(
                        key: key, status: .ok, reason: nil, attempts: attempt, started: started, finished: Date(),
                        throughput: outcome.flows.compactMap(\.bitsPerSecond).reduce(0, +), flows: outcome.flows,
                        cpu: outcome.cpu, samplerCPUSeconds: outcome.samplerCPUSeconds, sampledSeconds: outcome.sampledSeconds,
                        knobs: prepared.knobs, steps: steps, placement: prepared.placed)
                }
            } catch {
                lastFailure = "\(error)"
                // Start the next attempt from a clean slate.
                _ = provisioner.teardown()
            }
            log("\(key): attempt \(attempt) failed: \(lastFailure)")
        }
        return failed(key, lastFailure, attempts: spec.retries + 1, started: started, steps: steps)
    }

    private func failed(_ key: RunKey, _ reason: String, attempts: Int, started: Date, steps: [StepRecord]) -> RepetitionResult {
        RepetitionResult(key: key, status: .failed, reason: reason, attempts: attempts, started: started, finished: Date(),
                         throughput: nil, flows: [], cpu: [:], samplerCPUSeconds: [:], sampledSeconds: nil, knobs: [:], steps: steps)
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

    /// The crypto floor as `wgbench run` measures it: OpenSSL on one core of the controller.
    public static let cryptoFloor: @Sendable () -> CPUCostContext.Floor = { CryptoFloor.measure() }

    /// Reads each gateway's topology (placement resolves against it) and records it.
    private func readTopology() throws {
        let testbed = self.testbed, hosts = self.hosts
        let read = try onEachHostOrThrow([HostRole.gw1, .gw2]) { role -> (HostRole, HostTopology) in
            let nics = testbed.host(role).interfaces.values.map(\.name.rawValue).sorted()
            let output = try hosts[role]!.check(TopologyCommands.read(nics: nics))
            guard let topology = TopologyCommands.parse(output) else {
                throw Provisioner.Failure(description: "\(role): could not read its CPUs from /sys/devices/system/cpu/online")
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

    /// The crypto floor, measured here, and whether the gateways are one machine (by boot id).
    private func measureCostContext() throws -> CPUCostContext {
        struct Entry: Codable { var name: String; var stdout: String }
        let bootID = { (role: HostRole) in
            (try? self.store.readJSON([Entry].self, from: "metadata/\(role).json"))?.first { $0.name == "boot_id" }?.stdout
        }
        return CPUCostContext(floor: measureFloor?(), gatewaysShareMachine: CPUCost.sameMachine(bootID: bootID(.gw1), bootID: bootID(.gw2)))
    }

    /// Removes tunnels, flows and rules, then checks the hosts for anything of ours. Safe to call
    /// more than once.
    @discardableResult
    public func teardown() -> [String] {
        teardownLock.lock()
        defer { teardownLock.unlock() }
        if tornDown { return [] }
        tornDown = true
        return cleanUp(using: hosts)
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
        let base = "/run/wgbench/runs/\(record.id)"
        for role in HostRole.allCases { _ = try? hosts[role]?.run(Command("rm", "-rf", base)) }
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
