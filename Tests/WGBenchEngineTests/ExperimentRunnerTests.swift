import Foundation
import Testing
import WGBenchCore
import WGBenchRemote
@testable import WGBenchEngine
import WGBenchSimulation

/// The engine against a fake lab: order, teardown, resume, failures and placement decisions.
/// A simulated testbed answering iperf3 and the sampler with output recorded from the real tools.
func recordedLab() -> SimulatedTestbed {
    let lab = SimulatedTestbed()
    let fixture = { (name: String) -> String in
        // Recorded tool output is kept once, with the parsers' tests.
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("WGBenchCoreTests/Fixtures/\(name)")
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
        let results = (try runner.store.results(for: runner.record.order))
        #expect(results.map(\.key) == runner.record.order)
        #expect(results.allSatisfy { $0.status == .ok && ($0.throughput ?? 0) > 0 })
        // Three tunnels need three daemons per gateway, and the last point's teardown removes them.
        let gw1 = lab.commands(.gw1)
        for t in 1...3 {
            #expect(gw1.contains { $0.hasPrefix("sh -c ") && $0.contains(" daemon /run/wgbench/runs/\(runner.record.id)/daemon-wgb1-\(t).log ")
                && $0.hasSuffix(" WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go wgb1-\(t)") })
        }
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
        let creations = lab.commands(.gw1).filter { $0.contains(" daemon ") }.map { $0.split(separator: " ").suffix(2).joined(separator: " ") }
        #expect(creations == ["wireguard-go wgb1-1", "wireguard-go wgb1-2", "wireguard-go wgb1-3"])
    }

    /// Switching between two tunnel targets with the same flows remakes the tunnels, which takes
    /// their routes with them: the flows must be routed again (the simulation fails traffic that
    /// would bypass the tunnels).
    @Test func switchingTunnelTargetsRoutesFlowsAgain() throws {
        let lab = recordedLab()
        let spec = try Self.spec("order: sequential", series: "  - {name: go, target: wireguard-go}\n  - {name: swift, target: wireguard-swift}")
        let runner = try self.runner(spec, lab: lab)
        let report = try runner.run()
        #expect(report.failed == 0, "\((try? runner.store.results(for: runner.record.order))?.compactMap(\.reason) ?? [])")
        let gw1 = lab.commands(.gw1)
        let swiftStart = try #require(gw1.firstIndex { $0.hasPrefix("sh -c ") && $0.hasSuffix("wireguard-swift wgb1-1") })
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
        #expect((try again.pending) == Array(first.record.order.suffix(2)))
        let report = try again.run()
        #expect(report.executed == 2)
        #expect((try again.store.results(for: again.record.order)).count == 4)
    }

    @Test func aFailingTargetIsRetriedThenRecordedAsFailedWithItsReason() throws {
        let lab = recordedLab()
        lab.failing = { _, operation in
            guard case .startDaemon(let launch) = operation, launch.target == .wireguardGo, launch.interface.hasPrefix("wgb1-") else { return nil }
            return "wireguard-go: cannot create TUN"
        }
        let runner = try self.runner(try Self.spec("retries: 2"), lab: lab)
        let report = try runner.run()
        #expect(report.failed == 4)
        let result = try #require((try runner.store.results(for: runner.record.order)).first)
        #expect(result.status == .failed && result.attempts == 3)
        #expect(result.reason?.contains("cannot create TUN") == true)
        #expect(report.summary.allSatisfy { $0.failed == 2 && $0.throughputGbps == nil })
        #expect(report.residue == [])
    }

    @Test func seriesTheGatewaysCannotRunAreRecordedAsUnsupportedNotAttempted() throws {
        let lab = recordedLab()
        lab.failing = { _, operation in
            if case .addWireGuardDevice = operation { return "Error: Unknown device type." } else { return nil }
        }
        let spec = try Self.spec(series: "  - {name: wg, target: wireguard-go}\n  - {name: vanilla, target: kernel}")
        let runner = try self.runner(spec, lab: lab)
        let report = try runner.run()
        let results = (try runner.store.results(for: runner.record.order))
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
            #expect(commands.contains { $0.hasPrefix("sh -c ") && $0.hasSuffix(" \(path) wgb\(role == .gw1 ? 1 : 2)-1") })
            #expect(commands.contains("rm -rf /run/wgbench/runs/\(runner.record.id)"))
        }
    }

    @Test func anUploadThatArrivesDamagedStopsTheRunBeforeAnySeries() throws {
        let lab = recordedLab()
        lab.failing = { _, operation in
            if case .read(.sha256) = operation { return "sha256sum: cannot read" } else { return nil }
        }
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
        let steps = (try runner.store.results(for: runner.record.order)).flatMap(\.steps)
        #expect(steps.contains { $0.host == .gw1 && $0.status == .unsupported && $0.detail.contains("no ntuple") })
        #expect(steps.contains { $0.host == .gw2 && $0.status == .unsupported })
    }

    @Test func requiredSteeringFailsBeforeAnyTraffic() throws {
        let lab = recordedLab()
        let runner = try self.runner(try Self.spec("placement: {steering: required}\nretries: 0"), lab: lab)
        let report = try runner.run()
        #expect(report.failed == 4)
        let reason = (try runner.store.results(for: runner.record.order)).first?.reason ?? ""
        #expect(reason.contains("steering is required"))
        #expect(!lab.commands(.source).contains { $0.hasPrefix("xargs") })
        #expect(!lab.commands(.drain).contains { $0.hasPrefix("iperf3 -s") })
    }

    /// Kernel state is never inherited: a series that sets nothing still writes threaded 0, and the
    /// patched module's knobs where its files exist; what the host lacks fails only a series that asks for it.
    @Test func kernelStateIsAlwaysWrittenAndReadBackOnTheUpstreamModule() throws {
        let lab = recordedLab()
        lab.threadedDefault = true
        let spec = try Self.spec(series: """
          - {name: van, target: kernel}
          - {name: thr, target: kernel, knobs: {threaded: 1}}
          - {name: inl, target: kernel, knobs: {inline_en: 1}}
          - {name: masks, target: kernel, knobs: {decrypt_cpus: "0"}}
        """)
        let runner = try self.runner(spec, lab: lab)
        _ = try runner.run()
        let results = (try runner.store.results(for: runner.record.order))
        let vanilla = results.filter { $0.key.series == "van" }
        #expect(vanilla.allSatisfy { $0.status == .ok })
        #expect(vanilla.first?.knobs["gw1:wgb1-1:threaded"] == "0")  // written over the host's default 1, read back
        #expect(vanilla.first?.knobs["gw1:wgb1-1:inline_en"] == "absent")
        #expect(vanilla.first?.steps.contains { $0.status == .unsupported && $0.detail.contains("upstream module") } == true)
        #expect(results.filter { $0.key.series == "thr" }.allSatisfy { $0.status == .ok && $0.knobs["gw2:wgb2-1:threaded"] == "1" })
        #expect(lab.hosts[.gw2]!.commands.contains { $0.argv == ["tee", "/sys/class/net/wgb2-1/threaded"] && $0.stdin == Array("1\n".utf8) })
        #expect(results.filter { $0.key.series == "inl" }.allSatisfy {
            $0.status == .failed && ($0.reason ?? "").contains("inline_en does not exist") && ($0.reason ?? "").contains("patched module")
        })
        #expect(results.filter { $0.key.series == "masks" }.allSatisfy { $0.status == .failed && ($0.reason ?? "").contains("no crypto masks") })
    }

    /// The patched module starts a device in Inline mode with every CPU in both masks: a vanilla
    /// series must turn Inline off, write the masks and pin the TX worker, and all of it reads back.
    @Test func thePatchedModulesDefaultsAreOverwrittenAndTheTXWorkerPlaced() throws {
        let lab = recordedLab()
        lab.kernelModule = .patched
        lab.cpus = 4
        let spec = try Self.spec("order: sequential\nplacement: {tx_tun: 'all - rx'}",
                                 series: "  - {name: van, target: kernel, knobs: {decrypt_cpus: {gw2: 'all - rx-tun'}}}")
        let runner = try self.runner(spec, lab: lab)
        let report = try runner.run()
        #expect(report.failed == 0, "\((try? runner.store.results(for: runner.record.order))?.compactMap(\.reason) ?? [])")
        #expect(lab.sysfsValue(.gw1, "wgb1-1/inline_en") == nil)  // torn down
        let result = try #require((try runner.store.results(for: runner.record.order)).last)  // tunnels=3
        #expect(result.knobs["gw2:wgb2-1:inline_en"] == "0" && result.knobs["gw1:wgb1-3:inline_en"] == "0")
        #expect(result.knobs["gw2:wgb2-1:decrypt_cpumask"] == "0000000e")  // CPUs 1-3: all but tunnel 1's receiving core 0
        #expect(result.knobs["gw2:wgb2-1:encrypt_cpumask"] == "0000000f")
        // Tunnels 1-3 are received on CPUs 0-2 of each gateway: tunnel 1's TX worker takes the one
        // CPU no reception uses, the others spread over the rest, each off its own tunnel's rx core.
        let tx = (result.placement["gw2"] ?? []).filter { $0.stage == .txTunnel }
        #expect(tx.map(\.cpu) == [3, 0, 1] && tx.map(\.tunnel) == [1, 2, 3])
        #expect(result.knobs.contains { $0.key.hasPrefix("gw2:wgb2-1:peer_") && $0.key.hasSuffix("/serial_work_cpu") && $0.value == "3" })
        #expect(!(result.placement["gw1"] ?? []).isEmpty)
    }

    @Test func aKnobThatDoesNotReadBackFailsTheRepetition() throws {
        let lab = recordedLab()
        lab.kernelModule = .patched
        lab.ignoredWrites = ["inline_en"]
        let runner = try self.runner(try Self.spec("retries: 0", series: "  - {name: van, target: kernel}"), lab: lab)
        let report = try runner.run()
        #expect(report.failed == 4)
        let reason = (try runner.store.results(for: runner.record.order)).first?.reason ?? ""
        #expect(reason.contains("inline_en reads 1 after wgbench wrote 0"), "\(reason)")
    }

    /// Changing only the flows replaces the peer's allowed IPs: the peer, and so its id and TX
    /// worker, stays (`wg setconf` would make it anew).
    @Test func peersAreKeptWhenOnlyTheFlowsChange() throws {
        let lab = recordedLab()
        lab.kernelModule = .patched
        let spec = try ExperimentLoader.parse(yaml: """
        name: t
        repetitions: 1
        order: sequential
        traffic: {duration: 1s, omit: 0s}
        sweep: {tunnels: 1, flows: [1, 2, 3]}
        series: [{name: van, target: kernel}]
        """, file: "t.yaml")
        let runner = try self.runner(spec, lab: lab)
        let report = try runner.run()
        #expect(report.failed == 0)
        let gw1 = lab.commands(.gw1)
        #expect(gw1.filter { $0.hasPrefix("wg setconf") }.count == 1)
        #expect(gw1.filter { $0.hasPrefix("wg set wgb1-1 peer ") && $0.hasSuffix(" allowed-ips 198.19.0.2/32,198.18.3.100/32,198.18.3.101/32") }.count == 1)
        let peers = Set(gw1.filter { $0.contains("/serial_work_cpu") && $0.hasPrefix("tee") })
        #expect(peers == ["tee /sys/class/net/wgb1-1/peer_1/serial_work_cpu"])
    }

    @Test func anOlderPatchWithOneMaskTakesOnlyEqualPools() throws {
        let lab = recordedLab()
        lab.kernelModule = .patchedSingleMask
        let spec = try Self.spec("retries: 0", series: """
          - {name: same, target: kernel, knobs: {encrypt_cpus: "0", decrypt_cpus: "0"}}
          - {name: different, target: kernel, knobs: {encrypt_cpus: "0", decrypt_cpus: "1"}}
        """)
        let runner = try self.runner(spec, lab: lab)
        _ = try runner.run()
        let results = (try runner.store.results(for: runner.record.order))
        #expect(results.filter { $0.key.series == "same" }.allSatisfy { $0.status == .ok && $0.knobs["gw1:wgb1-1:cpumask"] == "00000001" })
        #expect(results.filter { $0.key.series == "different" }.allSatisfy { $0.status == .failed && ($0.reason ?? "").contains("one cpumask") })
    }

    @Test func thePreflightCheckIsRecordedAndAStrictOneStopsANoisyRunBeforeAnyChange() throws {
        let quiet = recordedLab()
        let runner = try self.runner(try Self.spec("preflight: {strict: true}"), lab: quiet)
        _ = try runner.run()
        #expect(runner.store.exists("metadata/preflight.json"))

        let noisy = recordedLab()
        noisy.preflightOutput = "@governor\npowersave\n@irqbalance\nrunning\n"
        let strict = try self.runner(try Self.spec("preflight: {strict: true}"), lab: noisy)
        #expect { try strict.run() } throws: { "\($0)".contains("not quiet") && "\($0)".contains("powersave") }
        #expect(!noisy.commands(.gw1).contains { $0.contains("wgb1-") })
        let lab = recordedLab()  // the simulated hosts hold their lab unowned: keep it alive
        let lenient = try self.runner(try Self.spec("preflight: {hosts: [gw1]}"), lab: lab)
        #expect(try lenient.run().failed == 0)
    }
}
