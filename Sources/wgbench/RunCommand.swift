import ArgumentParser
import Foundation
import WGBenchCore
import WGBenchEngine
import WGBenchRemote

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an experiment (every series, point and repetition) and write a result directory.")

    @Argument(help: "The experiment file (YAML). Not needed with --resume.")
    var experiment: String?
    @Option(help: "The testbed file.") var testbed = "testbeds/local.yaml"
    @Option(help: "The result directory (default: results/<experiment>-<time>).") var out: String?
    @Option(help: "Finish the interrupted run in this result directory.") var resume: String?

    func validate() throws {
        guard (experiment == nil) != (resume == nil) else {
            throw ValidationError("give an experiment file, or --resume <result directory>, not both")
        }
    }

    func run() throws {
        let testbed = try TestbedLoader.load(path: self.testbed)
        let store: ResultStore
        let record: RunRecord
        if let resume {
            store = try ResultStore(directory: URL(fileURLWithPath: resume))
            record = try store.readRecord()
            guard record.testbedName == testbed.name.rawValue else {
                throw ValidationError("\(resume) was run on testbed '\(record.testbedName)', not '\(testbed.name)'")
            }
        } else {
            let spec = try ExperimentLoader.load(path: experiment!)
            record = ExperimentRunner.newRecord(spec: spec, experimentFile: experiment!, testbed: testbed)
            store = try ResultStore(directory: URL(fileURLWithPath: out ?? "results/\(record.id)"))
            try store.writeRecord(record)
        }
        say("results in \(store.directory.path)")

        let hosts = try connect(testbed)
        let runner = ExperimentRunner(testbed: testbed, hosts: hosts, store: store, record: record, log: say,
                                      measureFloor: ExperimentRunner.cryptoFloor)
        let guardian = SignalCleanup {
            // The run's sessions may be busy with a command: tear down over new ones.
            let residue = runner.abort(using: (try? connect(testbed)) ?? hosts)
            say("torn down\(residue.isEmpty ? "; nothing left on the hosts" : ", but left: \(residue.joined(separator: "; "))")")
            say("resume with: wgbench run --resume \(store.directory.path) --testbed \(self.testbed)")
        }
        defer {
            guardian.cancel()
            // Close the sessions here, before exit() runs OpenSSL's clean-up.
            for host in hosts.values { (host as? SSHHost)?.disconnect() }
        }
        let report = try runner.run()

        print(RunSummary.table(report.summary), terminator: "")
        print(RunSummary.comparisons(report.summary, ratios: report.ratios), terminator: "")
        print("\(report.executed) repetitions run, \(report.failed) failed, in \(String(format: "%.1f", report.wallSeconds)) s", terminator: "")
        if let ratio = report.overheadRatio {
            print(String(format: "; wall time / (runs x (duration + omit)) = %.2f", ratio), terminator: "")
        }
        print()
        if let cost = report.samplerCoreFraction {
            // `times` counts in clock ticks (10 ms): say so when the cost is below one tick per run.
            print(String(format: "CPU sampler cost: %.3f%% of one core", cost * 100)
                  + (cost == 0 ? " (below the 10 ms resolution of its own accounting in every run)" : ""))
        }
        print(report.residue.isEmpty ? "residue check: hosts clean" : "residue check: LEFT ON HOSTS: \(report.residue.joined(separator: "; "))")
        print("results: \(store.directory.path)")
        // The line people want, last.
        for line in RunSummary.relativeLines(report.summary, ratios: report.ratios, baseline: record.spec.baseline) { print(line) }
        if !report.residue.isEmpty { throw ExitCode(3) }
    }
}

/// Opens an SSH session to every host at once, so an unreachable host is named before any work.
func connect(_ testbed: Testbed) throws -> [HostRole: RemoteHost] {
    let hosts = try onEachHostOrThrow(HostRole.allCases) { role -> SSHHost in
        let host = SSHHost(SSHEndpoint(testbed: testbed, role: role))
        try host.connect()
        return host
    }
    return Dictionary(uniqueKeysWithValues: zip(HostRole.allCases, hosts.map { $0 as RemoteHost }))
}
