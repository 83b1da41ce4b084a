import Foundation
import Testing
import WGBenchCore
import WGBenchRemote
@testable import WGBenchEngine
import WGBenchSimulation

/// What a run does when things break: a crashed run's leftovers swept first, a lost host stopping
/// the run, failed repetitions measured again on resume with every attempt's reason kept, a dead
/// daemon named at once, a local write failure stopping the run without a retry.
struct RunResilienceTests {
    static func spec(retries: Int = 0, tunnels: String = "[1, 2]") throws -> ExperimentSpec {
        try ExperimentLoader.parse(yaml: """
        name: t
        repetitions: 2
        order: sequential
        seed: 5
        retries: \(retries)
        traffic: {duration: 1s, omit: 0s}
        sweep: {tunnels: \(tunnels)}
        series:
          - {name: wg, target: wireguard-go}
        """, file: "t.yaml")
    }

    static func testbed() throws -> Testbed { try TestbedLoader.parse(yaml: ExperimentRunnerTests.testbedYAML, file: "fake.yaml") }

    /// A new run in a scratch directory; `log` sees every line the runner logs.
    static func runner(_ spec: ExperimentSpec, lab: SimulatedTestbed, store: ResultStore? = nil,
                       log: @escaping @Sendable (String) -> Void = { _ in }) throws -> ExperimentRunner {
        let testbed = try Self.testbed()
        let store = try store ?? ResultStore(directory: FileManager.default.temporaryDirectory.appendingPathComponent("wgb-resilience-\(UUID().uuidString)"))
        let record: RunRecord
        if store.exists("run.json") {
            record = try store.readRecord()
        } else {
            record = ExperimentRunner.newRecord(spec: spec, experimentFile: "t.yaml", testbed: testbed)
            try store.writeRecord(record)
        }
        let runner = ExperimentRunner(testbed: testbed, hosts: lab.remoteHosts, store: store, record: record, log: log)
        runner.reconnectPause = 0
        return runner
    }

    @Test func theSweepBeforeMeasuringRemovesWhatACrashedRunLeftAndSaysSo() throws {
        let lab = recordedLab()
        // A controller killed with -9: its tunnel, flow route and run folder are still on the hosts.
        _ = try lab.hosts[.gw1]!.perform(.addWireGuardDevice(interface: "wgb1-7"))
        _ = try lab.hosts[.gw1]!.perform(.replaceRoute(destination: "198.18.3.107/32", .device("wgb1-7")))
        _ = try lab.hosts[.drain]!.perform(HostFolders.prepare(runID: "old-run"))
        let report = try Self.runner(try Self.spec(), lab: lab).run()
        #expect(report.swept.contains("gw1: interface wgb1-7"), "\(report.swept)")
        #expect(report.swept.contains("drain: run folder /run/wgbench/runs/old-run"), "\(report.swept)")
        #expect(report.failed == 0 && report.residue == [] && report.stop == nil)
        #expect(lab.folders(.drain).isEmpty)
    }

    /// Every attempt gets a folder of its own on the hosts, made fresh: iperf3 appends to its
    /// log file, and output of an earlier attempt in the same folder made results unparsable.
    @Test func everyAttemptHasAFreshFolderOfItsOwn() throws {
        let lab = recordedLab()
        lab.failing = { _, operation in
            if case .runIperfClients = operation { return "iperf3: error - unable to connect" } else { return nil }
        }
        let runner = try Self.runner(try Self.spec(retries: 1), lab: lab)
        _ = try runner.run()
        let fresh = lab.commands(.source).filter { $0.contains(" fresh ") }.map { String($0.split(separator: " ").last!) }
        #expect(fresh.count == 8)  // 4 repetitions x 2 attempts
        #expect(Set(fresh).count == 8)
        #expect(fresh.allSatisfy { $0.hasPrefix("/run/wgbench/runs/\(runner.record.id)/wg-tunnels-") })
    }

    @Test func aLostHostStopsTheRunTearsDownTheOthersAndResumeFinishesOnceItIsBack() throws {
        let lab = recordedLab()
        let spec = try Self.spec()
        let first = try Self.runner(spec, lab: lab) { line in
            if line.hasPrefix("[1/4]") { lab.lost = [.gw2] }  // gw2's sshd dies after the first repetition
        }
        let report = try first.run()
        guard case .hostLost(let lost) = report.stop else { Issue.record("no stop: \(String(describing: report.stop))"); return }
        #expect(lost.host == .gw2 && lost.reason.contains("3 reconnect attempts"))
        #expect(report.executed == 1)
        // Nothing was recorded as failed: the repetitions after it are still to measure.
        let recorded = (try first.store.results(for: first.record.order))
        #expect(recorded.count == 1 && recorded.allSatisfy { $0.status == .ok })
        #expect(ExitStatus.of(report) == .failed)
        // gw1 was torn down; gw2 was not touched after it was lost.
        #expect(!lab.commands(.gw1).suffix(20).isEmpty && report.residue.isEmpty)
        #expect(lab.commands(.gw1).last == HostFolders.sweep(remove: false).description)

        lab.lost = []
        let second = try Self.runner(spec, lab: lab, store: first.store)
        #expect((try second.pending).count == 3)
        let resumed = try second.run()
        #expect(resumed.executed == 3 && resumed.failed == 0 && resumed.stop == nil)
        #expect(resumed.swept.contains("gw2: interface wgb2-1"), "\(resumed.swept)")  // left when gw2 went away
        #expect((try second.store.results(for: second.record.order)).allSatisfy { $0.status == .ok })
    }

    @Test func resumeMeasuresFailedRepetitionsAgainAndKeepsEveryAttemptsReason() throws {
        let lab = recordedLab()
        lab.failing = { _, operation in
            if case .runIperfClients = operation { return "iperf3: error - the server is busy" } else { return nil }
        }
        let spec = try Self.spec(retries: 1)
        let first = try Self.runner(spec, lab: lab)
        #expect(try first.run().failed == 4)

        lab.failing = nil
        let keeping = try Self.runner(spec, lab: lab, store: first.store)
        keeping.retryFailed = false
        #expect((try keeping.pending).isEmpty)

        let again = try Self.runner(spec, lab: lab, store: first.store)
        #expect((try again.pending).count == 4)
        let report = try again.run()
        #expect(report.executed == 4 && report.failed == 0)
        for result in (try again.store.results(for: again.record.order)) {
            #expect(result.status == .ok && result.attempts == 3)
            #expect(result.attemptLog.map { $0.failure == nil } == [false, false, true])
            #expect(result.attemptLog[0].failure?.contains("the server is busy") == true)
        }
    }

    @Test func aDeadDaemonFailsTheRepetitionAtOnceNamingHostDaemonAndLog() throws {
        let lab = recordedLab()
        let spec = try Self.spec(tunnels: "[1]")
        let runner = try Self.runner(spec, lab: lab) { line in
            if line.hasPrefix("[1/2]") { lab.killDaemon(.gw2, "wgb2-1") }
        }
        let report = try runner.run()
        #expect(report.failed == 1)
        let failed = try #require((try runner.store.results(for: runner.record.order)).last)
        let reason = failed.reason ?? ""
        #expect(reason.hasPrefix("gw2: the wireguard-go daemon of wgb2-1 is not running before traffic (its interface is gone too)"), "\(reason)")
        #expect(reason.contains("the last lines of its log (/run/wgbench/runs/\(runner.record.id)/daemon-wgb2-1.log):\n    simulated log"))
        // No traffic was started for it: one client run, the first repetition's.
        #expect(lab.commands(.source).filter { $0.hasPrefix("xargs") }.count == 1)
    }

    /// A daemon that dies during traffic stalls iperf3 until its time limit; the repetition's reason
    /// names the daemon, not the timeout on source.
    @Test func aDaemonDeadDuringTrafficIsNamedInsteadOfTheClientsTimeout() throws {
        let lab = recordedLab()
        lab.before = { role, operation in
            guard role == .source, case .runIperfClients = operation else { return }
            lab.killDaemon(.gw1, "wgb1-1")
            throw RemoteError.timedOut(host: "source", address: "simulated-source", command: "xargs ...", seconds: 31)
        }
        let runner = try Self.runner(try Self.spec(tunnels: "[1]"), lab: lab)
        _ = try runner.run()
        let reason = (try runner.store.results(for: runner.record.order)).first?.reason ?? ""
        #expect(reason.hasPrefix("gw1: the wireguard-go daemon of wgb1-1 is not running after traffic"), "\(reason)")
    }

    @Test func aRetryAfterADeadDaemonMakesTheTunnelAnew() throws {
        let lab = recordedLab()
        let runner = try Self.runner(try Self.spec(retries: 1, tunnels: "[1]"), lab: lab) { line in
            if line.hasPrefix("[1/2]") { lab.killDaemon(.gw1, "wgb1-1") }
        }
        let report = try runner.run()
        #expect(report.failed == 0)
        let second = try #require((try runner.store.results(for: runner.record.order)).last)
        #expect(second.attempts == 2 && second.attemptLog[0].failure?.contains("wireguard-go daemon of wgb1-1") == true)
    }

    /// A write the controller cannot make stops the run at once: not retried as if a host had
    /// failed, no temporary file left, the hosts torn down, the run resumable.
    @Test func aLocalWriteFailureStopsTheRunWithoutARetry() throws {
        let lab = recordedLab()
        let spec = try Self.spec(retries: 2)
        let runner = try Self.runner(spec, lab: lab)
        let next = runner.record.order[1]
        // Where the second repetition's files go, a file instead of a directory: ENOTDIR.
        try FileManager.default.createDirectory(at: runner.store.url(next.directory).deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data().write(to: runner.store.url(next.directory))
        let report = try runner.run()
        guard case .localWrite(let error) = report.stop else { Issue.record("\(String(describing: report.stop))"); return }
        #expect(error.code == ENOTDIR && error.path.hasSuffix(next.directory))
        #expect(error.description.contains("Not a directory (errno 20)"))
        #expect(lab.commands(.source).filter { $0.hasPrefix("xargs") }.count == 2)  // the second repetition's one attempt, no retry
        #expect(report.residue.isEmpty)
        let files = FileManager.default.enumerator(atPath: runner.store.directory.path)!.compactMap { $0 as? String }
        #expect(!files.contains { $0.contains(".tmp-") })
        #expect((try runner.store.readResult(next)) == nil)
    }
}
