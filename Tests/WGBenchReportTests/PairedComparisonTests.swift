import Foundation
import Testing
import WGBenchCore
@testable import WGBenchReport

/// `wgbench compare` between runs measured in blocks with a common baseline series compares the
/// per-round ratios over it: a machine that is slower today is not a regression of the others.
struct PairedComparisonTests {
    static let yaml = """
    name: pair
    repetitions: 5
    baseline: go
    series: [{name: swift, target: wireguard-swift}, {name: go, target: wireguard-go}]
    """

    /// A run where the machine runs at `machine` and swift is `speedup` times go, with a little noise.
    func run(machine: Double, speedup: Double) throws -> SyntheticRun {
        let run = try SyntheticRun(yaml: Self.yaml)
        let wobble = [0.01, -0.02, 0.015, -0.005, 0.0]
        for round in 1...5 {
            let go = machine * (1 + wobble[round - 1])
            try run.add(series: "go", repetition: round, gbps: go)
            try run.add(series: "swift", repetition: round, gbps: go * speedup * (1 - wobble[round - 1] / 2))
        }
        return run
    }

    @Test func aSlowerMachineIsNotARegressionButASlowerSeriesIs() throws {
        let baseline = try run(machine: 1.8, speedup: 1.3)
        let slowerMachine = try run(machine: 1.2, speedup: 1.3)
        let slowerSwift = try run(machine: 1.8, speedup: 1.0)
        defer { [baseline, slowerMachine, slowerSwift].forEach { $0.remove() } }
        let old = try baseline.load()
        #expect(Comparison.commonBaseline(old, try slowerMachine.load()) == "go")

        let drift = Comparison.compare(baseline: old, new: try slowerMachine.load(), thresholdPercent: 5)
        let swiftRow = try #require(drift.first { $0.series == "swift / go" })
        #expect(!swiftRow.regression && abs(swiftRow.deltaPercent ?? 100) < 2)
        let goRow = try #require(drift.first { $0.series == "go" })
        #expect(!goRow.regression && (goRow.deltaPercent ?? 0) < -30 && goRow.note.contains("not judged"))

        let regressed = Comparison.compare(baseline: old, new: try slowerSwift.load(), thresholdPercent: 5)
        let row = try #require(regressed.first { $0.series == "swift / go" })
        #expect(row.regression && row.significant && (row.deltaPercent ?? 0) < -20)
        #expect(Comparison.table(regressed, ratios: true).contains("REGRESSION"))
    }

    /// The same slower machine, compared on absolute throughput (no common baseline), reads as a regression.
    @Test func withoutACommonBaselineTheComparisonIsAbsolute() throws {
        let baseline = try run(machine: 1.8, speedup: 1.3)
        let other = try SyntheticRun(yaml: Self.yaml.replacingOccurrences(of: "baseline: go\n", with: ""))
        defer { baseline.remove(); other.remove() }
        for round in 1...5 {
            try other.add(series: "go", repetition: round, gbps: 1.2 + 0.01 * Double(round))
            try other.add(series: "swift", repetition: round, gbps: 1.56 + 0.01 * Double(round))
        }
        let rows = Comparison.compare(baseline: try baseline.load(), new: try other.load(), thresholdPercent: 5)
        #expect(Comparison.commonBaseline(try baseline.load(), try other.load()) == nil)
        #expect(rows.first { $0.series == "swift" }?.regression == true)
    }

    @Test func theReportShowsPairedRatiosAndNoise() throws {
        let run = try self.run(machine: 1.8, speedup: 1.3)
        defer { run.remove() }
        let directory = try run.load()
        let ratio = try #require(directory.ratios.first)
        #expect(ratio.paired && ratio.series == "swift" && ratio.over == "go" && ratio.rounds == 5 && abs(ratio.ratio - 1.3) < 0.03)
        let html = HTMLReport.render(run: directory, plots: [])
        #expect(html.contains("<h2>Comparisons</h2>") && html.contains("randomized blocks") && html.contains("swift</td><td>go</td>"))
        #expect(html.contains("<th>CV</th>"))
        let csv = RunSummary.csv(directory.summary, sweep: directory.record.spec.sweep, ratios: directory.ratios)
        #expect(csv.split(separator: "\n")[0].hasSuffix("baseline,ratio_over_baseline,ratio_low95,ratio_high95"))
        #expect(csv.contains(",go,1.3"))
    }
}
