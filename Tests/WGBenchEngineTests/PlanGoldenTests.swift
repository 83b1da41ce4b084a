import Foundation
import Testing
import WGBenchCore
@testable import WGBenchEngine
import WGBenchSimulation

/// The plans of the paper's figures on the paper's testbed: the kernel paths (knobs, masks, TX
/// workers, steering, IRQ affinity, teardown) made reviewable on a machine without kernel
/// WireGuard. Golden/ keeps a few representative points per figure for a human to read; the
/// whole sweep of every figure is checked by counting, per point, the commands each tunnel and
/// each flow must get. After a deliberate change, regenerate with WGBENCH_UPDATE_GOLDEN=1 swift
/// test --filter PlanGoldenTests, and review the diff.
struct PlanGoldenTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// The points a golden file shows: the ends of a sweep and its second step.
    static let representative: [String: (variable: String, values: Set<String>)] = [
        "fig4": ("flows", ["1", "2", "31"]), "fig8": ("tunnels", ["1", "2", "16"]),
    ]

    static func plan(_ figure: String, representativeOnly: Bool) throws -> (spec: ExperimentSpec, text: String) {
        let spec = try ExperimentLoader.load(path: root.appendingPathComponent("experiments/\(figure).yaml").path)
        let testbedText = try String(contentsOf: root.appendingPathComponent("testbeds/paper-cloudlab.yaml"), encoding: .utf8)
        let testbed = try TestbedLoader.parse(yaml: testbedText, file: "testbeds/paper-cloudlab.yaml", home: "/root")
        let filter: ((Point) -> Bool)? = representativeOnly ? representative[figure].map { shown in
            { point in point.value(shown.variable).map(shown.values.contains) ?? true }
        } : nil
        let text = try Planner.plan(spec: spec, experimentFile: "experiments/\(figure).yaml", testbed: testbed, cpus: 32, numaNodes: 2,
                                    points: filter)
        return (spec, text)
    }

    @Test(arguments: ["fig4", "fig5", "fig6", "fig7a", "fig7b", "fig8", "fig9"])
    func planMatchesTheReviewedOne(_ figure: String) throws {
        let plan = try Self.plan(figure, representativeOnly: true).text
        let file = Self.golden.appendingPathComponent("\(figure).plan")
        if ProcessInfo.processInfo.environment["WGBENCH_UPDATE_GOLDEN"] == "1" {
            try plan.write(to: file, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        if plan != expected {
            let got = plan.split(separator: "\n", omittingEmptySubsequences: false)
            let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let line = Array(zip(got, want)).firstIndex { $0.0 != $0.1 } ?? min(got.count, want.count)
            Issue.record("\(figure).plan differs from line \(line + 1): got «\(line < got.count ? got[line] : "<end>")», golden «\(line < want.count ? want[line] : "<end>")»")
        }
    }

    /// Fig. 8 past 16 tunnels, where stages must overlap: the resolved placement of every series at
    /// 24 and 31 tunnels (the full plans would be too long to read), notes included.
    @Test func fig8PlacementPastSixteenTunnelsMatchesTheReviewedOne() throws {
        let spec = try ExperimentLoader.load(path: Self.root.appendingPathComponent("experiments/fig8.yaml").path)
        let testbedText = try String(contentsOf: Self.root.appendingPathComponent("testbeds/paper-cloudlab.yaml"), encoding: .utf8)
        let testbed = try TestbedLoader.parse(yaml: testbedText, file: "testbeds/paper-cloudlab.yaml", home: "/root")
        let plan = try Planner.plan(spec: spec, experimentFile: "experiments/fig8.yaml", testbed: testbed, cpus: 32, numaNodes: 2,
                                    points: { ["24", "31"].contains($0.value("tunnels") ?? "") })
        let placement = plan.split(separator: "\n").filter { $0.hasPrefix("## point ") || $0.hasPrefix("# placement: ") }
            .joined(separator: "\n") + "\n"
        let file = Self.golden.appendingPathComponent("fig8-past-16-tunnels.placement")
        if ProcessInfo.processInfo.environment["WGBENCH_UPDATE_GOLDEN"] == "1" {
            try placement.write(to: file, atomically: true, encoding: .utf8)
        }
        #expect(placement == (try String(contentsOf: file, encoding: .utf8)))
        #expect(placement.contains("# placement: gw1 tunnel 31: rx-plain 30, tx-tun 29,"))
    }

    /// A NIC with fewer rx queues than placed CPUs would put two cores' receptions on one queue,
    /// whose one IRQ can run on only one of them: the repetition fails, naming both, and the plan
    /// shows it. Fig. 9's 8 tunnels fit 8 queues (CPUs 1-8 take queues 1-7 and 0).
    @Test func fewerRxQueuesThanPlacedCPUsFailTheRepetitionInThePlan() throws {
        let spec = try ExperimentLoader.load(path: Self.root.appendingPathComponent("experiments/fig9.yaml").path)
        let testbedText = try String(contentsOf: Self.root.appendingPathComponent("testbeds/paper-cloudlab.yaml"), encoding: .utf8)
        let testbed = try TestbedLoader.parse(yaml: testbedText, file: "testbeds/paper-cloudlab.yaml", home: "/root")
        let four = try Planner.plan(spec: spec, experimentFile: "experiments/fig9.yaml", testbed: testbed, cpus: 32, rxQueues: 4)
        #expect(four.contains("with 4 rx queues each"))
        #expect(four.contains("FAILED: gw1: enp65s0f0np0 rx queue 0 would serve CPU 0 (flow 0) and CPU 4 (flow 4): the NIC has 4 rx queues for 8 placed CPUs"))
        #expect(!four.contains("flow-type"), "no rule goes in before the check")
        let eight = try Planner.plan(spec: spec, experimentFile: "experiments/fig9.yaml", testbed: testbed, cpus: 32, rxQueues: 8)
        #expect(!eight.contains("# run:") && eight.contains("dst-port 51828 action 0"))
    }

    @Test func goldenPlansStayReadable() throws {
        let files = try FileManager.default.contentsOfDirectory(at: Self.golden, includingPropertiesForKeys: [.fileSizeKey])
        let bytes = try files.map { try $0.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0 }.reduce(0, +)
        #expect(bytes < 1_500_000, "the golden plans hold \(bytes) bytes")
    }

    /// Every point of every figure, counted: each kernel tunnel gets threaded, inline_en, both
    /// masks and its TX worker written on both gateways and read back; every placed reception gets
    /// its ntuple rule and IRQ affinity. No repetition of the plan fails.
    @Test(arguments: ["fig4", "fig5", "fig6", "fig7a", "fig7b", "fig8", "fig9"])
    func everyPointOfTheWholeSweepGetsItsCommands(_ figure: String) throws {
        let (spec, text) = try Self.plan(figure, representativeOnly: false)
        let problems = PlanCounts.check(text, spec: spec)
        #expect(problems.isEmpty, "\(figure): \(problems.prefix(5).joined(separator: "; "))")
        #expect(PlanCounts.sections(text).count == spec.series.count * Sweep.points(spec.sweep).count)
    }

    /// The counting check catches a single dropped per-tunnel command (a mutation of the plan).
    @Test func theCountsFailWhenOneTunnelsCommandIsDropped() throws {
        let (spec, text) = try Self.plan("fig9", representativeOnly: false)
        #expect(PlanCounts.check(text, spec: spec).isEmpty)
        for dropped in ["[gw2] tee /sys/class/net/wgb2-8/inline_en", "[gw1] tee /sys/class/net/wgb1-5/peer_",
                        "[gw2] ethtool -N enp65s0f1np1 flow-type udp4 src-ip 198.18.2.1 dst-ip 198.18.2.2 dst-port 51828",
                        "[gw2] cat /sys/class/net/wgb2-3/decrypt_cpumask"] {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let index = try #require(lines.firstIndex { $0.hasPrefix(dropped) }, "\(dropped) is in the plan")
            let mutated = (lines[..<index] + lines[(index + 1)...]).joined(separator: "\n")
            #expect(!PlanCounts.check(mutated, spec: spec).isEmpty, "dropping «\(dropped)» went unnoticed")
        }
    }

    @Test func planOfFig8ShowsEveryKernelConfiguration() throws {
        let plan = try String(contentsOf: Self.golden.appendingPathComponent("fig8.plan"), encoding: .utf8)
        #expect(plan.contains("[gw2] tee /sys/class/net/wgb2-1/threaded <<< 1"))
        #expect(plan.contains("[gw1] tee /sys/class/net/wgb1-1/inline_en <<< 1"))
        #expect(plan.contains("[gw1] tee /sys/class/net/wgb1-1/inline_en <<< 0"))
        // NUMA-aware: tunnel 2 lives on node 1 (interleaved), its masks there.
        #expect(plan.contains("[gw2] tee /sys/class/net/wgb2-2/decrypt_cpumask <<< ffff0000"))
        #expect(plan.contains("[gw2] tee /sys/class/net/wgb2-1/decrypt_cpumask <<< ffff\n"))
        // Emulated inline: tunnel 3's crypto and TX worker on CPU 2, both directions of it steered there.
        #expect(plan.contains("[gw2] tee /sys/class/net/wgb2-3/decrypt_cpumask <<< 4"))
        #expect(plan.range(of: #"\[gw2\] tee /sys/class/net/wgb2-3/peer_[0-9]+/serial_work_cpu <<< 2"#, options: .regularExpression) != nil)
        #expect(plan.contains("[gw2] ethtool -N enp65s0f1np1 flow-type udp4 src-ip 198.18.2.1 dst-ip 198.18.2.2 dst-port 51823 action 2"))
        #expect(plan.contains("[gw1] ethtool -N enp65s0f1np1 flow-type udp4 src-ip 198.18.2.2 dst-ip 198.18.2.1 dst-port 51823 action 2"))
        #expect(plan.contains("[gw2] ethtool -N enp65s0f0np0 flow-type tcp4 src-ip 198.18.3.102 dst-ip 198.18.1.102 action 2"))
        #expect(plan.contains("[gw1] ip link del wgb1-16"))
        #expect(plan.contains("[gw1] ethtool -K enp65s0f0np0 ntuple off"))
        // No key material in a plan: every key line is the placeholder.
        let keyLines = plan.components(separatedBy: "PrivateKey = ").count - 1
        #expect(keyLines > 0 && keyLines == plan.components(separatedBy: "PrivateKey = (generated at run time)").count - 1)
        #expect(!plan.contains("crypto floor"))
    }
}

/// Counts, in a plan's transcript, the commands each point must contain.
enum PlanCounts {
    /// The transcript's point sections: header line and body.
    static func sections(_ text: String) -> [(header: String, body: [Substring])] {
        var sections: [(String, [Substring])] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("## ") {
                sections.append((String(line), []))
            } else if !sections.isEmpty {
                sections[sections.count - 1].1.append(line)
            }
        }
        return sections.filter { $0.0.hasPrefix("## point ") }
    }

    /// What is missing or failing, per point; empty when every point has its commands.
    static func check(_ text: String, spec: ExperimentSpec) -> [String] {
        var problems: [String] = []
        for (header, body) in sections(text) {
            // "## point <series> <point id> rep <k>"
            let words = header.split(separator: " ")
            guard words.count >= 4, let series = spec.series.first(where: { $0.name == words[2] }),
                  let point = Sweep.points(spec.sweep).first(where: { $0.id == words[3] }) else {
                problems.append("unknown section \(header)")
                continue
            }
            if let failure = body.first(where: { $0.contains("run:") }) { problems.append("\(header): \(failure)") }
            let count = { (prefix: String) in body.filter { $0.hasPrefix(prefix) }.count }
            let expect = { (what: String, found: Int, wanted: Int) in
                if found != wanted { problems.append("\(header): \(what) \(found) times, not \(wanted)") }
            }
            let tunnels = series.target.hasTunnels ? point.tunnels : 0
            for role in [HostRole.gw1, .gw2] {
                let prefix = "[\(role)] "
                for t in 1...max(1, tunnels) where tunnels > 0 {
                    let interface = "\(TrafficPlan.defaultStem)\(role == .gw1 ? 1 : 2)-\(t)"  // the paper testbed: the default stem
                    for file in ["threaded", "inline_en", "encrypt_cpumask", "decrypt_cpumask"] {
                        expect("\(role) \(interface) \(file) written", count("\(prefix)tee /sys/class/net/\(interface)/\(file) "), 1)
                        expect("\(role) \(interface) \(file) read back", count("\(prefix)cat /sys/class/net/\(interface)/\(file)"), 1)
                    }
                    expect("\(role) \(interface) TX worker written", count("\(prefix)tee /sys/class/net/\(interface)/peer_"), 1)
                }
            }
            // Steering: the data direction always, the ACK direction with reverse or colocate.
            let reverse = series.placement.reverse || series.placement.colocate
            let flows = point.flows
            expect("gw1 flow rules", count("[gw1] ethtool -N enp65s0f0np0 flow-type tcp4"), flows)
            expect("gw2 tunnel rules", count("[gw2] ethtool -N enp65s0f1np1 flow-type udp4"), tunnels)
            expect("gw1 ACK tunnel rules", count("[gw1] ethtool -N enp65s0f1np1 flow-type udp4"), reverse ? tunnels : 0)
            expect("gw2 ACK flow rules", count("[gw2] ethtool -N enp65s0f0np0 flow-type tcp4"), reverse && tunnels > 0 ? flows : 0)
            let rules = body.filter { $0.contains("] ethtool -N ") && $0.contains(" action ") }.count
            expect("IRQ affinities", body.filter { $0.contains("] tee /proc/irq/") }.count, rules)
        }
        return problems
    }
}
