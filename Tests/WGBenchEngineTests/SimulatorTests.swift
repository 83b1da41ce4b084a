import Foundation
import Testing
import WGBenchCore
import WGBenchRemote
@testable import WGBenchEngine
import WGBenchSimulation

/// The simulated testbed interprets host operations and nothing else: a command made outside
/// `ShellRenderer` reaches it as text it does not model, and fails, so a plan cannot show one.
struct SimulatorTests {
    /// Hosts that send one kind of operation as the command it renders to, as code that built its
    /// own command line instead of an operation would.
    final class Bypassing: RemoteHost, @unchecked Sendable {
        let inner: RemoteHost
        let bypass: @Sendable (HostOperation) -> Bool
        var name: String { inner.name }
        var address: String { inner.address }
        init(_ inner: RemoteHost, bypass: @escaping @Sendable (HostOperation) -> Bool) {
            self.inner = inner
            self.bypass = bypass
        }
        func run(_ command: Command) throws -> CommandResult { try inner.run(command) }
        func perform(_ operation: HostOperation) throws -> CommandResult {
            bypass(operation) ? try inner.run(ShellRenderer.command(operation)) : try inner.perform(operation)
        }
    }

    @Test func aCommandThatIsNoOperationFailsAndChangesNothing() throws {
        let lab = SimulatedTestbed()
        let result = try lab.hosts[.gw1]!.run(Command("ip", "link", "add", "wgb1-1", "type", "wireguard"))
        #expect(result.status == 127 && result.stderr.contains("not a host operation"))
        #expect(try lab.hosts[.gw1]!.check(.read(.links)).contains("wgb1-1") == false)
        // The same as an operation is modelled: the device appears, with the module's sysfs files.
        try lab.hosts[.gw1]!.check(.addWireGuardDevice(interface: "wgb1-1"))
        #expect(try lab.hosts[.gw1]!.check(.read(.links)).contains("wgb1-1"))
        #expect(lab.sysfsValue(.gw1, "wgb1-1/threaded") == "0")
    }

    @Test func aRunWhoseSamplerBypassesTheOperationsFailsEveryRepetitionSayingWhy() throws {
        let lab = recordedLab()
        let testbed = try TestbedLoader.parse(yaml: ExperimentRunnerTests.testbedYAML, file: "fake.yaml")
        let spec = try ExperimentRunnerTests.spec()
        let store = ResultStore.inMemory()
        let record = ExperimentRunner.newRecord(spec: spec, experimentFile: "t.yaml", testbed: testbed)
        let hosts = lab.remoteHosts.mapValues { host -> RemoteHost in
            Bypassing(host) { if case .sampleCPU = $0 { return true } else { return false } }
        }
        let runner = ExperimentRunner(testbed: testbed, hosts: hosts, store: store, record: record)
        let events = Events()
        runner.onEvent = { events.add($0) }
        let report = try runner.run()
        #expect(report.failed == record.order.count && report.executed == record.order.count)
        let failures = events.all.compactMap { event -> String? in
            if case .repetitionFailed(_, let reason) = event { return reason } else { return nil }
        }
        #expect(failures.count == record.order.count)
        #expect(failures.allSatisfy { $0.contains("not a host operation") }, "\(failures)")
    }

    final class Events: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [RunEvent] = []
        func add(_ event: RunEvent) { lock.lock(); events.append(event); lock.unlock() }
        var all: [RunEvent] { lock.lock(); defer { lock.unlock() }; return events }
    }
}

/// Userspace placement is read back: every thread of a pinned daemon must sit on its CPUs.
struct DaemonPinReadBackTests {
    @Test func aPinThatMovesNoThreadFailsTheRepetitionAndOneThatDoesIsRecorded() throws {
        let series = "  - {name: go, target: wireguard-go, knobs: {daemon_cpus: \"0\"}}"
        let testbed = try TestbedLoader.parse(yaml: ExperimentRunnerTests.testbedYAML, file: "fake.yaml")
        let spec = try ExperimentRunnerTests.spec(series: series)
        for ignored in [false, true] {
            let lab = recordedLab()
            if ignored { lab.ignoredWrites = ["taskset"] }
            let record = ExperimentRunner.newRecord(spec: spec, experimentFile: "t.yaml", testbed: testbed)
            let runner = ExperimentRunner(testbed: testbed, hosts: lab.remoteHosts, store: ResultStore.inMemory(), record: record)
            let report = try runner.run()
            let results = try runner.store.results(for: record.order)
            if ignored {
                #expect(report.failed == record.order.count)
                #expect(results.allSatisfy { $0.reason?.contains("the threads of the daemon of") == true && $0.reason?.contains("reads 0-1 after wgbench wrote 0") == true },
                        "\(results.map(\.reason))")
            } else {
                #expect(report.failed == 0)
                #expect(results.allSatisfy { $0.steps.contains { $0.step.hasPrefix("pin ") && $0.detail == "0, read back from 3 threads" } })
            }
        }
    }
}
