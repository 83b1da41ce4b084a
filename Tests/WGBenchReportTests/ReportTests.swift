import Foundation
import Testing
import WGBenchCore
@testable import WGBenchReport

/// A run recorded on the local testbed (plain and wireguard-go, 1 and 2 tunnels, and a kernel
/// series that fails on this machine), kept under Fixtures/run-fixture without its raw files.
enum RecordedRun {
    static var url: URL { Bundle.module.url(forResource: "Fixtures/run-fixture", withExtension: nil)! }
    static func load() throws -> RunDirectory { try RunDirectory(url) }
}

func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

struct PlotTests {
    @Test func throughputAgainstTunnelsHasAxesAndOneLinePerMeasuredSeries() throws {
        let plots = PlotSelection.plots(for: try RecordedRun.load())
        let line = try #require(plots.first { $0.name == "throughput-tunnels" })
        #expect(line.svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot line-chart\" data-series-count=\"2\""))
        #expect(count("<g class=\"series\"", in: line.svg) == 2)  // the kernel series has no successful point
        #expect(line.svg.contains("data-series=\"plain\"") && line.svg.contains("data-series=\"wireguard-go\""))
        #expect(line.svg.contains("<g class=\"axis x\">") && line.svg.contains("<g class=\"axis y\">"))
        // The recorded run's plain forwarding (~14-28 Gbit/s) and wireguard-go (~0.3) are far apart: a log axis.
        #expect(line.svg.contains(">tunnels</text>") && line.svg.contains(">throughput (Gbit/s), log scale</text>"))
        #expect(line.svg.contains("data-y-scale=\"log\""))
        #expect(count("class=\"marker\"", in: line.svg) == 4)
        #expect(count("class=\"errorbar\"", in: line.svg) == 4)
        #expect(count("class=\"legend-entry\"", in: line.svg) == 2)
    }

    @Test func perCorePlotsStackFourCategoriesForEveryCore() throws {
        let plots = PlotSelection.plots(for: try RecordedRun.load())
        let cpu = try #require(plots.first { $0.name == "cpu-wireguard-go-gw2" })
        #expect(cpu.svg.contains("class=\"plot per-core\" data-series-count=\"4\""))
        for category in ["user", "system", "irq", "softirq"] { #expect(cpu.svg.contains("data-series=\"\(category)\"")) }
        #expect(count("data-core=\"0\"", in: cpu.svg) >= 2 && count("data-core=\"1\"", in: cpu.svg) >= 2)
        #expect(cpu.title.contains("tunnels=2"))
        #expect(!plots.contains { $0.name.hasPrefix("cpu-vanilla-thr") })
    }

    @Test func singlePointExperimentsGetGroupedBars() {
        let svg = Charts.groupedBars(title: "t", yLabel: "Gbit/s", groups: ["default"],
                                     series: [("vanilla", [(5.0, 0.2)]), ("improved", [(7.2, 0.3)]), ("broken", [nil])])
        #expect(svg.contains("class=\"plot grouped-bars\" data-series-count=\"3\""))
        #expect(count("class=\"bar\"", in: svg) == 2)
        #expect(count("class=\"errorbar\"", in: svg) == 2)
    }

    @Test func secondAxisForCPUWhenSweepingFlows() {
        let svg = Charts.line(title: "t", xLabel: "flows", yLabel: "Gbit/s",
                              series: [LineSeries(name: "a", points: [(1, 5, 0.1), (2, 5.1, 0.1)]),
                                       LineSeries(name: "a gw2 CPU", points: [(1, 40, nil), (2, 60, nil)], rightAxis: true)],
                              rightLabel: "mean CPU usage (%)")
        #expect(svg.contains("<g class=\"axis y2\">"))
        #expect(svg.contains("stroke-dasharray=\"5 4\""))
    }

    @Test func ticksAreRound() {
        #expect(SVG.ticks(upTo: 47) == [0, 10, 20, 30, 40, 50])
        #expect(SVG.ticks(upTo: 0.9) == [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0])
    }

    @Test func textIsEscaped() {
        #expect(SVG.escape("<a & \"b\">") == "&lt;a &amp; &quot;b&quot;&gt;")
    }
}

struct HTMLReportTests {
    @Test func reportShowsSummaryFailuresUnsupportedStepsAndHosts() throws {
        let run = try RecordedRun.load()
        let html = HTMLReport.render(run: run, plots: PlotSelection.plots(for: run))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        // No address but the SVG namespace: nothing to fetch.
        #expect(html.components(separatedBy: "http://").dropFirst().allSatisfy { $0.hasPrefix("www.w3.org/2000/svg") })
        #expect(!html.contains("<script") && !html.contains("<link"))
        #expect(count("<svg", in: html) == 7)  // throughput, gw1/gw2 CPU vs tunnels, per-core CPU of two series (no raw files: no timelines)
        #expect(html.contains("Unknown device type"))  // the kernel series' failure, with its reason
        #expect(html.contains("class=\"unsupported\">unsupported</td><td>gw1</td>"))  // veth steering
        #expect(html.contains("ntuple unsupported"))
        #expect(html.contains("<td>gw2</td><td>6.18.44-fc-v782</td>"))
        #expect(count("<tr><td>vanilla-thr</td>", in: html) == 2)
    }

    @Test func writerProducesTheFiles() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let html = try ReportWriter.write(run: try RecordedRun.load(), to: out)
        #expect(FileManager.default.fileExists(atPath: html.path))
        for file in ["points.csv", "repetitions.csv", "plots/throughput-tunnels.svg", "plots/cpu-plain-gw1.svg"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file)")
        }
        let csv = try String(contentsOf: out.appendingPathComponent("repetitions.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 13)
    }
}

struct FindingsInTheReportTests {
    /// Both repetitions of wireguard-go at 2 tunnels saturate both cores of the shared machine:
    /// a bottleneck in each, and with no placement recorded the old black-hole rule finds none.
    @Test func recordedRunShowsTheTwoCoreSaturationInEveryRepetition() throws {
        let run = try RecordedRun.load()
        let row = try #require(run.summary.first { $0.series == "wireguard-go" && $0.point.tunnels == 2 })
        let bottlenecks = row.findings.filter { $0.kind == .bottleneck }
        #expect(bottlenecks.map(\.host) == ["gw1", "gw2"])
        #expect(bottlenecks.allSatisfy { $0.analyzed == 2 && $0.occurrences.count == 2 })
        #expect(!row.findings.contains { $0.kind == .blackHole })
        let html = HTMLReport.summaryTable(run.summary, sweep: run.record.spec.sweep)
        #expect(html.contains("<b>bottleneck</b> on gw2 in 2 of 2 repetitions, on cores 0+1, 0+1"))
    }
}

struct ComparisonTests {
    @Test func aRunComparedWithItselfHasNoRegression() throws {
        let run = try RecordedRun.load()
        let rows = Comparison.compare(baseline: run, new: run, thresholdPercent: 5)
        #expect(rows.count == 6)
        #expect(rows.allSatisfy { !$0.regression })
        #expect(rows.filter { $0.deltaPercent == 0 }.count == 4)
        #expect(rows.filter { $0.note == "failed in both runs" }.count == 2)
    }

    /// The recorded run with plain at one tunnel made 40% slower (each repetition scaled, so the
    /// spread stays), and wireguard-go's second tunnel point failing entirely.
    @Test func slowerAndFailedPointsAreRegressions() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-compare-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: RecordedRun.url, to: copy)
        for (directory, change) in [("points/plain/tunnels-1", "scale"), ("points/wireguard-go/tunnels-2", "fail")] {
            for rep in ["rep-1", "rep-2"] {
                let file = copy.appendingPathComponent("\(directory)/\(rep)/result.json")
                var json = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as! [String: Any]
                if change == "scale" {
                    json["throughput"] = (json["throughput"] as! Double) * 0.6
                } else {
                    json["status"] = "failed"
                    json["reason"] = "injected"
                    json.removeValue(forKey: "throughput")
                }
                try JSONSerialization.data(withJSONObject: json).write(to: file)
            }
        }
        let rows = Comparison.compare(baseline: try RecordedRun.load(), new: try RunDirectory(copy), thresholdPercent: 5)
        let regressions = rows.filter(\.regression).map { "\($0.series) \($0.point)" }
        #expect(regressions == ["plain tunnels=1", "wireguard-go tunnels=2"])
        let plain = try #require(rows.first { $0.series == "plain" && $0.point == "tunnels=1" })
        #expect(abs((plain.deltaPercent ?? 0) + 40) < 1e-6)
        #expect((plain.p ?? 1) < 0.05)
        #expect(Comparison.table(rows).contains("REGRESSION"))
    }
}

/// The axis chosen as plotting libraries do: log when series span more than 20x, whiskers clipped.
struct PlotScaleTests {
    static func numbers(_ svg: String, _ attribute: String, inClass cls: String) -> [Double] {
        svg.split(separator: "\n").filter { $0.contains("class=\"\(cls)\"") }.compactMap { line -> Double? in
            guard let range = line.range(of: "\(attribute)=\"") else { return nil }
            return Double(line[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    @Test func seriesFarApartGetALogAxisAndWhiskersStayInThePlot() {
        let svg = Charts.line(title: "t", xLabel: "tunnels", yLabel: "Gbit/s", series: [
            LineSeries(name: "plain", points: [(1, 14.5, 0.8), (2, 22.0, 1.5)]),
            LineSeries(name: "wireguard-go", points: [(1, 0.44, 0.6), (2, 0.30, 0.05)]),
        ])
        #expect(svg.contains("data-y-scale=\"log\"") && svg.contains(", log scale"))
        // Plot area: top 40, bottom 420 - 60 = 360. The whisker of 0.44 ± 0.6 would run below zero.
        let ends = Self.numbers(svg, "y1", inClass: "errorbar") + Self.numbers(svg, "y2", inClass: "errorbar")
        #expect(!ends.isEmpty && ends.allSatisfy { $0 >= 40 && $0 <= 360 }, "\(ends)")
        #expect(svg.contains("whiskers: 95% CI of the mean"))
    }

    @Test func seriesCloseTogetherKeepALinearAxisFromZero() {
        let svg = Charts.line(title: "t", xLabel: "tunnels", yLabel: "Gbit/s", series: [
            LineSeries(name: "a", points: [(1, 1.7, 0.1), (2, 2.0, 0.1)]),
            LineSeries(name: "b", points: [(1, 1.2, 0.9), (2, 1.3, 0.1)]),
        ])
        #expect(svg.contains("data-y-scale=\"linear\""))
        let ends = Self.numbers(svg, "y1", inClass: "errorbar") + Self.numbers(svg, "y2", inClass: "errorbar")
        #expect(ends.allSatisfy { $0 >= 40 && $0 <= 360 })
        let bars = Charts.groupedBars(title: "t", yLabel: "Gbit/s", groups: ["default"],
                                      series: [("plain", [(mean: 20, error: 1)]), ("wireguard-go", [(mean: 0.4, error: 0.1)])])
        #expect(bars.contains("data-y-scale=\"log\""))
    }
}
