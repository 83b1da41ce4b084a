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
    @OptionGroup var options: TestbedOptions
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
        let testbed = try options.load()
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
        let resumeCommand = "wgbench run --resume \(directory.path) --testbed \(options.testbed)"

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

        let outcome = RunOutcome(report: report, results: report.results, total: record.order.count,
                                 baseline: record.spec.baseline, resultsPath: store.directory.path, resumeCommand: resumeCommand)
        print(outcome.summary, terminator: "")
        for line in outcome.notes { say(line) }
        if outcome.status != .ok { throw ExitCode(outcome.status.rawValue) }
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
