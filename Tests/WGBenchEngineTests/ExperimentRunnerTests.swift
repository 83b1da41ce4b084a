import Foundation
import Testing
import WGBenchCore
import WGBenchRemote
@testable import WGBenchEngine

/// The engine against a fake lab: order, teardown, resume, failures and placement decisions.
/// A simulated testbed answering iperf3 and the sampler with output recorded from the real tools.
func recordedLab() -> SimulatedTestbed {
    let lab = SimulatedTestbed()
    let fixture = { (name: String) -> String in
        let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!
        return try! String(contentsOf: url, encoding: .utf8)
    }
    let client = fixture("iperf3-tcp-client.json"), server = fixture("iperf3-tcp-server.json")
    lab.iperfLog = { $0 ? client : server }
    lab.samplerOutput = fixture("sampler-output.txt")
    return lab
}

struct ExperimentRunnerTests {
    static let testbedYAML = """
    name: fake
    ssh: {identity: /dev/null}
    hosts:
      source: {ssh: {address: h1}, interfaces: {ingress: {name: eth1, address: 198.18.1.2/24}}}
      gw1: {ssh: {address: h2}, interfaces: {ingress: {name: eth1, address: 198.18.1.1/24}, underlay: {name: eth2, address: 198.18.2.1/24}}}
      gw2: {ssh: {address: h3}, interfaces: {underlay: {name: eth2, address: 198.18.2.2/24}, egress: {name: eth1, address: 198.18.3.1/24}}}
      drain: {ssh: {address: h4}, interfaces: {egress: {name: eth1, address: 198.18.3.2/24}}}
    """

    static func spec(_ extra: String = "", series: String = "  - {name: wg, target: wireguard-go}") throws -> ExperimentSpec {
        try ExperimentLoader.parse(yaml: """
        name: t
        repetitions: 2
        seed: 5
        traffic: {duration: 1s, omit: 0s}
        sweep: {tunnels: [1, 3]}
        \(extra)
        series:
        \(series)
        """, file: "t.yaml")
    }

    func runner(_ spec: ExperimentSpec, lab: SimulatedTestbed, directory: URL? = nil, testbedExtra: String = "") throws -> ExperimentRunner {
        let testbed = try TestbedLoader.parse(yaml: Self.testbedYAML + "\n" + testbedExtra, file: "fake.yaml")
        let dir = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("wgb-engine-\(UUID().uuidString)")
        let store = try ResultStore(directory: dir)
        let record = ExperimentRunner.newRecord(spec: spec, experimentFile: "t.yaml", testbed: testbed)
        try store.writeRecord(record)
        return ExperimentRunner(testbed: testbed, hosts: lab.remoteHosts, store: store, record: record)
    }

    @Test func runsEveryRepetitionInTheRecordedOrderAndLeavesNothing() throws {
        let lab = recordedLab()
        let runner = try self.runner(try Self.spec(), lab: lab)
        let report = try runner.run()
        #expect(report.executed == 4 && report.failed == 0)
        #expect(report.residue == [])
        let results = runner.store.results(for: runner.record.order)
        #expect(results.map(\.key) == runner.record.order)
        #expect(results.allSatisfy { $0.status == .ok && ($0.throughput ?? 0) > 0 })
        // Three tunnels need three daemons per gateway, and the last point's teardown removes them.
        let gw1 = lab.commands(.gw1)
        for t in 1...3 { #expect(gw1.contains("env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go wgb1-\(t)")) }
        #expect(lab.commands(.gw2).contains { $0.hasPrefix("sh -c 'ip link del \"$1\"") && $0.hasSuffix(" sh wgb2-3") })  // and waits for the daemon
        // Keys travel on stdin only.
        #expect(!gw1.contains { $0.contains("PrivateKey") })
        #expect(lab.hosts[.gw1]!.commands.contains { String(decoding: $0.stdin ?? [], as: UTF8.self).contains("PrivateKey = ") })
        // Raw data beside every result.
        let first = runner.record.order[0]
        #expect(runner.store.exists("\(first.directory)/client-0.json"))
        #expect(runner.store.exists("\(first.directory)/cpu-gw1.txt"))
        #expect(runner.store.exists("metadata/gw2.json"))
        #expect(runner.store.exists("summary.csv"))
        #expect(report.summary.count == 2)
    }

    @Test func provisioningChangesOnlyWhatDiffers() throws {
        let lab = recordedLab()
        let spec = try Self.spec("order: sequential")
        _ = try runner(spec, lab: lab).run()
        // tunnels=1 twice, then tunnels=3 twice: tunnel 1 is made once, 2 and 3 once each.
        let creations = lab.commands(.gw1).filter { $0.contains("wireguard-go wgb1-") }
        #expect(creations == ["env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go wgb1-1",
                              "env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go wgb1-2",
                              "env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go wgb1-3"])
    }

    /// Switching between two tunnel targets with the same flows remakes the tunnels, which takes
    /// their routes with them: the flows must be routed again (the simulation fails traffic that
    /// would bypass the tunnels).
    @Test func switchingTunnelTargetsRoutesFlowsAgain() throws {
        let lab = recordedLab()
        let spec = try Self.spec("order: sequential", series: "  - {name: go, target: wireguard-go}\n  - {name: swift, target: wireguard-swift}")
        let runner = try self.runner(spec, lab: lab)
        let report = try runner.run()
        #expect(report.failed == 0, "\(runner.store.results(for: runner.record.order).compactMap(\.reason))")
        let gw1 = lab.commands(.gw1)
        let swiftStart = try #require(gw1.firstIndex { $0.hasPrefix("wireguard-swift") })
        #expect(gw1[swiftStart...].contains("ip route replace 198.18.3.100/32 dev wgb1-1"))
    }

    @Test func resumeSkipsWhatIsDone() throws {
        let lab = recordedLab()
        let spec = try Self.spec()
        let first = try runner(spec, lab: lab)
        // Pretend the run stopped after two repetitions: remove the other results.
        _ = try first.run()
        for key in first.record.order.suffix(2) { try FileManager.default.removeItem(at: first.store.url(first.store.resultPath(key))) }
        let secondLab = recordedLab()
        let again = ExperimentRunner(testbed: try TestbedLoader.parse(yaml: Self.testbedYAML, file: "fake.yaml"),
                                     hosts: secondLab.remoteHosts, store: first.store, record: try first.store.readRecord())
        #expect(again.pending == Array(first.record.order.suffix(2)))
        let report = try again.run()
        #expect(report.executed == 2)
        #expect(again.store.results(for: again.record.order).count == 4)
    }

    @Test func aFailingTargetIsRetriedThenRecordedAsFailedWithItsReason() throws {
        let lab = recordedLab()
        lab.failing["wireguard-go wgb1-"] = "wireguard-go: cannot create TUN"
        let runner = try self.runner(try Self.spec("retries: 2"), lab: lab)
        let report = try runner.run()
        #expect(report.failed == 4)
        let result = try #require(runner.store.results(for: runner.record.order).first)
        #expect(result.status == .failed && result.attempts == 3)
        #expect(result.reason?.contains("cannot create TUN") == true)
        #expect(report.summary.allSatisfy { $0.failed == 2 && $0.throughputGbps == nil })
        #expect(report.residue == [])
    }

    @Test func seriesTheGatewaysCannotRunAreRecordedAsUnsupportedNotAttempted() throws {
        let lab = recordedLab()
        lab.failing["type wireguard"] = "Error: Unknown device type."
        let spec = try Self.spec(series: "  - {name: wg, target: wireguard-go}\n  - {name: vanilla, target: kernel}")
        let runner = try self.runner(spec, lab: lab)
        let report = try runner.run()
        let results = runner.store.results(for: runner.record.order)
        #expect(results.filter { $0.key.series == "vanilla" }.allSatisfy {
            $0.status == .unsupported && $0.attempts == 0 && ($0.reason ?? "").contains("kernel WireGuard is not available on gw1")
        })
        #expect(results.filter { $0.key.series == "wg" }.allSatisfy { $0.status == .ok })
        #expect(report.summary.filter { $0.series == "vanilla" }.allSatisfy { $0.unsupported == 2 && $0.failed == 0 })
        #expect(!lab.commands(.gw1).contains("ip link add wgb1-1 type wireguard"))
        #expect(report.executed == 4)
    }

    /// `upload:` copies the daemon to both gateways in chunks, checks it there, runs the series
    /// from the copy, and removes the copy at the end.
    @Test func anUploadedDaemonIsCheckedRunAndRemoved() throws {
        let lab = recordedLab()
        let binary = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-upload-\(UUID().uuidString)")
        try Data((0..<600_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: binary)  // three chunks
        defer { try? FileManager.default.removeItem(at: binary) }
        let spec = try Self.spec(series: "  - {name: swift, target: wireguard-swift}")
        let runner = try self.runner(spec, lab: lab, testbedExtra: "upload:\n  wireguard-swift: \(binary.path)\n")
        let report = try runner.run()
        #expect(report.executed == 4 && report.failed == 0)
        let path = "/run/wgbench/runs/\(runner.record.id)/wireguard-swift"
        for role in [HostRole.gw1, .gw2] {
            let commands = lab.commands(role)
            #expect(commands.filter { $0.hasPrefix("sh -c 'cat >> \"$1\"'") }.count == 3)
            #expect(commands.contains("sha256sum \(path).part") && commands.contains("\(path) --version"))
            #expect(commands.contains("\(path) wgb\(role == .gw1 ? 1 : 2)-1"))
            #expect(commands.contains("rm -rf /run/wgbench/runs/\(runner.record.id)"))
        }
    }

    @Test func anUploadThatArrivesDamagedStopsTheRunBeforeAnySeries() throws {
        let lab = recordedLab()
        lab.failing["sha256sum"] = "sha256sum: cannot read"
        let binary = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-upload-\(UUID().uuidString)")
        try Data([1, 2, 3]).write(to: binary)
        defer { try? FileManager.default.removeItem(at: binary) }
        let spec = try Self.spec(series: "  - {name: swift, target: wireguard-swift}")
        let runner = try self.runner(spec, lab: lab, testbedExtra: "upload:\n  wireguard-swift: \(binary.path)\n")
        #expect(throws: (any Error).self) { try runner.run() }
        #expect(!lab.commands(.gw1).contains { $0.contains("wgb1-1") })
        #expect(lab.commands(.gw1).contains("rm -rf /run/wgbench/runs/\(runner.record.id)"))
    }

    @Test func vethSteeringIsRecordedAsUnsupported() throws {
        let lab = recordedLab()
        let runner = try self.runner(try Self.spec(), lab: lab)
        _ = try runner.run()
        let steps = runner.store.results(for: runner.record.order).flatMap(\.steps)
        #expect(steps.contains { $0.host == .gw1 && $0.status == .unsupported && $0.detail.contains("no ntuple") })
        #expect(steps.contains { $0.host == .gw2 && $0.status == .unsupported })
    }

    @Test func requiredSteeringFailsBeforeAnyTraffic() throws {
        let lab = recordedLab()
        let runner = try self.runner(try Self.spec("placement: {steering: required}\nretries: 0"), lab: lab)
        let report = try runner.run()
        #expect(report.failed == 4)
        let reason = runner.store.results(for: runner.record.order).first?.reason ?? ""
        #expect(reason.contains("steering is required"))
        #expect(!lab.commands(.source).contains { $0.hasPrefix("xargs") })
        #expect(!lab.commands(.drain).contains { $0.hasPrefix("iperf3 -s") })
    }

    @Test func kernelKnobsAreWrittenAndReadBackAndMissingOnesFail() throws {
        let lab = recordedLab()
        let spec = try Self.spec(series: "  - {name: thr, target: kernel, knobs: {threaded: 1}}\n  - {name: inl, target: kernel, knobs: {inline_en: 1}}")
        let runner = try self.runner(spec, lab: lab)
        _ = try runner.run()
        let results = runner.store.results(for: runner.record.order)
        let threaded = results.filter { $0.key.series == "thr" }
        #expect(threaded.allSatisfy { $0.status == .ok })
        #expect(threaded.first?.knobs["gw1:wgb1-1:threaded"] == "0")  // what the fake reads back, recorded as read
        #expect(threaded.first?.knobs["gw1:wgb1-1:inline_en"] == "absent")
        #expect(lab.hosts[.gw2]!.commands.contains { $0.argv == ["tee", "/sys/class/net/wgb2-1/threaded"] && $0.stdin == Array("1\n".utf8) })
        let inline = results.filter { $0.key.series == "inl" }
        #expect(inline.allSatisfy { $0.status == .failed && ($0.reason ?? "").contains("inline_en does not exist") })
    }
}
