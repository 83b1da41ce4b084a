import Foundation
import WGBenchCore

/// A plot of the report, as SVG text.
public struct Plot: Sendable {
    public var name: String
    public var title: String
    public var svg: String
}

/// Chooses the paper-style plots for a run from the shape of its sweep: throughput against the
/// swept variable (Figs. 4, 8) and, against tunnels, each gateway's mean CPU; grouped bars when
/// there is nothing to sweep (Figs. 6, 7); per-core CPU bars for each series at its largest point
/// (Figs. 5, 9), with that point's CPU over time in one repetition.
public enum PlotSelection {
    static let preferredX = ["tunnels", "flows", "flows_per_tunnel"]

    public static func plots(for run: RunDirectory) -> [Plot] {
        let spec = run.record.spec
        let summary = run.summary
        var plots: [Plot] = []
        let swept = spec.sweep.filter { $0.values.count > 1 }
        let x = swept.first { preferredX.contains($0.name) && $0.values.allSatisfy { Double($0) != nil } }
            ?? swept.first { $0.values.allSatisfy { Double($0) != nil } }
        if let x {
            // Variables with a single value (fig8's flows_per_tunnel: 1) hold for every row: no plot per value.
            let others = swept.filter { $0.name != x.name }
            for (index, fixed) in Sweep.points(others).enumerated() {
                let rows = summary.filter { row in fixed.assignments.allSatisfy { row.point.value($0.name) == $0.value } }
                var lines: [LineSeries] = spec.series.map { series in
                    LineSeries(name: series.name, points: rows.filter { $0.series == series.name }.compactMap { row in
                        guard let stats = row.throughputGbps, let value = row.point.value(x.name).flatMap(Double.init) else { return nil }
                        return (value, stats.mean, stats.ci95)
                    })
                }
                let withCPU = x.name == "flows" || x.name == "flows_per_tunnel"
                if withCPU {
                    for series in spec.series {
                        for host in ["gw1", "gw2"] {
                            let points: [(x: Double, y: Double, error: Double?)] = rows.filter { $0.series == series.name }.compactMap { row in
                                guard let busy = row.meanCoreUsage[host].flatMap(CoreUsage.meanBusy),
                                      let value = row.point.value(x.name).flatMap(Double.init) else { return nil }
                                return (value, busy, nil)
                            }
                            if !points.isEmpty { lines.append(LineSeries(name: "\(series.name) \(host) CPU", points: points, rightAxis: true)) }
                        }
                    }
                }
                lines = lines.filter { !$0.points.isEmpty }
                guard !lines.isEmpty else { continue }
                let suffix = fixed.assignments.isEmpty ? "" : " (\(fixed.id))"
                let title = "\(spec.name): throughput vs \(x.name)\(suffix)"
                plots.append(Plot(name: "throughput-\(x.name)\(fixed.assignments.isEmpty ? "" : "-\(index + 1)")", title: title,
                                  svg: Charts.line(title: title, xLabel: x.name, yLabel: "throughput (Gbit/s)", series: lines,
                                                   rightLabel: withCPU ? "mean CPU usage (%)" : nil)))
                if x.name == "tunnels" {
                    plots += cpuAgainstTunnels(spec: spec, rows: rows, suffix: suffix, number: fixed.assignments.isEmpty ? nil : index + 1)
                }
            }
        } else {
            let points = Sweep.points(spec.sweep)
            let title = "\(spec.name): throughput per series"
            let bars = spec.series.map { series in
                (name: series.name, values: points.map { point -> (mean: Double, error: Double)? in
                    summary.first { $0.series == series.name && $0.point == point }?.throughputGbps.map { ($0.mean, $0.ci95) }
                })
            }
            plots.append(Plot(name: "throughput-bars", title: title,
                              svg: Charts.groupedBars(title: title, yLabel: "throughput (Gbit/s)", groups: points.map(\.id), series: bars)))
        }
        for series in spec.series {
            guard let row = summary.filter({ $0.series == series.name && !$0.meanCoreUsage.isEmpty })
                .max(by: { $0.point.flows < $1.point.flows }) else { continue }
            for (host, cores) in row.meanCoreUsage.sorted(by: { $0.key < $1.key }) {
                let title = "\(series.name), \(row.point.id): per-core CPU on \(host)"
                plots.append(Plot(name: "cpu-\(series.name)-\(host)", title: title, svg: Charts.perCore(title: title, cores: cores)))
            }
            plots += timelines(run: run, series: series.name, row: row)
        }
        return plots
    }

    /// Mean CPU of each gateway (% of all its cores, 95% CI over repetitions) against tunnels, one
    /// line per series (Fig. 8's CPU side: NUMA-aware thr saturates every core near 65 Gbps while
    /// Inline has CPU to spare).
    static func cpuAgainstTunnels(spec: ExperimentSpec, rows: [PointSummary], suffix: String, number: Int?) -> [Plot] {
        ["gw1", "gw2"].compactMap { host -> Plot? in
            let lines = spec.series.map { series in
                LineSeries(name: series.name, points: rows.filter { $0.series == series.name }.compactMap { row in
                    guard let stats = row.hostBusyPercent[host], let tunnels = row.point.value("tunnels").flatMap(Double.init) else { return nil }
                    return (tunnels, stats.mean, stats.ci95)
                })
            }.filter { !$0.points.isEmpty }
            guard !lines.isEmpty else { return nil }
            let title = "\(spec.name): \(host) CPU vs tunnels\(suffix)"
            return Plot(name: "cpu-tunnels-\(host)\(number.map { "-\($0)" } ?? "")", title: title,
                        svg: Charts.line(title: title, xLabel: "tunnels", yLabel: "mean CPU usage (% of all cores)", series: lines, yMax: 100))
        }
    }

    /// CPU over time, per sampled host, in one repetition of the point: the first with a black
    /// hole, else the first that succeeded, from the start of the traffic, with the start of the
    /// measured window and each core's saturation onset marked. Needs the raw sampler files.
    static func timelines(run: RunDirectory, series: String, row: PointSummary) -> [Plot] {
        let chosen = row.repetitionFindings.first { $0.findings.contains { $0.kind == .blackHole } } ?? row.repetitionFindings.first
        guard let chosen else { return [] }
        let key = RunKey(series: series, point: row.point, repetition: chosen.repetition)
        let result = run.results.first { $0.key == key }
        return chosen.hosts.compactMap { host -> Plot? in
            guard let samples = run.cpuSamples(key, host: host), let timeline = CPUTimeline(samples: samples) else { return nil }
            let onsets = result?.saturation?[host] ?? []
            var marked: [Int: String] = [:]
            for onset in onsets { marked[onset.cpu] = "saturated from \(ClaimExpectation.format(onset.seconds)) s" }
            for finding in chosen.findings where finding.host == host && finding.kind == .blackHole {
                for core in finding.cores { marked[core] = "black hole" + (marked[core].map { ", \($0)" } ?? "") }
            }
            let title = "\(series), \(row.point.id), repetition \(chosen.repetition): CPU over time on \(host)"
            return Plot(name: "cpu-time-\(series)-\(host)", title: title,
                        svg: Charts.cpuTimeline(title: title, timeline: timeline, marked: marked, steadyFrom: result?.steadyFrom, onsets: onsets))
        }
    }
}
