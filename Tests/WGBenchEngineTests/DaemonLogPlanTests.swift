import Foundation
import Testing
import WGBenchCore
@testable import WGBenchEngine
import WGBenchSimulation

/// Issue #22, item 6: what `wgbench plan` shows a run starting its daemons with: the series'
/// log level (errors unless it asks for more) and the log's cap, never a verbose log by default.
struct DaemonLogPlanTests {
    @Test func thePlanStartsDaemonsAtTheSeriesLevelWithACappedLog() throws {
        let spec = try ExperimentLoader.parse(yaml: """
        name: t
        repetitions: 1
        traffic: {duration: 1s, omit: 0s}
        sweep: {tunnels: 1}
        series:
          - {name: go, target: wireguard-go}
          - {name: swift, target: wireguard-swift, knobs: {log_level: verbose}}
        """, file: "t.yaml")
        let testbed = try TestbedLoader.parse(yaml: ExperimentRunnerTests.testbedYAML, file: "fake.yaml")
        let plan = try Planner.plan(spec: spec, experimentFile: "t.yaml", testbed: testbed, cpus: 4, numaNodes: 1)
        let starts = plan.split(separator: "\n").filter { $0.contains(" daemon /run/wgbench/runs/plan/daemon-") }
        let cap = String(TunnelCommands.daemonLogCapBytes)
        #expect(starts.count == 4, "\(starts)")
        #expect(starts.filter { $0.hasSuffix("wireguard-go wgb1-1") || $0.hasSuffix("wireguard-go wgb2-1") }
            .allSatisfy { $0.contains(".log \(cap) error \(TunnelCommands.wireguardGoEnvironment) wireguard-go ") })
        #expect(starts.filter { $0.hasSuffix("wireguard-swift wgb1-1") || $0.hasSuffix("wireguard-swift wgb2-1") }
            .allSatisfy { $0.contains(".log \(cap) verbose wireguard-swift ") })
        #expect(!plan.contains("LOG_LEVEL=verbose"))
    }
}
