import ArgumentParser
import Foundation
import WGBenchCore
import WGBenchEngine
import WGBenchRemote

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an experiment (every series, point and repetition) and write a result directory.",
        discussion: """
            Exit status: 0 every repetition measured; 1 some failed or were not measured (the run names them and prints \
            the --resume command); 2 bad input, refused before any host was touched; 3 something was left on a host; \
            4 the testbed is busy (leased to another run); 130/143 interrupted by SIGINT/SIGTERM (cleaned up, resumable).
            """)

    @Argument(help: "The experiment file (YAML). Not needed with --resume.")
    var experiment: String?
    @Option(help: "The testbed file.") var testbed = "testbeds/local.yaml"
    @Option(help: "The result directory (default: results/<experiment>-<time>).") var out: String?
    @Option(help: "Finish the run in this result directory: what is missing, and what failed (see --keep-failed).") var resume: String?
    @Flag(help: "With --resume: keep repetitions recorded as failed instead of measuring them again.") var keepFailed = false
    @Flag(help: "Take over a stale lease on the testbed (one its holder stopped renewing) after reporting it.") var force = false

    func validate() throws {
        guard (experiment == nil) != (resume == nil) else {
            throw ValidationError("give an experiment file, or --resume <result directory>, not both")
        }
        if keepFailed && resume == nil { throw ValidationError("--keep-failed goes with --resume") }
    }

    func run() throws {
        // Everything the run needs is read and checked before any host is touched.
        let testbed = try TestbedLoader.load(path: self.testbed)
        let record: RunRecord
        if let resume {
            guard FileManager.default.fileExists(atPath: "\(resume)/run.json") else {
                throw BadInput("\(resume) is not a result directory of wgbench run (it has no run.json)")
            }
            record = try ResultStore.readRecord(in: URL(fileURLWithPath: resume))
            guard record.testbedName == testbed.name.rawValue else {
                throw BadInput("\(resume) was run on testbed '\(record.testbedName)', not '\(testbed.name)'")
            }
        } else {
            let spec = try ExperimentLoader.load(path: experiment!)
            record = ExperimentRunner.newRecord(spec: spec, experimentFile: experiment!, testbed: testbed)
        }
        let directory = URL(fileURLWithPath: resume ?? out ?? "results/\(record.id)")
        let resumeCommand = "wgbench run --resume \(directory.path) --testbed \(self.testbed)"

        let hosts = try connect(testbed)
        // The lease has sessions of its own: the run's may be busy with a traffic run for longer
        // than a renewal may wait.
        let lease = try TestbedLease.acquire(hosts: sessions(testbed), holder: TestbedLease.holder(run: record.id), force: force, log: say)
        lease.startRenewing()
        let store: ResultStore
        do {
            store = try ResultStore(directory: directory)
            if resume == nil { try store.writeRecord(record) }
        } catch {
            lease.release()
            throw error
        }
        say("results in \(store.directory.path)")

        let runner = ExperimentRunner(testbed: testbed, hosts: hosts, store: store, record: record, log: say,
                                      measureFloor: ExperimentRunner.cryptoFloor)
        runner.retryFailed = !keepFailed
        runner.lease = lease
        let guardian = SignalCleanup {
            // The run's sessions may be busy with a command: tear down over new ones.
            let residue = runner.abort(using: (try? connect(testbed)) ?? hosts)
            lease.release()
            say("torn down\(residue.isEmpty ? "; nothing left on the hosts" : ", but left: \(residue.joined(separator: "; "))")")
            say("resume with: \(resumeCommand)")
        }
        defer {
            guardian.cancel()
            lease.release()
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
        let failures = try store.results(for: record.order).filter { $0.status == .failed }
        if !failures.isEmpty {
            print("failed repetitions (\(failures.count)):")
            for result in failures {
                print("  \(result.key): \((result.reason ?? "?").split(separator: "\n").first ?? "") (\(result.attempts) attempt(s))")
            }
        }
        if case .leaseLost = report.stop {
            print("residue check: skipped (the testbed is another run's now)")
        } else {
            print(report.residue.isEmpty ? "residue check: hosts clean" : "residue check: LEFT ON HOSTS: \(report.residue.joined(separator: "; "))")
        }
        print("results: \(store.directory.path)")
        // The line people want, last of the summary.
        for line in RunSummary.relativeLines(report.summary, ratios: report.ratios, baseline: record.spec.baseline) { print(line) }
        if let stop = report.stop {
            say("stopped: \(stop)")
            if case .hostLost(let lost) = stop {
                say("\(lost.host) was not torn down; once it answers again, resume: the sweep at the start removes what is left on it")
            }
        }
        let missing = try record.order.count - store.results(for: record.order).filter { $0.status != .failed }.count
        if report.stop != nil || missing > 0 {
            say("\(missing) of \(record.order.count) repetitions still to measure; resume with: \(resumeCommand)")
        }
        let status = ExitStatus.of(report)
        if status != .ok { throw ExitCode(status.rawValue) }
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

/// A session to every host, opened on first use.
func sessions(_ testbed: Testbed) -> [HostRole: RemoteHost] {
    Dictionary(uniqueKeysWithValues: HostRole.allCases.map { ($0, SSHHost(SSHEndpoint(testbed: testbed, role: $0)) as RemoteHost) })
}
