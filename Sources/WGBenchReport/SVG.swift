import Foundation

/// Small helpers for writing SVG by hand: escaping, number formatting, axis ticks, colours.
enum SVG {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func number(_ value: Double) -> String { String(format: "%.1f", value) }

    /// About `count` round tick values covering 0...max.
    static func ticks(upTo max: Double, count: Int = 5) -> [Double] {
        guard max > 0, max.isFinite else { return [0, 1] }
        let raw = max / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2.0, 2.5, 5.0, 10.0].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        return stride(from: 0.0, through: (max / step).rounded(.up) * step + step / 2, by: step).map { $0 }
    }

    /// 1, 2 and 5 times each power of ten from `low` to `high` (both decades).
    static func logTicks(from low: Double, to high: Double) -> [Double] {
        var ticks: [Double] = []
        var decade = low
        while decade <= high * 1.0001 {
            for factor in [1.0, 2.0, 5.0] where decade * factor <= high * 1.0001 { ticks.append(decade * factor) }
            decade *= 10
        }
        return ticks
    }

    static func label(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: value < 0.01 ? "%.3g" : (value < 1 ? "%.2f" : "%.1f"), value)
    }

    /// Colour-blind safe (Okabe-Ito), then greys.
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#777777", "#AAAAAA"]
    static func color(_ index: Int) -> String { palette[index % palette.count] }

    static func text(_ x: Double, _ y: Double, _ content: String, anchor: String = "middle", size: Int = 12,
                     cls: String = "", rotate: Bool = false) -> String {
        let transform = rotate ? " transform=\"rotate(-90 \(number(x)) \(number(y)))\"" : ""
        return "<text x=\"\(number(x))\" y=\"\(number(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\""
            + (cls.isEmpty ? "" : " class=\"\(cls)\"") + "\(transform)>\(escape(content))</text>"
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#000",
                     width: Double = 1, cls: String = "", dash: Bool = false) -> String {
        "<line x1=\"\(number(x1))\" y1=\"\(number(y1))\" x2=\"\(number(x2))\" y2=\"\(number(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(number(width))\""
            + (dash ? " stroke-dasharray=\"4 3\"" : "") + (cls.isEmpty ? "" : " class=\"\(cls)\"") + "/>"
    }
}

/// The frame shared by every plot: size, margins, title, axes with ticks and labels.
struct PlotFrame {
    var width = 720.0, height = 420.0
    var left = 70.0, right = 70.0, top = 40.0, bottom = 60.0
    var title: String
    var xLabel: String
    var yLabel: String
    var yMax: Double
    var rightLabel: String?
    var rightMax: Double = 100
    /// A logarithmic y axis from `yMin` (both decades), for series that differ by orders of magnitude.
    var logScale = false
    var yMin = 1.0

    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }
    var yTicks: [Double] { logScale ? SVG.logTicks(from: yMin, to: yMax) : SVG.ticks(upTo: yMax) }
    var yTop: Double { logScale ? yMax : (yTicks.last ?? 1) }

    /// A value's height, clipped to the plot (a whisker below zero or the bottom decade ends at the axis).
    func y(_ value: Double) -> Double {
        if logScale {
            let clipped = Swift.min(Swift.max(value, yMin), yMax)
            return top + plotHeight * (1 - (log10(clipped) - log10(yMin)) / (log10(yMax) - log10(yMin)))
        }
        return top + plotHeight * (1 - Swift.min(Swift.max(value, 0), yTop) / yTop)
    }

    /// The scale for values (bars, line points and whisker ends) read as PlotFrame's y: logarithmic
    /// when the positive ones span more than `logSpan` (as plotting libraries switch to log axes),
    /// between whole decades; else linear from zero.
    mutating func chooseScale(values: [Double], means: [Double]) {
        let positive = means.filter { $0 > 0 }
        guard let low = positive.min(), let high = values.filter({ $0 > 0 }).max(), high / low > Self.logSpan else {
            logScale = false
            return
        }
        logScale = true
        yMin = pow(10, floor(log10(low)))
        yMax = pow(10, ceil(log10(high)))
        if yMax <= yMin { yMax = yMin * 10 }
    }

    /// Series whose means span more than this factor get a logarithmic axis.
    static let logSpan = 20.0

    var scaleName: String { logScale ? "log" : "linear" }
    func yRight(_ value: Double) -> Double { top + plotHeight * (1 - value / rightMax) }

    func open(kind: String, series: Int) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot \(kind)\" data-series-count=\"\(series)\" data-y-scale=\"\(scaleName)\" "
            + "width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
            + SVG.text(width / 2, 22, title, size: 15, cls: "title") + "\n"
    }

    /// The y axis (left, and right when set) with grid lines; the x axis line and its label.
    func axes() -> String {
        var out = "<g class=\"axis y\">\n"
        for tick in yTicks {
            out += SVG.line(left, y(tick), left + plotWidth, y(tick), stroke: "#e5e5e5") + "\n"
            out += SVG.text(left - 8, y(tick) + 4, SVG.label(tick), anchor: "end", size: 11, cls: "tick") + "\n"
        }
        out += SVG.line(left, top, left, top + plotHeight) + "\n"
        out += SVG.text(18, top + plotHeight / 2, yLabel + (logScale ? ", log scale" : ""), size: 12, cls: "axis-label", rotate: true) + "\n</g>\n"
        if let rightLabel {
            out += "<g class=\"axis y2\">\n" + SVG.line(left + plotWidth, top, left + plotWidth, top + plotHeight) + "\n"
            for tick in stride(from: 0.0, through: rightMax, by: rightMax / 4) {
                out += SVG.text(left + plotWidth + 8, yRight(tick) + 4, SVG.label(tick), anchor: "start", size: 11, cls: "tick") + "\n"
            }
            out += SVG.text(width - 16, top + plotHeight / 2, rightLabel, size: 12, cls: "axis-label", rotate: true) + "\n</g>\n"
        }
        out += "<g class=\"axis x\">\n" + SVG.line(left, top + plotHeight, left + plotWidth, top + plotHeight) + "\n"
        out += SVG.text(left + plotWidth / 2, height - 14, xLabel, size: 12, cls: "axis-label") + "\n"
        return out
    }

    /// What the whiskers are, under the title.
    func whiskerNote() -> String {
        SVG.text(left + plotWidth, top - 6, "whiskers: 95% CI of the mean, clipped to the plot", anchor: "end", size: 10, cls: "whisker-note") + "\n"
    }

    /// Inside the plot's top-left corner, or in the right margin when `outside`.
    func legend(_ entries: [(String, String, Bool)], outside: Bool = false) -> String {
        var out = "<g class=\"legend\">\n"
        for (index, (name, color, dashed)) in entries.enumerated() {
            let x = outside ? left + plotWidth + 8 : left + 10, y = top + 14 + Double(index) * 16
            out += SVG.line(x, y - 4, x + 22, y - 4, stroke: color, width: 2.5, dash: dashed) + "\n"
            out += SVG.text(x + 28, y, name, anchor: "start", size: 11, cls: "legend-entry") + "\n"
        }
        return out + "</g>\n"
    }
}
