import Foundation
import WGBenchCore

extension Charts {
    /// Busy % in ten 10% steps, light to dark (ColorBrewer YlOrRd with a grey floor); the last
    /// step, 90% and more, is what the findings call saturated.
    static let busySteps = ["#f2f2f2", "#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"]

    /// The step of a busy percentage: 0 for under 10%, ..., 9 for 90% and more.
    static func busyStep(_ busy: Double) -> Int { min(busySteps.count - 1, max(0, Int((busy / 10).rounded(.down)))) }

    /// CPU over time on one host: a strip per core (rows, core 0 at the top), time along x, each
    /// cell coloured by the core's busy % in that interval. A strip chart stays readable at 32
    /// cores where 32 lines would not. Consecutive cells of the same step are drawn as one
    /// rectangle (`data-from`/`data-to`: the first and last interval, 0-based), which keeps a
    /// 32-core, 30-second plot small. Cores in `marked` get that note beside their strip. Time
    /// runs from the start of the traffic where `steadyFrom` (the start of the measured window,
    /// drawn as a dashed line) is known; each of `onsets` is a black tick on its core's strip.
    public static func cpuTimeline(title: String, timeline: CPUTimeline, marked: [Int: String] = [:],
                                   steadyFrom: Double? = nil, onsets: [SaturationOnset] = []) -> String {
        let cpus = timeline.cpus
        let rowHeight = max(6, min(24, 420 / Double(max(1, cpus.count))))
        var frame = PlotFrame(title: title, xLabel: steadyFrom == nil ? "seconds into the measured window" : "seconds since the traffic started",
                              yLabel: "core", yMax: 1)
        frame.right = 130
        frame.bottom = 80
        frame.height = frame.top + rowHeight * Double(cpus.count) + frame.bottom
        let duration = max(timeline.duration, 1e-9)
        let x = { (seconds: Double) in frame.left + frame.plotWidth * seconds / duration }
        let labelEvery = cpus.count > 40 ? 4 : (cpus.count > 16 ? 2 : 1)

        var out = frame.open(kind: "cpu-timeline", series: cpus.count)
        out += "<g class=\"axis y\">\n"
        for (row, cpu) in cpus.enumerated() where row % labelEvery == 0 || marked[cpu] != nil {
            let y = frame.top + rowHeight * (Double(row) + 0.5) + 3.5
            out += SVG.text(frame.left - 6, y, String(cpu), anchor: "end", size: min(11, Int(rowHeight)), cls: "tick") + "\n"
        }
        out += SVG.text(18, frame.top + frame.plotHeight / 2, frame.yLabel, size: 12, cls: "axis-label", rotate: true) + "\n</g>\n"
        out += "<g class=\"axis x\">\n" + SVG.line(frame.left, frame.top + frame.plotHeight, frame.left + frame.plotWidth, frame.top + frame.plotHeight) + "\n"
        for tick in SVG.ticks(upTo: duration, count: 6) where tick <= duration + 1e-9 {
            out += SVG.line(x(tick), frame.top + frame.plotHeight, x(tick), frame.top + frame.plotHeight + 5) + "\n"
            out += SVG.text(x(tick), frame.top + frame.plotHeight + 18, SVG.label(tick), size: 11, cls: "tick") + "\n"
        }
        out += SVG.text(frame.left + frame.plotWidth / 2, frame.top + frame.plotHeight + 36, frame.xLabel, size: 12, cls: "axis-label") + "\n</g>\n"

        out += "<g class=\"cells\">\n"
        for (row, cpu) in cpus.enumerated() {
            let steps = timeline.series(cpu: cpu).map { $0.map { busyStep($0.busy) } }
            let y = frame.top + rowHeight * Double(row)
            var from = 0
            while from < steps.count {
                var to = from
                while to + 1 < steps.count && steps[to + 1] == steps[from] { to += 1 }
                if let step = steps[from] {
                    let left = x(timeline.intervals[from].start), right = x(timeline.intervals[to].end)
                    out += "<rect class=\"cell\" data-core=\"\(cpu)\" data-from=\"\(from)\" data-to=\"\(to)\" data-step=\"\(step)\" "
                        + "x=\"\(SVG.number(left))\" y=\"\(SVG.number(y))\" width=\"\(SVG.number(right - left))\" "
                        + "height=\"\(SVG.number(rowHeight - 1))\" fill=\"\(busySteps[step])\"/>\n"
                }
                from = to + 1
            }
        }
        out += "</g>\n<g class=\"marks\">\n"
        if let steadyFrom, steadyFrom > 0 {
            // White under black dashes: visible on the palest and on the darkest cells.
            let line = "x1=\"\(SVG.number(x(steadyFrom)))\" y1=\"\(SVG.number(frame.top - 2))\" x2=\"\(SVG.number(x(steadyFrom)))\" "
                + "y2=\"\(SVG.number(frame.top + frame.plotHeight + 2))\""
            out += "<line class=\"steady-from\" \(line) stroke=\"#fff\" stroke-width=\"3\"/>\n"
            out += "<line \(line) stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n"
            out += SVG.text(x(steadyFrom) + 3, frame.top - 4, "measured from here", anchor: "start", size: 10, cls: "mark") + "\n"
        }
        for onset in onsets {
            guard let row = cpus.firstIndex(of: onset.cpu) else { continue }
            let y = frame.top + rowHeight * Double(row)
            out += "<rect class=\"onset\" data-core=\"\(onset.cpu)\" data-seconds=\"\(ClaimExpectation.format(onset.seconds))\" x=\"\(SVG.number(x(onset.seconds) - 1))\" "
                + "y=\"\(SVG.number(y))\" width=\"2\" height=\"\(SVG.number(rowHeight - 1))\" fill=\"#000\"/>\n"
        }
        for (row, cpu) in cpus.enumerated() {
            guard let note = marked[cpu] else { continue }
            let y = frame.top + rowHeight * (Double(row) + 0.5) + 3.5
            out += SVG.text(frame.left + frame.plotWidth + 6, y, "◀ core \(cpu): \(note)", anchor: "start", size: 11, cls: "mark") + "\n"
        }
        // The legend runs along the bottom, so that a host with two cores is as tall as it needs.
        out += "</g>\n<g class=\"legend\">\n"
        let legendY = frame.height - 20
        out += SVG.text(frame.left, legendY + 10, "busy %", anchor: "end", size: 11, cls: "legend-entry") + "\n"
        for (index, color) in busySteps.enumerated() {
            let left = frame.left + 8 + Double(index) * 52
            out += "<rect x=\"\(SVG.number(left))\" y=\"\(SVG.number(legendY))\" width=\"16\" height=\"12\" fill=\"\(color)\" stroke=\"#ccc\"/>\n"
            out += SVG.text(left + 19, legendY + 10, index == busySteps.count - 1 ? "90+" : "\(index * 10)-\(index * 10 + 10)",
                            anchor: "start", size: 10, cls: "legend-entry") + "\n"
        }
        return out + "</g>\n</svg>\n"
    }
}
