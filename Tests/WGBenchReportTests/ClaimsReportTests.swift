import Foundation
import Testing
import WGBenchCore
@testable import WGBenchReport

/// Fig. 7b's claims on a written run directory: what `wgbench report` prints and the HTML shows.
struct ClaimsReportTests {
    static func fig7b() throws -> SyntheticRun {
        let run = try SyntheticRun(yaml: """
        name: fig7b
        repetitions: 2
        sweep: {tunnels: 1, flows: 31}
        series: [{name: vanilla, target: kernel}, {name: improved, target: kernel}, {name: emulated, target: kernel}]
        claims:
          - {paper: "Fig. 7b: improved is 45% faster than vanilla", measure: ratio, series: improved, over: vanilla, about: 1.45}
          - {paper: "Fig. 7b: improved above 7 Gbps", measure: throughput, series: improved, above: 7}
          - {paper: "Fig. 5: gw2's rx-tun core saturated", measure: core, series: vanilla, host: gw2, stage: rx-tun, above: 90}
          - {paper: "no black hole with one tunnel", measure: black-hole, series: vanilla, host: gw2, below: 0.5}
          - {paper: "emulated like vanilla", measure: ratio, series: emulated, over: vanilla, about: 1}
        """)
        let rx = ["gw2": [CoreAssignment(cpu: 0, stage: .rxTunnel, tunnel: 1)]]
        for (repetition, vanilla, improved) in [(1, 5.0, 7.1), (2, 5.2, 7.3)] {
            let loads = ["gw2": SyntheticRun.seconds(5, cores: 4, background: 20) { _, core in core == 0 ? 100 : nil }]
            try run.add(series: "vanilla", repetition: repetition, gbps: vanilla, loads: loads, placement: rx)
            try run.add(series: "improved", repetition: repetition, gbps: improved)
            try run.add(series: "emulated", repetition: repetition, gbps: nil, status: .unsupported, reason: "no patched module")
        }
        return run
    }

    @Test func theTerminalTableNumbersTheClaimsAndSaysHowEachFared() throws {
        let run = try Self.fig7b()
        defer { run.remove() }
        let claims = try run.load().claims
        #expect(claims.map(\.verdict) == [.holds, .holds, .holds, .holds, .notMeasured])
        let text = ClaimsReport.text(claims)
        let ratio = 7.2 / 5.1
        let first = try #require(text.split(separator: "\n").dropFirst().first)
        #expect(first.hasPrefix("1  improved / vanilla throughput  about 1.45 (±20%)"))
        #expect(first.contains(String(format: "%.2f ± %.2f", ratio, claims[0].halfWidth!)))
        #expect(first.contains("  holds  "))
        #expect(text.contains("above 7 Gbit/s") && text.contains("% busy"))
        #expect(text.contains("not measured  emulated is unsupported on this testbed: no patched module"))
        #expect(text.contains("  1. Fig. 7b: improved is 45% faster than vanilla"))
        #expect(text.hasSuffix("5 claims: 4 holds, 0 does not hold, 1 not measured.\n"))
    }

    @Test func theHTMLReportShowsTheClaimsAndHowTheyWereComputed() throws {
        let run = try Self.fig7b()
        defer { run.remove() }
        let directory = try run.load()
        let html = HTMLReport.render(run: directory, plots: PlotSelection.plots(for: directory))
        #expect(html.contains("<h2>The paper's claims</h2>"))
        #expect(count("<td class=\"ok\">holds</td>", in: html) == 4)
        #expect(count("<td class=\"unsupported\">not measured</td>", in: html) == 1)
        #expect(html.contains("<td>Fig. 7b: improved is 45% faster than vanilla</td><td>improved / vanilla throughput</td><td>about 1.45 (±20%)</td>"))
        #expect(html.contains("delta method, r·√((ci_a/a)² + (ci_b/b)²)"))
        #expect(html.contains("0.00 (95% CI 0.00-0.66) of repetitions"))
        #expect(html.range(of: "The paper's claims")!.lowerBound < html.range(of: "<h2>Plots</h2>")!.lowerBound)
    }

    @Test func theWriterKeepsTheClaimsAsJSON() throws {
        let run = try Self.fig7b()
        defer { run.remove() }
        let out = run.url.appendingPathComponent("report")
        try ReportWriter.write(run: try run.load(), to: out)
        let claims = try JSONDecoder().decode([ClaimResult].self, from: Data(contentsOf: out.appendingPathComponent("claims.json")))
        #expect(claims.count == 5 && claims[2].claim.measure == .core(of: ClaimSubject(series: "vanilla", point: claims[2].claim.measure.subjects[0].point),
                                                                      host: .gw2, stage: .rxTunnel))
        #expect(abs((claims[2].value ?? 0) - 100) < 1e-9)
    }

    @Test func aRunWithoutClaimsHasNoClaimsSection() throws {
        let run = try RecordedRun.load()
        #expect(run.claims.isEmpty && ClaimsReport.text(run.claims).isEmpty)
        #expect(!HTMLReport.render(run: run, plots: []).contains("The paper's claims"))
    }
}
