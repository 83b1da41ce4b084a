import Foundation
import WGBenchCore

/// The report's saturation onsets, repetition by repetition: when each sampled host's first core
/// began to stay saturated in softirq after the traffic started, or that none did. Only points
/// whose repetitions recorded the per-second series from the start of the traffic are listed.
enum OnsetTable {
    static func html(_ run: RunDirectory) -> String {
        let recorded = run.results.filter { $0.status == .ok && $0.saturation != nil }
        guard !recorded.isEmpty else { return "" }
        var rows = ""
        for series in run.record.spec.series.map(\.name) {
          for point in Sweep.points(run.record.spec.sweep) {
            let mine = recorded.filter { $0.key.series == series && $0.key.point == point }.sorted { $0.key.repetition < $1.key.repetition }
            for host in Set(mine.flatMap { $0.saturation!.keys }).sorted() {
                let cells = mine.map { result -> String in
                    guard let onsets = result.saturation?[host] else { return "rep \(result.key.repetition): -" }
                    guard let first = onsets.first else { return "rep \(result.key.repetition): none" }
                    return "rep \(result.key.repetition): core \(first.cpu) at \(ClaimExpectation.format(first.seconds)) s"
                        + (onsets.count > 1 ? " (+\(onsets.count - 1) more)" : "")
                }
                rows += "<tr><td>\(HTMLReport.esc(series))</td><td>\(HTMLReport.esc(point.id))</td><td>\(HTMLReport.esc(host))</td>"
                    + "<td>\(HTMLReport.esc(cells.joined(separator: "; ")))</td></tr>\n"
            }
          }
        }
        return String(format: "<h2>Saturation onset</h2>\n<p>The second after the traffic started at which a host's first core began to stay at"
                      + " %.0f%% softirq or more for %.0f s in a row (\"none\": no core did), from the per-second CPU sampled from the start of"
                      + " the traffic, warm-up included.</p>\n", SaturationOnset.softirqThreshold, SaturationOnset.holdSeconds)
            + "<details open><summary>per repetition</summary>\n<table class=\"onsets\">\n<tr><th>series</th><th>point</th><th>host</th><th>onset per repetition</th></tr>\n"
            + rows + "</table>\n</details>\n"
    }
}
