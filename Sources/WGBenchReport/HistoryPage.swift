import Foundation
import WGBenchCore

/// The nightly history as one self-contained HTML page: the runs with their metadata, the marks
/// (regressions and improvements, each linking to its run's report), and a trend per point.
public enum HistoryPage {
    public static func render(_ history: History, title: String) -> String {
        let date = ISO8601DateFormatter()
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <title>wgbench history: \(esc(title))</title>
        <style>
        body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1200px; }
        table { border-collapse: collapse; margin: 8px 0 20px; font-size: 13px; }
        th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
        th { background: #f2f2f2; } .regression { color: #b00020; } .improvement { color: #1b5e20; }
        .trends svg { margin: 6px; border: 1px solid #ddd; }
        </style></head><body>
        <h1>wgbench history: \(esc(title))</h1>
        <p>\(history.runs.count) runs, oldest first. Each run is compared with the previous run of the same experiment
        (paired ratios over the baseline series where both were measured in blocks with one; else absolute throughput;
        Welch's t-test at p &lt; 0.05). ▼ marks a significant regression, ▲ a significant improvement; each mark links to the run's report.</p>

        """
        let marks = history.lines.flatMap { line in
            line.entries.filter { $0.regression || $0.improvement }.map { (line, $0) }
        }
        html += "<h2>Marks</h2>\n"
        if marks.isEmpty {
            html += "<p>No significant change between consecutive runs.</p>\n"
        } else {
            html += "<table class=\"marks\">\n<tr><th></th><th>run</th><th>commit</th><th>experiment</th><th>series</th><th>point</th><th>change</th><th>p</th></tr>\n"
            for (line, entry) in marks {
                let run = history.runs[entry.run]
                let kind = entry.regression ? "regression" : "improvement"
                html += "<tr class=\"\(kind)\"><td>\(entry.regression ? "▼" : "▲") \(kind)</td><td><a href=\"\(esc(reportLink(run)))\">\(esc(run.name))</a></td>"
                    + "<td>\(esc(run.commit ?? "-"))</td><td>\(esc(line.experiment))</td><td>\(esc(entry.comparison?.series ?? line.series))</td>"
                    + "<td>\(esc(line.point))</td><td>\(entry.comparison?.deltaPercent.map { String(format: "%+.1f%%", $0) } ?? "-")</td>"
                    + "<td>\(entry.comparison?.p.map { String(format: "%.3g", $0) } ?? "-")</td></tr>\n"
            }
            html += "</table>\n"
        }
        html += "<h2>Trends</h2>\n<div class=\"trends\">\n"
        for line in history.lines { html += trend(line, history: history) }
        html += "</div>\n<h2>Runs</h2>\n<table class=\"runs\">\n<tr><th>#</th><th>run</th><th>started</th><th>experiment</th><th>commit</th><th>kernel</th><th>versions</th></tr>\n"
        for (index, run) in history.runs.enumerated() {
            html += "<tr><td>\(index + 1)</td><td><a href=\"\(esc(reportLink(run)))\">\(esc(run.name))</a></td><td>\(date.string(from: run.started))</td>"
                + "<td>\(esc(run.experiment))</td><td>\(esc(run.commit ?? "-"))</td><td>\(esc(run.kernel ?? "-"))</td>"
                + "<td>\(esc(run.versions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))</td></tr>\n"
        }
        html += "</table>\n"
        if !history.skipped.isEmpty {
            html += "<h2>Not read</h2>\n<ul>\n" + history.skipped.map { "<li>\(esc($0))</li>\n" }.joined() + "</ul>\n"
        }
        return html + "</body></html>\n"
    }

    /// A run's report, relative to the page. The run's name is a directory name, which can be
    /// anything a file name can: as written, `javascript:alert(1)` is a URL that runs script and
    /// `a?b` or `a#b` would cut the path short. So the name is one percent-encoded path segment,
    /// after `./`, which keeps even a name with a colon a relative path.
    static func reportLink(_ run: History.Run) -> String { "./\(pathSegment(run.name))/report/report.html" }

    /// `text` as one URL path segment: RFC 3986's unreserved characters as they are, every other byte `%XX`.
    static func pathSegment(_ text: String) -> String {
        PathPartEncoding.percentEncoded(text) { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): return true
            default: return false
            }
        }
    }

    /// Throughput of one point over the runs, 95% CI whiskers, marks linked to the runs' reports.
    static func trend(_ line: History.Line, history: History) -> String {
        let entries = line.entries.filter { $0.gbps != nil }
        guard !entries.isEmpty else { return "" }
        let top = entries.map { $0.gbps!.mean + $0.gbps!.ci95 }.max() ?? 1
        var frame = PlotFrame(title: "\(line.experiment): \(line.series) \(line.point)", xLabel: "run", yLabel: "throughput (Gbit/s)", yMax: max(top, 1e-9))
        frame.width = 560
        frame.height = 300
        let xs = line.entries.map(\.run)
        let x = { (run: Int) -> Double in
            let index = Double(xs.firstIndex(of: run) ?? 0)
            return xs.count == 1 ? frame.left + frame.plotWidth / 2 : frame.left + 20 + (frame.plotWidth - 40) * index / Double(xs.count - 1)
        }
        var out = frame.open(kind: "history", series: 1) + frame.axes()
        for run in xs {
            out += SVG.text(x(run), frame.top + frame.plotHeight + 18, String(run + 1), size: 10, cls: "tick") + "\n"
        }
        out += "</g>\n"
        let path = entries.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(SVG.number(x($0.element.run))) \(SVG.number(frame.y($0.element.gbps!.mean)))" }
        out += "<path d=\"\(path.joined(separator: " "))\" fill=\"none\" stroke=\"\(SVG.color(0))\" stroke-width=\"2\"/>\n"
        for entry in entries {
            let stats = entry.gbps!, cx = x(entry.run), cy = frame.y(stats.mean)
            if stats.ci95 > 0 { out += SVG.line(cx, frame.y(stats.mean - stats.ci95), cx, frame.y(stats.mean + stats.ci95), stroke: SVG.color(0), cls: "errorbar") + "\n" }
            let run = history.runs[entry.run]
            let label = "\(run.name)\(run.commit.map { " (\($0))" } ?? ""): " + String(format: "%.3f Gbit/s", stats.mean)
                + (entry.comparison?.deltaPercent.map { String(format: ", %+.1f%% vs the previous run", $0) } ?? "")
            out += "<a href=\"\(esc(reportLink(run)))\"><title>\(esc(label))</title>"
            if entry.regression {
                out += "<path class=\"mark regression\" d=\"M\(SVG.number(cx - 7)) \(SVG.number(cy - 16)) L\(SVG.number(cx + 7)) \(SVG.number(cy - 16)) L\(SVG.number(cx)) \(SVG.number(cy - 4)) Z\" fill=\"#b00020\"/>"
            } else if entry.improvement {
                out += "<path class=\"mark improvement\" d=\"M\(SVG.number(cx - 7)) \(SVG.number(cy - 4)) L\(SVG.number(cx + 7)) \(SVG.number(cy - 4)) L\(SVG.number(cx)) \(SVG.number(cy - 16)) Z\" fill=\"#1b5e20\"/>"
            }
            out += "<circle class=\"marker\" cx=\"\(SVG.number(cx))\" cy=\"\(SVG.number(cy))\" r=\"3.5\" fill=\"\(SVG.color(0))\"/></a>\n"
        }
        return out + frame.whiskerNote() + "</svg>\n"
    }

    static func esc(_ text: String) -> String { SVG.escape(text) }
}

/// Writes history.html and history.csv, never through a symbolic link (see `ReportFiles`).
public enum HistoryWriter {
    @discardableResult
    public static func write(_ history: History, title: String, to directory: URL) throws -> URL {
        try ReportFiles.directory(directory)
        try ReportFiles.write(Data(history.csv().utf8), to: directory, name: "history.csv")
        try ReportFiles.write(Data(HistoryPage.render(history, title: title).utf8), to: directory, name: "history.html")
        return directory.appendingPathComponent("history.html")
    }
}
