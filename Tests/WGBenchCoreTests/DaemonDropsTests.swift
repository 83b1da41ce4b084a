import Foundation
import Testing
@testable import WGBenchCore

/// wireguard-swift's drop counters as wgbench reads, subtracts and reports them.
struct DaemonDropsTests {
    let before = "wgb1-1 malformed=2\nwgb1-1 replayed=0\nwgb1-1 no_session=1\nwgb1-2 malformed=0\nwgb1-2 replayed=5\n"
    let after = "wgb1-1 malformed=2\nwgb1-1 replayed=7\nwgb1-1 no_session=4\nwgb1-2 malformed=3\nwgb1-2 replayed=1\nnoise\nwgb1-2 bad=x\n"

    @Test func theTrafficsShareIsWhatTheCountersGrewBySummedOverTunnels() {
        let (b, a) = (DaemonDrops.parse(before), DaemonDrops.parse(after))
        #expect(b["wgb1-1"] == ["malformed": 2, "replayed": 0, "no_session": 1] && a["wgb1-2"]?["bad"] == nil)
        // wgb1-2's replayed went down (its daemon started anew): it counts from zero.
        #expect(DaemonDrops.added(before: b, after: a) == ["replayed": 8, "no_session": 3, "malformed": 3])
        #expect(DaemonDrops.added(before: a, after: a) == [:])
        #expect(DaemonDrops.perHost(before: ["gw1": b], after: ["gw1": a, "gw2": [:]]) == ["gw1": ["replayed": 8, "no_session": 3, "malformed": 3], "gw2": [:]])
        #expect(DaemonDrops.perHost(before: nil, after: ["gw1": a]) == nil)
        #expect(DaemonDrops.describe(["replayed": 8, "no_session": 3, "malformed": 3]) == "replayed 8, malformed 3, no_session 3")
    }

    @Test func theReadCommandPassesInterfacesAsArguments() {
        let command = HostOperation.read(.daemonDrops(interfaces: ["wgb1-1", "wgb1-2"], settle: true))
        #expect(command.argv.suffix(3) == ["1", "wgb1-1", "wgb1-2"] && !command.argv[2].contains("wgb1"))
    }

    @Test func aPointSumsItsRepetitionsDropsAndTheTerminalSaysSo() throws {
        let key = { (repetition: Int) in RunKey(series: "swift", point: Point([.init(name: "tunnels", value: "1")]), repetition: repetition) }
        let result = { (repetition: Int, drops: [String: [String: Int]]?) in
            RepetitionResult(key: key(repetition), status: .ok, reason: nil, attempts: 1, started: Date(), finished: Date(), throughput: 1e9,
                             flows: [], cpu: [:], samplerCPUSeconds: [:], sampledSeconds: nil, knobs: [:], steps: [], drops: drops)
        }
        let record = try RecordedCPU.record("""
            name: d
            sweep: {tunnels: [1]}
            series: [{name: swift, target: wireguard-swift}]
            """)
        let rows = RunSummary.build(record: record, results: [result(1, ["gw1": ["replayed": 2], "gw2": [:]]), result(2, ["gw1": ["replayed": 3, "malformed": 1], "gw2": [:]]),
                                                              result(3, nil)])
        #expect(rows.first?.drops == ["gw1": ["replayed": 5, "malformed": 1], "gw2": [:]])
        #expect(RunSummary.comparisons(rows, ratios: []).contains("swift tunnels=1: gw1 replayed 5, malformed 1\n"))
        let quiet = RunSummary.build(record: record, results: [result(1, ["gw1": [:], "gw2": [:]])])
        #expect(quiet.first?.drops == ["gw1": [String: Int](), "gw2": [String: Int]()] && !RunSummary.comparisons(quiet, ratios: []).contains("dropped"))
    }
}
