import Foundation
import WGBenchCore

/// One point of a baseline run against the same point of a new run.
public struct PointComparison: Codable, Sendable, Equatable {
    public var series: String
    public var point: String
    public var baselineGbps: Double?
    public var newGbps: Double?
    public var baselineRepetitions: Int
    public var newRepetitions: Int
    /// (new - baseline) / baseline, percent.
    public var deltaPercent: Double?
    /// Welch's t-test p-value, when both sides have two or more repetitions.
    public var p: Double?
    public var significant: Bool
    /// Worse than the threshold and significant, or all repetitions failed where the baseline had some.
    public var regression: Bool
    public var note: String
}

public enum Comparison {
    /// Matches points by series and sweep values. Significance: Welch's t-test at p < 0.05 with
    /// two or more repetitions a side, else non-overlapping 95% intervals (never with one repetition).
    public static func compare(baseline: RunDirectory, new: RunDirectory, thresholdPercent: Double) -> [PointComparison] {
        let old = baseline.summary, fresh = new.summary
        var out: [PointComparison] = []
        for row in old {
            guard let other = fresh.first(where: { $0.series == row.series && $0.point == row.point }) else {
                out.append(PointComparison(series: row.series, point: row.point.id, baselineGbps: row.throughputGbps?.mean, newGbps: nil,
                                           baselineRepetitions: row.repetitions - row.failed, newRepetitions: 0, deltaPercent: nil, p: nil,
                                           significant: false, regression: false, note: "not in the new run"))
                continue
            }
            let a = baseline.throughputs(series: row.series, point: row.point)
            let b = new.throughputs(series: row.series, point: row.point)
            var entry = PointComparison(series: row.series, point: row.point.id, baselineGbps: row.throughputGbps?.mean,
                                        newGbps: other.throughputGbps?.mean, baselineRepetitions: a.count, newRepetitions: b.count,
                                        deltaPercent: nil, p: nil, significant: false, regression: false, note: "")
            switch (row.throughputGbps, other.throughputGbps) {
            case (nil, nil):
                entry.note = "failed in both runs"
            case (.some, nil):
                entry.regression = true
                entry.significant = true
                entry.note = "every repetition failed in the new run"
            case (nil, .some):
                entry.note = "failed in the baseline"
            case let (.some(x), .some(y)):
                let delta = x.mean > 0 ? (y.mean - x.mean) / x.mean * 100 : 0
                entry.deltaPercent = delta
                if let test = WelchTest(a, b) {
                    entry.p = test.p
                    entry.significant = test.p < 0.05
                } else if a.count >= 2 || b.count >= 2 {
                    entry.significant = x.mean + x.ci95 < y.mean - y.ci95 || y.mean + y.ci95 < x.mean - x.ci95
                    entry.note = "too few repetitions for a t-test; compared 95% intervals"
                } else {
                    entry.note = "one repetition a side: no significance can be claimed"
                }
                entry.regression = entry.significant && delta < -thresholdPercent
            }
            out.append(entry)
        }
        for row in fresh where !old.contains(where: { $0.series == row.series && $0.point == row.point }) {
            out.append(PointComparison(series: row.series, point: row.point.id, baselineGbps: nil, newGbps: row.throughputGbps?.mean,
                                       baselineRepetitions: 0, newRepetitions: row.repetitions - row.failed, deltaPercent: nil, p: nil,
                                       significant: false, regression: false, note: "not in the baseline"))
        }
        return out
    }

    public static func table(_ rows: [PointComparison]) -> String {
        let number = { (value: Double?) in value.map { String(format: "%.3f", $0) } ?? "-" }
        let body = rows.map { row in
            [row.series, row.point, number(row.baselineGbps), number(row.newGbps),
             row.deltaPercent.map { String(format: "%+.1f%%", $0) } ?? "-", row.p.map { String(format: "%.3g", $0) } ?? "-",
             row.regression ? "REGRESSION" : (row.significant ? "significant" : "-"), row.note]
        }
        return TextTable.render([["series", "point", "baseline Gbit/s", "new Gbit/s", "delta", "p", "verdict", "note"]] + body,
                                rightAligned: [2, 3, 4, 5])
    }
}
