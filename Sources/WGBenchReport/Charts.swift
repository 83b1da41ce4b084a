import Foundation
import WGBenchCore

/// One line of a line chart: y (with an optional 95% CI half-width) at each x.
public struct LineSeries: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double, error: Double?)]
    /// Drawn against the right axis (CPU %) and dashed.
    public var rightAxis: Bool

    public init(name: String, points: [(x: Double, y: Double, error: Double?)], rightAxis: Bool = false) {
        self.name = name
        self.points = points
        self.rightAxis = rightAxis
    }
}

public enum Charts {
    /// Throughput against a sweep variable, one line per series, error bars for the 95% CI
    /// (Figs. 4 and 8); series marked `rightAxis` are CPU percentages on a second axis. `yMax`
    /// fixes the left axis (100 for a percentage) instead of fitting it to the data.
    public static func line(title: String, xLabel: String, yLabel: String, series: [LineSeries], rightLabel: String? = nil,
                            yMax fixedMax: Double? = nil) -> String {
        let xs = Array(Set(series.flatMap { $0.points.map(\.x) })).sorted()
        let left = series.filter { !$0.rightAxis }
        let yMax = fixedMax ?? left.flatMap { $0.points.map { $0.y + ($0.error ?? 0) } }.max() ?? 1
        var frame = PlotFrame(title: title, xLabel: xLabel, yLabel: yLabel, yMax: max(yMax, 1e-9), rightLabel: rightLabel)
        if fixedMax == nil {
            frame.chooseScale(values: left.flatMap { $0.points.map { $0.y + ($0.error ?? 0) } }, means: left.flatMap { $0.points.map(\.y) })
        }
        let xMin = xs.first ?? 0, xMax = xs.last ?? 1
        let xPos = { (x: Double) -> Double in
            xMax == xMin ? frame.left + frame.plotWidth / 2 : frame.left + 20 + (frame.plotWidth - 40) * (x - xMin) / (xMax - xMin)
        }
        var out = frame.open(kind: "line-chart", series: series.count) + frame.axes()
        let whiskers = left.contains { $0.points.contains { ($0.error ?? 0) > 0 } }
        for x in xs {
            out += SVG.line(xPos(x), frame.top + frame.plotHeight, xPos(x), frame.top + frame.plotHeight + 5) + "\n"
            out += SVG.text(xPos(x), frame.top + frame.plotHeight + 18, SVG.label(x), size: 11, cls: "tick") + "\n"
        }
        out += "</g>\n"
        for (index, line) in series.enumerated() {
            let color = SVG.color(index)
            let y = { (value: Double) in line.rightAxis ? frame.yRight(value) : frame.y(value) }
            let path = line.points.sorted { $0.x < $1.x }.enumerated()
                .map { "\($0.offset == 0 ? "M" : "L")\(SVG.number(xPos($0.element.x))) \(SVG.number(y($0.element.y)))" }.joined(separator: " ")
            out += "<g class=\"series\" data-series=\"\(SVG.escape(line.name))\">\n"
            out += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"" + (line.rightAxis ? " stroke-dasharray=\"5 4\"" : "") + "/>\n"
            for point in line.points {
                out += "<circle class=\"marker\" cx=\"\(SVG.number(xPos(point.x)))\" cy=\"\(SVG.number(y(point.y)))\" r=\"3.5\" fill=\"\(color)\"/>\n"
                if let error = point.error, error > 0 {
                    let x = xPos(point.x)
                    out += SVG.line(x, y(point.y - error), x, y(point.y + error), stroke: color, cls: "errorbar") + "\n"
                    for edge in [point.y - error, point.y + error] { out += SVG.line(x - 4, y(edge), x + 4, y(edge), stroke: color) + "\n" }
                }
            }
            out += "</g>\n"
        }
        out += frame.legend(series.enumerated().map { ($0.element.name, SVG.color($0.offset), $0.element.rightAxis) })
        return out + (whiskers ? frame.whiskerNote() : "") + "</svg>\n"
    }

    /// Per-core CPU usage of one host at one point, stacked user/system/irq/softirq (Figs. 5 and 9).
    public static func perCore(title: String, cores: [CoreUsage]) -> String {
        let categories: [(String, KeyPath<CoreUsage, Double>, String)] = [
            ("user", \.user, "#0072B2"), ("system", \.system, "#E69F00"), ("irq", \.irq, "#CC79A7"), ("softirq", \.softirq, "#D55E00"),
        ]
        var frame = PlotFrame(title: title, xLabel: "core", yLabel: "CPU usage (%)", yMax: 100)
        frame.right = 90
        let slot = frame.plotWidth / Double(max(1, cores.count))
        var out = frame.open(kind: "per-core", series: categories.count) + frame.axes()
        for (index, core) in cores.enumerated() where cores.count <= 40 || index % (cores.count / 32 + 1) == 0 {
            out += SVG.text(frame.left + slot * (Double(index) + 0.5), frame.top + frame.plotHeight + 18, String(core.cpu), size: 10, cls: "tick") + "\n"
        }
        out += "</g>\n"
        for (name, path, color) in categories {
            out += "<g class=\"series\" data-series=\"\(name)\">\n"
            for (index, core) in cores.enumerated() {
                let below = categories.prefix { $0.0 != name }.map { core[keyPath: $0.1] }.reduce(0, +)
                let value = core[keyPath: path]
                guard value > 0 else { continue }
                out += "<rect class=\"bar\" data-core=\"\(core.cpu)\" x=\"\(SVG.number(frame.left + slot * Double(index) + slot * 0.15))\" "
                    + "y=\"\(SVG.number(frame.y(below + value)))\" width=\"\(SVG.number(slot * 0.7))\" "
                    + "height=\"\(SVG.number(frame.y(below) - frame.y(below + value)))\" fill=\"\(color)\"/>\n"
            }
            out += "</g>\n"
        }
        out += frame.legend(categories.map { ($0.0, $0.2, false) }, outside: true)
        return out + "</svg>\n"
    }

    /// One bar per series for each group (a point), with 95% CI error bars (Figs. 6 and 7).
    public static func groupedBars(title: String, yLabel: String, groups: [String],
                                   series: [(name: String, values: [(mean: Double, error: Double)?])]) -> String {
        let yMax = series.flatMap { $0.values.compactMap { $0.map { $0.mean + $0.error } } }.max() ?? 1
        var frame = PlotFrame(title: title, xLabel: "", yLabel: yLabel, yMax: max(yMax, 1e-9))
        frame.chooseScale(values: series.flatMap { $0.values.compactMap { $0.map { $0.mean + $0.error } } },
                          means: series.flatMap { $0.values.compactMap { $0?.mean } })
        frame.right = 150
        let groupWidth = frame.plotWidth / Double(max(1, groups.count))
        let barWidth = groupWidth * 0.8 / Double(max(1, series.count))
        var out = frame.open(kind: "grouped-bars", series: series.count) + frame.axes()
        for (index, group) in groups.enumerated() {
            out += SVG.text(frame.left + groupWidth * (Double(index) + 0.5), frame.top + frame.plotHeight + 18, group, size: 11, cls: "tick") + "\n"
        }
        out += "</g>\n"
        for (seriesIndex, entry) in series.enumerated() {
            let color = SVG.color(seriesIndex)
            out += "<g class=\"series\" data-series=\"\(SVG.escape(entry.name))\">\n"
            for (groupIndex, value) in entry.values.enumerated() {
                guard let value else { continue }
                let x = frame.left + groupWidth * Double(groupIndex) + groupWidth * 0.1 + barWidth * Double(seriesIndex)
                // Bars rise from the axis: zero, or the bottom decade on a log scale.
                out += "<rect class=\"bar\" x=\"\(SVG.number(x))\" y=\"\(SVG.number(frame.y(value.mean)))\" width=\"\(SVG.number(barWidth * 0.9))\" "
                    + "height=\"\(SVG.number(frame.y(0) - frame.y(value.mean)))\" fill=\"\(color)\"/>\n"
                out += SVG.text(x + barWidth * 0.45, frame.y(value.mean) - 4, SVG.label((value.mean * 100).rounded() / 100), size: 10, cls: "value") + "\n"
                if value.error > 0 {
                    let center = x + barWidth * 0.45
                    out += SVG.line(center, frame.y(value.mean - value.error), center, frame.y(value.mean + value.error), cls: "errorbar") + "\n"
                }
            }
            out += "</g>\n"
        }
        out += frame.legend(series.enumerated().map { ($0.element.name, SVG.color($0.offset), false) }, outside: true)
        let whiskers = series.contains { $0.values.contains { ($0?.error ?? 0) > 0 } }
        return out + (whiskers ? frame.whiskerNote() : "") + "</svg>\n"
    }
}
