import Foundation
import WGBenchCore
import WGBenchRemote

/// Before the first repetition: the testbed swept of what a crashed run left, the run's folders,
/// uploads, metadata, topology, the quiet-machine check, the crypto floor, and which series'
/// targets the gateways can run.
extension ExperimentRunner {
    /// Everything before the first repetition: the sweep, the run's folders, uploads, metadata,
    /// topology and the crypto floor.
    func prepareHosts(into report: inout Report) throws {
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
        if !store.exists(RunLayout.metadata(.gw1)) {
            onStage("metadata")
            try collectMetadata()
        }
        onStage("topology")
        try readTopology()
        if let preflight = record.spec.preflight {
            onStage("preflight")
            try checkQuietness(preflight)
        }
        var cost = try store.readCostContext()  // a resumed run's, measured when it began
        if cost == nil {
            onStage("crypto floor")
            let measured = try measureCostContext()
            try store.writeJSON(measured, to: RunLayout.cpuCost)
            cost = measured
        }
        if let cost {
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
    func sweepTestbed() throws -> [String] {
        let sweep = ResidueCheck.sweep(hosts: hosts, testbed: testbed, folders: true)
        for problem in sweep.problems { log("sweep: \(problem)") }
        // A host that cannot be reached stops the run before it starts.
        for (_, error) in sweep.failures { if let lost = confirmedLost(error) { throw lost } }
        return sweep.removed
    }

    /// Which series' targets the gateways cannot run, with the reason; their repetitions are
    /// recorded as unsupported instead of being attempted.
    func probeTargets(_ names: Set<String>) throws -> [String: String] {
        let series = record.spec.series.filter { names.contains($0.name) }
        var probed = Set<TargetKind>(), verdicts: [TargetKind: String] = [:]
        // Each target once, in the spec's order (plans print the probes).
        for entry in series where probed.insert(entry.target).inserted { verdicts[entry.target] = try probe(entry.target) }
        return Dictionary(uniqueKeysWithValues: series.compactMap { entry in verdicts[entry.target].map { (entry.name, $0) } })
    }

    func probe(_ target: TargetKind) throws -> String? {
        for role in [HostRole.gw1, .gw2] {
            for operation in TunnelCommands.probe(target, on: role, program: testbed.tools[target.rawValue]?.rawValue) ?? [] {
                do {
                    let result = try hosts[role]!.perform(operation)
                    if !result.succeeded {
                        let program = ShellRenderer.command(operation).program
                        let what = target == .kernel && program == "ip" ? "kernel WireGuard is not available" : "\(program) is not usable"
                        return "\(what) on \(role): `\(operation)` exited \(result.status)\(result.stderrTail.isEmpty ? "" : ": " + result.stderrTail)"
                    }
                } catch {
                    // A host that does not answer says nothing about the target.
                    if let lost = confirmedLost(error) { throw lost }
                    return "probing \(target) on \(role): \(error)"
                }
            }
        }
        return nil
    }

    func collectMetadata() throws {
        struct Entry: Codable { var name: String; var command: String; var status: Int32; var stdout: String; var stderr: String }
        let testbed = self.testbed, hosts = self.hosts, store = self.store
        try onEachHostOrThrow(HostRole.allCases) { role in
            let nics = testbed.host(role).interfaces.values.map(\.name.rawValue).sorted()
            let entries = try MetadataCommands.host(nics: nics).map { name, command -> Entry in
                let result = try hosts[role]!.perform(command)
                return Entry(name: name, command: command.description, status: result.status, stdout: result.stdout, stderr: result.stderr)
            }
            try store.writeJSON(entries, to: RunLayout.metadata(role))
        }
    }

    /// The crypto floor as `wgbench run` measures it: OpenSSL on one core of the gateway's machine.
    public static let cryptoFloor: FloorMeasurement = { host, roles in GatewayCryptoFloor.measure(on: host, roles: roles) }

    /// The quiet-machine check: each host's readings and warnings, recorded and logged; with
    /// `strict`, a warning stops the run before anything is changed on the hosts.
    func checkQuietness(_ preflight: PreflightSpec) throws {
        let hosts = self.hosts
        let reports = try onEachHostOrThrow(preflight.hosts) { role in
            try hosts[role]!.read(.preflight(host: role.rawValue, spec: preflight))
        }
        try store.writeJSON(reports, to: RunLayout.preflight)
        let warnings = reports.flatMap { report in report.warnings.map { "\(report.host): \($0)" } }
        for warning in warnings { log("preflight: \(warning)") }
        if warnings.isEmpty { log("preflight: \(preflight.hosts.map(\.rawValue).joined(separator: ", ")) quiet") }
        if preflight.strict && !warnings.isEmpty {
            throw ProvisioningError.notQuiet(warnings: warnings)
        }
    }

    /// Reads each gateway's topology (placement resolves against it) and records it.
    func readTopology() throws {
        let testbed = self.testbed, hosts = self.hosts
        let read = try onEachHostOrThrow([HostRole.gw1, .gw2]) { role -> (HostRole, HostTopology) in
            let nics = testbed.host(role).interfaces.values.map(\.name.rawValue).sorted()
            return (role, try hosts[role]!.read(.topology(nics: nics)))
        }
        topology = Dictionary(uniqueKeysWithValues: read)
        try store.writeJSON(["gw1": topology[.gw1]!, "gw2": topology[.gw2]!], to: RunLayout.topology)
    }

    /// Copies the testbed's `upload:` programs to the gateways, if a series of this run needs them.
    func uploadTools() throws {
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
    func measureCostContext() throws -> CPUCostContext {
        struct Entry: Codable { var name: String; var stdout: String }
        let bootID = { (role: HostRole) throws(UnreadableRunFile) in
            try self.store.readJSONIfPresent([Entry].self, from: RunLayout.metadata(role))?.first { $0.name == "boot_id" }?.stdout
        }
        let shared = CPUCost.sameMachine(bootID: try bootID(.gw1), bootID: try bootID(.gw2))
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
}
