import Foundation
import WGBenchCore
import WGBenchRemote

/// `wgbench plan`: every command a run would execute, per stage and host, without connecting.
/// It drives the real engine against a `SimulatedTestbed` (one repetition per point, in sweep
/// order), so the plan is what a run does, not a second description of it. Where a run's
/// decisions depend on the host (ntuple support, which knob files the module has), the plan
/// assumes the paper's hardware: ntuple filters, `cpus` queues per NIC, the patched module.
public enum Planner {
    public static func plan(spec original: ExperimentSpec, experimentFile: String, testbed: Testbed, cpus: Int) throws -> String {
        var spec = original
        spec.repetitions = 1
        spec.order = .sequential
        spec.retries = 0
        spec.seed = 0
        spec.pauseMilliseconds = 0
        let simulation = SimulatedTestbed()
        simulation.cpus = cpus
        simulation.ntuple = .disabled
        simulation.kernelKnobFiles = SimulatedTestbed.patchedKernelKnobFiles
        simulation.nics = Array(Set(testbed.orderedHosts.flatMap { $0.interfaces.values.map(\.name.rawValue) })).sorted()

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("wgbench-plan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let store = try ResultStore(directory: scratch)
        let record = RunRecord(id: "plan", experimentFile: experimentFile, spec: spec, seed: 0,
                               order: RunSchedule.order(spec, seed: 0), testbedFile: testbed.file,
                               testbedName: testbed.name.rawValue, started: Date(timeIntervalSince1970: 0))
        let transcript = Transcript(hosts: simulation.hosts)
        let runner = ExperimentRunner(testbed: testbed, hosts: simulation.remoteHosts, store: store, record: record)
        runner.onStage = { stage in transcript.section(stage) }
        _ = try runner.run()
        transcript.section("")
        return "# wgbench plan: \(original.name) (\(experimentFile)) on testbed \(testbed.name) (\(testbed.file))\n"
            + "# Every command a run executes, per point (one repetition shown; a run repeats each \(original.repetitions) times"
            + (original.pauseMilliseconds > 0 ? ", pausing \(SpecDuration(milliseconds: original.pauseMilliseconds)) between repetitions" : "") + ").\n"
            + "# Nothing was connected. Assumed: \(cpus) CPUs and rx queues per NIC, ntuple filters, the patched kernel module.\n"
            + "# Standard input is shown after <<<; private and public keys are made at run time.\n"
            + transcript.text
    }
}

/// Collects the commands of the simulated hosts into sections, in the order they ran.
private final class Transcript: @unchecked Sendable {
    private let hosts: [HostRole: FakeHost]
    private var seen: [HostRole: Int] = [:]
    private var current = "setup"
    private(set) var text = ""

    init(hosts: [HostRole: FakeHost]) { self.hosts = hosts }

    /// Closes the running section (printing its commands host by host) and opens the next.
    func section(_ name: String) {
        var body = ""
        for role in HostRole.allCases {
            let commands = hosts[role]!.commands
            for command in commands.dropFirst(seen[role] ?? 0) { body += Self.render(role, command) }
            seen[role] = commands.count
        }
        if !body.isEmpty { text += "\n## \(current)\n" + body }
        current = name
    }

    static func render(_ role: HostRole, _ command: Command) -> String {
        let prefix = "[\(role)] "
        guard let stdin = command.stdin else { return prefix + command.description + "\n" }
        // xargs -0 -n K: show each client as the iperf3 command line it becomes.
        if command.argv.first == "xargs", let n = command.argv.firstIndex(of: "-n").flatMap({ Int(command.argv[$0 + 1]) }), n > 0 {
            let words = String(decoding: stdin, as: UTF8.self).split(separator: "\0").map(String.init)
            let clients = stride(from: 0, to: words.count, by: n).map { Array(words[$0..<min($0 + n, words.count)]) }
            return prefix + command.description + " <<< one client per line:\n"
                + clients.map { "        iperf3 " + $0.map(ShellQuoting.quote).joined(separator: " ") + "\n" }.joined()
        }
        let input = String(decoding: stdin, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("PrivateKey = ") { return "PrivateKey = (generated at run time)" }
            if line.hasPrefix("PublicKey = ") { return "PublicKey = (generated at run time)" }
            return String(line)
        }.joined(separator: "\n").trimmingCharacters(in: .newlines)
        return input.contains("\n")
            ? prefix + command.description + " <<<\n" + input.split(separator: "\n", omittingEmptySubsequences: false).map { "        \($0)\n" }.joined()
            : prefix + command.description + " <<< \(input)\n"
    }
}
