import Foundation
import WGBenchCore
import WGBenchRemote

/// One repetition of one point: iperf3 servers on drain, then clients on source and CPU samplers
/// on the sampled hosts at the same moment, then the raw outputs collected into the run directory.
struct TrafficRun {
    let hosts: [HostRole: RemoteHost]
    let spec: ExperimentSpec
    let store: ResultStore
    /// Per-host scratch directory for this attempt, made fresh (never appended to) and removed afterwards.
    let workDirectory: String

    struct Outcome {
        var flows: [Iperf3Result]
        var cpu: [String: [CoreUsage]]
        var samplerCPUSeconds: [String: Double]
        var sampledSeconds: Double?
        var steadyFrom: Double?
        var saturation: [String: [SaturationOnset]] = [:]
        /// Why the repetition failed, or nil.
        var failure: String?
    }

    func run(plan: TrafficPlan, key: RunKey) throws -> Outcome {
        let source = hosts[.source]!, drain = hosts[.drain]!
        let traffic = spec.traffic
        for host in [source, drain] { try host.check(HostFolders.fresh(workDirectory)) }
        defer { cleanUp(plan) }

        for flow in plan.flows { try drain.check(IperfCommands.server(flow, directory: workDirectory)) }
        try waitForServers(plan)

        // Clients and samplers start together: the first sample marks the start of the traffic.
        enum Job { case clients, sampler(HostRole) }
        let sampled = spec.sampling.hosts
        let jobs: [Job] = [.clients] + sampled.map { .sampler($0) }
        let sampler = SamplerCommand.command(omitSeconds: traffic.omitSeconds, durationSeconds: traffic.durationSeconds,
                                             intervalMilliseconds: spec.sampling.intervalMilliseconds)
        let hosts = self.hosts, workDirectory = self.workDirectory
        let results = onEachHost(jobs) { job -> CommandResult in
            switch job {
            case .clients: return try hosts[.source]!.perform(IperfCommands.clients(plan.flows, traffic: traffic, directory: workDirectory))
            case .sampler(let role): return try hosts[role]!.perform(sampler)
            }
        }

        var outcome = Outcome(flows: [], cpu: [:], samplerCPUSeconds: [:], sampledSeconds: nil, failure: nil)
        let clientResult = try results[0].get()
        for flow in plan.flows {
            let client = try source.perform(.read(.file(IperfCommands.clientLog(flow, directory: workDirectory))))
            try store.write(client.stdout, to: "\(key.directory)/client-\(flow.index).json")
            let parsed = Iperf3Parser.parse(client.stdout) ?? Iperf3Result(error: "no iperf3 result (client log \(client.succeeded ? "unparsable" : "missing"))")
            outcome.flows.append(parsed)
            if let server = try serverLog(flow) { try store.write(server, to: "\(key.directory)/server-\(flow.index).json") }
        }
        for (index, role) in sampled.enumerated() {
            switch results[index + 1] {
            case .success(let result) where !result.succeeded:
                // No CPU figures without the sampler: the repetition says so rather than showing none.
                outcome.failure = "CPU sampler on \(role) exited \(result.status): \(result.stderrTail)"
            case .success(let result):
                try store.write(result.stdout, to: "\(key.directory)/cpu-\(role).txt")
                let samples = ProcStatParser.samples(result.stdout)
                if let window = SamplerCommand.steadyWindow(samples, warmUpSeconds: traffic.omitSeconds,
                                                            intervalMilliseconds: spec.sampling.intervalMilliseconds) {
                    outcome.cpu[role.rawValue] = ProcStatParser.usage(from: window.from, to: window.to)
                    outcome.sampledSeconds = window.to.uptime - samples[0].uptime
                    outcome.steadyFrom = window.from.uptime - samples[0].uptime
                }
                if let timeline = CPUTimeline(samples: samples) { outcome.saturation[role.rawValue] = timeline.saturationOnsets }
                outcome.samplerCPUSeconds[role.rawValue] = ProcStatParser.samplerCPUSeconds(result.stdout)
            case .failure(let error):
                // A host that cannot be reached is the run's problem, not this repetition's.
                if HostFault.host(of: error) != nil { throw error }
                outcome.failure = "CPU sampler on \(role): \(error)"
            }
        }

        // Clients that failed may have written no log: their own words come with the flow's.
        let clients = clientResult.succeeded ? nil : "iperf3 clients exited \(clientResult.status): \(clientResult.stderrTail)"
        if let error = outcome.flows.enumerated().first(where: { $0.element.error != nil || ($0.element.bitsPerSecond ?? 0) <= 0 }) {
            outcome.failure = "flow \(error.offset): " + (error.element.error ?? "no throughput measured") + (clients.map { "; " + $0 } ?? "")
        } else if let clients {
            outcome.failure = clients
        }
        return outcome
    }

    /// Servers bind their flow's address and port; wait until all listen (they daemonize first).
    private func waitForServers(_ plan: TrafficPlan) throws {
        let wanted = Set(plan.flows.map { "\($0.drain):\($0.port)" })
        for _ in 0..<100 {
            let listening = try hosts[.drain]!.read(.listeningSockets)
            if wanted.isSubset(of: listening) { return }
            usleep(20_000)
        }
        throw ProvisioningError.serversNotListening
    }

    /// A one-off server writes its JSON when its test ends, a moment after the client's.
    private func serverLog(_ flow: TrafficPlan.Flow) throws -> String? {
        for _ in 0..<50 {
            let result = try hosts[.drain]!.perform(.read(.file(IperfCommands.serverLog(flow, directory: workDirectory))))
            if result.succeeded, Iperf3Parser.parse(result.stdout) != nil { return result.stdout }
            usleep(20_000)
        }
        return nil
    }

    /// Kills servers still waiting (a client that never came) and removes the scratch files.
    private func cleanUp(_ plan: TrafficPlan) {
        let pidFiles = plan.flows.map { IperfCommands.serverPidFile($0, directory: workDirectory) }
        _ = try? hosts[.drain]!.perform(.killIperfServers(pidFiles: pidFiles))
        for role in [HostRole.source, .drain] { _ = try? hosts[role]!.perform(.removeTree(workDirectory)) }
    }
}
