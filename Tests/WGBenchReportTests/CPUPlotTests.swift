import Foundation
import Testing
import WGBenchCore
@testable import WGBenchReport

struct CPUTimelineTests {
    typealias Run = SyntheticRun
    static let rxPerTunnel: [String: [CoreAssignment]] = ["gw2": (1...4).map { CoreAssignment(cpu: $0, stage: .rxTunnel, tunnel: $0) }]

    /// Four tunnels received on gw2's cores 1-4; in repetition 2 core 6 (no stage placed there)
    /// saturates from the third second on, as Fig. 9's black hole does.
    static func blackHoleRun(warmUp: Int? = nil) throws -> Run {
        let run = try Run(yaml: "name: f9\nrepetitions: 3\nsweep: {tunnels: 4}\nseries: [{name: vanilla, target: kernel}]")
        for repetition in 1...3 {
            let hole = repetition == 2
            try run.add(series: "vanilla", repetition: repetition, gbps: 12, loads: [
                "gw1": Run.seconds(30, cores: 8, background: 20),
                "gw2": Run.seconds(30, cores: 8, background: 10) { second, core in
                    (1...4).contains(core) ? 40 : (hole && core == 6 && second >= 2 ? 99 : nil)
                },
            ], placement: rxPerTunnel, warmUp: warmUp)
        }
        return run
    }

    /// Sampled from the start of the traffic (5 s warm-up): the timeline says so, marks where the
    /// measured window begins and the second core 6 set in, and the report lists the onset per repetition.
    @Test func theTimelineFromTheStartOfTheTrafficMarksTheOnset() throws {
        let run = try Self.blackHoleRun(warmUp: 5)
        defer { run.remove() }
        let loaded = try run.load()
        let result = try #require(loaded.results.first { $0.key.repetition == 2 })
        #expect(result.steadyFrom == 5 && result.saturation?["gw2"] == [SaturationOnset(cpu: 6, seconds: 2)])
        #expect(loaded.results.first { $0.key.repetition == 1 }?.saturation?["gw2"] == [])
        let gw2 = try #require(PlotSelection.plots(for: loaded).first { $0.name == "cpu-time-vanilla-gw2" })
        #expect(gw2.svg.contains("seconds since the traffic started") && gw2.svg.contains("measured from here"))
        #expect(gw2.svg.contains("class=\"onset\" data-core=\"6\" data-seconds=\"2\""))
        #expect(gw2.svg.contains("◀ core 6: black hole, saturated from 2 s"))
        let html = HTMLReport.render(run: loaded, plots: [])
        #expect(html.contains("saturation onset</b> on gw2 in 1 of 3 repetitions: rep 2 core 6 at 2 s"), "\(html)")
        #expect(html.contains("<td>vanilla</td><td>tunnels=4</td><td>gw2</td><td>rep 1: none; rep 2: core 6 at 2 s; rep 3: none</td>"))
        #expect(html.contains("<td>vanilla</td><td>tunnels=4</td><td>gw1</td><td>rep 1: none; rep 2: none; rep 3: none</td>"))
        // Results recorded before the onsets were kept: no table at all.
        let old = try Self.blackHoleRun()
        defer { old.remove() }
        #expect(!HTMLReport.render(run: try old.load(), plots: []).contains("Saturation onset"))
    }

    @Test func theRepetitionWithTheBlackHoleIsPlottedSecondBySecond() throws {
        let run = try Self.blackHoleRun()
        defer { run.remove() }
        let plots = PlotSelection.plots(for: try run.load())
        let gw2 = try #require(plots.first { $0.name == "cpu-time-vanilla-gw2" })
        #expect(gw2.title == "vanilla, tunnels=4, repetition 2: CPU over time on gw2")
        #expect(gw2.svg.contains("class=\"plot cpu-timeline\" data-series-count=\"8\""))
        // Core 6: light for two seconds, then saturated to the end, each drawn as one run of cells.
        #expect(gw2.svg.contains("data-core=\"6\" data-from=\"0\" data-to=\"1\" data-step=\"1\""))
        #expect(gw2.svg.contains("data-core=\"6\" data-from=\"2\" data-to=\"29\" data-step=\"9\""))
        #expect(gw2.svg.contains("data-core=\"1\" data-from=\"0\" data-to=\"29\" data-step=\"4\""))
        #expect(gw2.svg.contains("◀ core 6: black hole"))
        #expect(count("class=\"cell\"", in: gw2.svg) == 9)
        #expect(plots.contains { $0.name == "cpu-time-vanilla-gw1" })
    }

    @Test func withoutABlackHoleTheFirstSuccessfulRepetitionIsPlotted() throws {
        let run = try Run(yaml: "name: x\nrepetitions: 3\nsweep: {tunnels: 2}\nseries: [{name: s, target: kernel}]")
        defer { run.remove() }
        try run.add(series: "s", repetition: 1, gbps: nil, status: .failed, reason: "injected")
        for repetition in 2...3 {
            try run.add(series: "s", repetition: repetition, gbps: 5, loads: ["gw2": Run.seconds(4, cores: 2, background: 30)])
        }
        let plot = try #require(PlotSelection.plots(for: try run.load()).first { $0.name == "cpu-time-s-gw2" })
        #expect(plot.title.contains("repetition 2"))
        #expect(!plot.svg.contains("black hole"))
    }

    @Test func thirtyTwoCoresStayReadable() throws {
        let text = SyntheticRun.samplerOutput(SyntheticRun.seconds(30, cores: 32, background: 15) { second, core in core == 30 ? Double(min(100, second * 4)) : nil })
        let timeline = try #require(CPUTimeline(samples: ProcStatParser.samples(text)))
        #expect(timeline.intervals.count == 30 && timeline.cpus == Array(0..<32) && timeline.duration == 30)
        #expect(timeline.series(cpu: 30).map { $0.map { Int($0.busy.rounded()) } }[25] == 100)
        let svg = Charts.cpuTimeline(title: "t", timeline: timeline)
        let height = try #require(Int(svg.components(separatedBy: "height=\"")[1].prefix { $0.isNumber }))  // the <svg>'s own
        #expect(height >= 32 * 10 && height <= 600)
        #expect(count("class=\"tick\"", in: svg) >= 16 + 6)  // every other core labelled, and the seconds
        #expect(count("data-core=\"30\"", in: svg) == 10)  // 0% rising to 100%: one run of cells per step
    }

    @Test func fewerThanTwoSamplesMakeNoTimeline() {
        #expect(CPUTimeline(samples: ProcStatParser.samples(SyntheticRun.samplerOutput([]))) == nil)
    }
}

struct CPUAgainstTunnelsTests {
    @Test func eachGatewaysMeanCPUIsPlottedAgainstTunnelsPerSeries() throws {
        let run = try SyntheticRun(yaml: """
        name: f8
        repetitions: 2
        sweep: {tunnels: [1, 2, 4], flows_per_tunnel: 1}
        series: [{name: vanilla-thr, target: kernel}, {name: inline, target: kernel}, {name: unsupported, target: kernel}]
        """)
        defer { run.remove() }
        for (series, perTunnel) in [("vanilla-thr", 20.0), ("inline", 10.0)] {
            for tunnels in [1, 2, 4] {
                for repetition in 1...2 {
                    let load = perTunnel * Double(tunnels) + Double(repetition)
                    try run.add(series: series, point: ["tunnels": String(tunnels)], repetition: repetition, gbps: 5,
                                loads: ["gw1": SyntheticRun.seconds(3, cores: 4, background: load - 5),
                                        "gw2": SyntheticRun.seconds(3, cores: 4, background: load)])
                }
            }
        }
        for tunnels in [1, 2, 4] {
            try run.add(series: "unsupported", point: ["tunnels": String(tunnels)], repetition: 1, gbps: nil, status: .unsupported, reason: "no module")
        }
        let directory = try run.load()
        let row = try #require(directory.summary.first { $0.series == "vanilla-thr" && $0.point.tunnels == 4 })
        #expect(abs(row.hostBusyPercent["gw2"]!.mean - 81.5) < 1e-6)
        let plots = PlotSelection.plots(for: directory)
        for host in ["gw1", "gw2"] {
            let plot = try #require(plots.first { $0.name == "cpu-tunnels-\(host)" })
            #expect(plot.title == "f8: \(host) CPU vs tunnels")
            #expect(count("<g class=\"series\"", in: plot.svg) == 2)
            #expect(count("class=\"marker\"", in: plot.svg) == 6 && count("class=\"errorbar\"", in: plot.svg) == 6)
            #expect(plot.svg.contains(">100</text>") && plot.svg.contains(">mean CPU usage (% of all cores)</text>"))
        }
        let flows = try SyntheticRun(yaml: "name: f4\nrepetitions: 1\nsweep: {flows: [1, 2]}\nseries: [{name: s, target: kernel}]")
        defer { flows.remove() }
        #expect(!PlotSelection.plots(for: try flows.load()).contains { $0.name.hasPrefix("cpu-tunnels") })
    }
}
