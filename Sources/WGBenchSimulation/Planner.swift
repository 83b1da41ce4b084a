import Foundation
import WGBenchCore
import WGBenchRemote
import WGBenchEngine

/// `wgbench plan`: every command a run would execute, per stage and host, without connecting.
/// It drives the real engine against a `SimulatedTestbed` (one repetition per point, in sweep
/// order), so the plan is what a run does, not a second description of it. Where a run's
/// decisions depend on the host (topology, ntuple support, which knob files the module has), the
/// plan assumes the paper's hardware: `cpus` CPUs in `numaNodes` equal nodes with the NICs on node 0,
/// a queue per CPU, ntuple filters, the patched module with its real defaults. It measures nothing.
/// `points`, when given, limits the sweep to those points (golden files show a few).
public enum Planner {
    public static func plan(spec original: ExperimentSpec, experimentFile: String, testbed: Testbed, cpus: Int, numaNodes: Int = 2,
                            rxQueues: Int? = nil, points: ((Point) -> Bool)? = nil) throws -> String {
        var spec = original
        spec.repetitions = 1
        spec.order = .sequential
        spec.retries = 0
        spec.seed = 0
        spec.pauseMilliseconds = 0
        let simulation = SimulatedTestbed()
        simulation.cpus = cpus
        simulation.numaNodes = numaNodes
        simulation.rxQueues = rxQueues
        simulation.ntuple = .disabled
        simulation.kernelModule = .patched
        simulation.nics = Array(Set(testbed.orderedHosts.flatMap { $0.interfaces.values.map(\.name.rawValue) })).sorted()

        // A plan touches nothing, this machine's disk included: the run's files stay in memory.
        let store = ResultStore.inMemory(name: "plan")
        var order = RunSchedule.order(spec, seed: 0)
        if let points { order = order.filter { points($0.point) } }
        let record = RunRecord(id: "plan", experimentFile: experimentFile, spec: spec, seed: 0,
                               order: order, testbedFile: testbed.file,
                               testbedName: testbed.name.rawValue, started: Date(timeIntervalSince1970: 0))
        let transcript = Transcript(hosts: simulation.hosts)
        let runner = ExperimentRunner(testbed: testbed, hosts: simulation.remoteHosts, store: store, record: record, log: { _ in })
        // A repetition that would fail shows in the plan with its reason.
        runner.onEvent = { event in transcript.note(["run: \(event)"]) }
        runner.makeNonce = { "n0nce" }  // the one random part of a plan, made constant
        runner.onStage = { stage in transcript.section(stage) }
        runner.onPlacement = { lines in transcript.note(lines.map { "placement: " + $0 }) }
        _ = try runner.run()
        transcript.section("")
        let header = "# wgbench plan: \(original.name) (\(experimentFile)) on testbed \(testbed.name) (\(testbed.file))\n"
            + orderDescription(original)
        return header + "# Every command a run executes, per point (one repetition shown; a run repeats each \(original.repetitions) times"
            + (original.pauseMilliseconds > 0 ? ", pausing \(SpecDuration(milliseconds: original.pauseMilliseconds)) between repetitions" : "") + ").\n"
            + "# Nothing was connected, nothing was measured. Assumed: \(cpus) CPUs in \(numaNodes) NUMA node(s) of equal size, the NICs on node 0"
            + " with \(rxQueues.map { "\($0) rx queue\($0 == 1 ? "" : "s") each" } ?? "an rx queue per CPU") and ntuple filters, the paper's patched kernel module with its defaults"
            + " (a new device: inline_en 1, masks on every CPU; a new peer: TX worker unset).\n"
            + "# Standard input is shown after <<<; private and public keys are made at run time.\n"
            + transcript.text
    }
}

extension Planner {
    /// How a run orders its repetitions, with the first round of a block order spelled out.
    static func orderDescription(_ spec: ExperimentSpec) -> String {
        let seed = spec.seed.map { "seed \($0)" } ?? "a random seed recorded in run.json"
        switch spec.order {
        case .blocks:
            let order = RunSchedule.order(spec, seed: spec.seed ?? 0)
            let round = order.prefix { $0.repetition == 1 }
            var blocks: [(Point, [String])] = []
            for key in round {
                if blocks.last?.0 == key.point { blocks[blocks.count - 1].1.append(key.series) } else { blocks.append((key.point, [key.series])) }
            }
            let shown = blocks.prefix(4).map { "\($0.0.id): \($0.1.joined(separator: ", "))" }.joined(separator: "; ")
            return "# Order: randomized blocks (\(seed)): \(spec.repetitions) rounds, each measuring every series once per point, points and series"
                + " in a fresh random order per round\(spec.baseline.map { "; ratios over \($0) per round" } ?? ""). Round 1"
                + (spec.seed == nil ? " with seed 0" : "") + ": \(shown)\(blocks.count > 4 ? "; ... (\(blocks.count) points)" : "").\n"
        case .shuffled:
            return "# Order: shuffled (\(seed)): each series together, its points and repetitions in random order.\n"
        case .sequential:
            return "# Order: sequential: series, points and repetitions in file order.\n"
        }
    }
}

/// Collects the commands of the simulated hosts into sections, in the order they ran.
private final class Transcript: @unchecked Sendable {
    private let hosts: [HostRole: SimulatedHost]
    private var seen: [HostRole: Int] = [:]
    private var current = "setup"
    private var notes: [String] = []
    private(set) var text = ""

    init(hosts: [HostRole: SimulatedHost]) { self.hosts = hosts }

    /// Closes the running section (printing its commands host by host) and opens the next.
    func section(_ name: String) {
        var body = ""
        for role in HostRole.allCases {
            let asked = hosts[role]!.asked
            for entry in asked.dropFirst(seen[role] ?? 0) { body += Self.render(role, entry) }
            seen[role] = asked.count
        }
        body = notes.map { "# \($0)\n" }.joined() + body
        if !body.isEmpty { text += "\n## \(current)\n" + body }
        current = name
        notes = []
    }

    /// Lines printed as comments at the top of the running section.
    func note(_ lines: [String]) { notes += lines }

    /// One line per command (keys made at run time shown as such); standard input after `<<<`.
    static func render(_ role: HostRole, _ asked: SimulatedHost.Asked) -> String {
        let prefix = "[\(role)] "
        var command = asked.command
        switch asked {
        case .operation(.setAllowedIPs(let interface, _, let allowed)):
            // A peer's public key is made at run time, like the private ones.
            command = ShellRenderer.command(.setAllowedIPs(interface: interface, peer: "(public key)", allowedIPs: allowed))
        case .operation(.setWireGuardConfig(let interface, var config)):
            config.privateKey = "(generated at run time)"
            config.peerPublicKey = "(generated at run time)"
            command = ShellRenderer.command(.setWireGuardConfig(interface: interface, config))
        case .operation(.runIperfClients(let clients, _)):
            // Each client as the iperf3 command line xargs makes of its arguments.
            return prefix + command.description + " <<< one client per line:\n"
                + clients.map { "        iperf3 " + ShellRenderer.iperfArguments($0).map(ShellQuoting.quote).joined(separator: " ") + "\n" }.joined()
        default:
            break
        }
        guard let stdin = command.stdin else { return prefix + command.description + "\n" }
        let input = String(decoding: stdin, as: UTF8.self).trimmingCharacters(in: .newlines)
        return input.contains("\n")
            ? prefix + command.description + " <<<\n" + input.split(separator: "\n", omittingEmptySubsequences: false).map { "        \($0)\n" }.joined()
            : prefix + command.description + " <<< \(input)\n"
    }
}
