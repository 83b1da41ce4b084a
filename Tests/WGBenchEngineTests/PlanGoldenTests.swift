import Foundation
import Testing
import WGBenchCore
@testable import WGBenchEngine

/// The plans of the paper's figures on the paper's testbed, kept under Golden/: the kernel paths
/// (knobs, masks, steering, IRQ affinity, teardown) made reviewable on a machine without kernel
/// WireGuard. After a deliberate change, regenerate with WGBENCH_UPDATE_GOLDEN=1 swift test
/// --filter PlanGoldenTests, and review the diff.
struct PlanGoldenTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    @Test(arguments: ["fig4", "fig5", "fig6", "fig7a", "fig7b", "fig8", "fig9"])
    func planMatchesTheReviewedOne(_ figure: String) throws {
        let experimentPath = Self.root.appendingPathComponent("experiments/\(figure).yaml").path
        let spec = try ExperimentLoader.load(path: experimentPath)
        let testbedText = try String(contentsOf: Self.root.appendingPathComponent("testbeds/paper-cloudlab.yaml"), encoding: .utf8)
        let testbed = try TestbedLoader.parse(yaml: testbedText, file: "testbeds/paper-cloudlab.yaml", home: "/root")
        let plan = try Planner.plan(spec: spec, experimentFile: "experiments/\(figure).yaml", testbed: testbed, cpus: 32)
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

    @Test func planOfFig8ShowsEveryKernelConfiguration() throws {
        let plan = try String(contentsOf: Self.golden.appendingPathComponent("fig8.plan"), encoding: .utf8)
        #expect(plan.contains("[gw2] tee /sys/class/net/wgb2-1/threaded <<< 1"))
        #expect(plan.contains("[gw1] tee /sys/class/net/wgb1-1/inline_en <<< 1"))
        #expect(plan.contains("[gw2] tee /sys/class/net/wgb2-1/decrypt_cpumask <<< 0000ffff"))
        // Emulated inline: tunnel 3's crypto and TX worker on CPU 2, its reception steered there too.
        #expect(plan.contains("[gw2] tee /sys/class/net/wgb2-3/decrypt_cpumask <<< 4"))
        #expect(plan.contains("[gw2] tee /sys/class/net/wgb2-3/peer_1/serial_work_cpu <<< 2"))
        #expect(plan.contains("[gw2] ethtool -N enp65s0f1np1 flow-type udp4 src-ip 198.18.2.1 dst-ip 198.18.2.2 dst-port 51823 action 2"))
        #expect(plan.contains("[gw1] ip link del wgb1-32"))
        #expect(plan.contains("[gw1] ethtool -K enp65s0f0np0 ntuple off"))
        // No key material in a plan: every key line is the placeholder.
        let keyLines = plan.components(separatedBy: "PrivateKey = ").count - 1
        #expect(keyLines > 0 && keyLines == plan.components(separatedBy: "PrivateKey = (generated at run time)").count - 1)
    }
}
