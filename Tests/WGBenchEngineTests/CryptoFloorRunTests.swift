import Foundation
import Testing
import WGBenchCore
import WGBenchRemote
@testable import WGBenchEngine
import WGBenchSimulation

/// The crypto floor as a run measures it: on the gateways (once where they are one machine),
/// recorded per machine, and recorded as unavailable, with the reason, where it cannot be.
struct CryptoFloorRunTests {
    func runner(lab: SimulatedTestbed, measureFloor: ExperimentRunner.FloorMeasurement?) throws -> ExperimentRunner {
        let testbed = try TestbedLoader.parse(yaml: ExperimentRunnerTests.testbedYAML, file: "fake.yaml")
        let store = try ResultStore(directory: FileManager.default.temporaryDirectory.appendingPathComponent("wgb-floor-\(UUID().uuidString)"))
        let record = ExperimentRunner.newRecord(spec: try ExperimentRunnerTests.spec(), experimentFile: "t.yaml", testbed: testbed)
        try store.writeRecord(record)
        return ExperimentRunner(testbed: testbed, hosts: lab.remoteHosts, store: store, record: record, measureFloor: measureFloor)
    }

    final class Calls: @unchecked Sendable {
        var made: [(host: String, roles: [HostRole])] = []
    }

    /// The simulated gateways share a boot id: one machine, one measurement, standing for both.
    @Test func oneMachineIsMeasuredOnceOnGw1() throws {
        let calls = Calls()
        let floor = CPUCostContext.Floor(host: "sim", roles: ["gw1", "gw2"], packetBytes: 1420, sealSecondsPerGB: 0.5, openSecondsPerGB: 0.5)
        let lab = recordedLab()  // the hosts hold it unowned
        let runner = try runner(lab: lab) { host, roles in
            calls.made.append((host.name, roles))
            return .measured(floor)
        }
        _ = try runner.run()
        #expect(calls.made.map(\.host) == ["gw1"] && calls.made.map(\.roles) == [[.gw1, .gw2]])
        let cost = try runner.store.readJSON(CPUCostContext.self, from: "metadata/cpu-cost.json")
        #expect(cost.floors == [floor] && cost.unavailableFloors.isEmpty && cost.gatewaysShareMachine)
    }

    /// The real measurement against the simulator, which answers as `openssl speed -mr` prints:
    /// one floor, labelled with the host it ran on.
    @Test func theRealMeasurementRecordsTheFloorOfTheHostItRanOn() throws {
        let lab = recordedLab()
        let runner = try runner(lab: lab, measureFloor: ExperimentRunner.cryptoFloor)
        #expect(try runner.run().failed == 0)
        let cost = try runner.store.readJSON(CPUCostContext.self, from: "metadata/cpu-cost.json")
        #expect(cost.floors.count == 1 && cost.floors.first?.host == "simulated-gw1" && cost.floors.first?.roles == ["gw1", "gw2"])
        #expect(cost.unavailableFloors.isEmpty)
    }

    /// A gateway that cannot measure: the run goes on, and the floor is recorded as unavailable
    /// with the gateway's answer, never made up.
    @Test func aGatewayThatCannotMeasureIsRecordedWithTheReason() throws {
        let lab = recordedLab()
        lab.failing = { _, operation in
            if case .read(.cryptoFloor) = operation { return "sh: 1: cannot fork" } else { return nil }
        }
        let runner = try runner(lab: lab, measureFloor: ExperimentRunner.cryptoFloor)
        let report = try runner.run()
        #expect(report.failed == 0)
        let cost = try runner.store.readJSON(CPUCostContext.self, from: "metadata/cpu-cost.json")
        #expect(cost.floors.isEmpty && cost.tunnelFloorSecondsPerGB == nil)
        #expect(cost.unavailableFloors.count == 1)
        #expect(cost.unavailableFloors.first?.roles == ["gw1", "gw2"])
        #expect(cost.unavailableFloors.first?.reason == "the measurement exited 1: sh: 1: cannot fork", "\(cost.unavailableFloors)")
    }

    /// This machine as a host: the script and openssl speed for real (about two seconds).
    final class ThisMachine: RemoteHost, @unchecked Sendable {
        let name = "gw1", address = "localhost"
        func run(_ command: Command) throws -> CommandResult { try LocalCommandRunner().run(command) }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
    func theScriptMeasuresAFloorHere() throws {
        let outcome = GatewayCryptoFloor.measure(on: ThisMachine(), roles: [.gw1])
        guard case .measured(let floor) = outcome else { Issue.record("no floor: \(outcome)"); return }
        #expect(floor.roles == ["gw1"] && floor.host == ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init))
        // ChaCha20-Poly1305 on one core: between 0.01 and 100 CPU-s/GB on any machine of this century.
        #expect((0.01...100).contains(floor.sealSecondsPerGB) && (0.01...100).contains(floor.openSecondsPerGB))
    }
}
