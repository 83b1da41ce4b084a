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
    /// The baseline series both runs measured in blocks, if they have one in common: then runs
    /// compare paired ratios over it, so a machine that is slower today does not read as a regression.
    public static func commonBaseline(_ a: RunDirectory, _ b: RunDirectory) -> String? {
        guard let name = a.record.spec.baseline, name == b.record.spec.baseline,
              a.record.spec.order == .blocks, b.record.spec.order == .blocks else { return nil }
        return name
    }

    /// Matches points by series and sweep values. With a common baseline series measured in blocks,
    /// each other series is compared by its per-round ratio over the baseline (Welch's t-test on the
    /// logarithms); otherwise by absolute throughput. Significance: Welch's t-test at p < 0.05 with
    /// two or more repetitions a side, else non-overlapping 95% intervals (never with one repetition).
    public static func compare(baseline: RunDirectory, new: RunDirectory, thresholdPercent: Double) -> [PointComparison] {
        if let name = commonBaseline(baseline, new) {
            return compareRatios(baseline: baseline, new: new, over: name, thresholdPercent: thresholdPercent)
        }
        return compareAbsolute(baseline: baseline, new: new, thresholdPercent: thresholdPercent)
    }

    /// Per-round log ratios of `series` over `over` at a point, paired by round.
    static func logRatios(_ run: RunDirectory, series: String, over: String, point: Point) -> [Double] {
        let byRound = { (name: String) -> [Int: Double] in
            Dictionary(run.results.filter { $0.key.series == name && $0.key.point == point && $0.status == .ok }
                .compactMap { result in result.throughput.map { (result.key.repetition, $0) } }, uniquingKeysWith: { a, _ in a })
        }
        let a = byRound(series), b = byRound(over)
        return a.keys.sorted().compactMap { round in b[round].flatMap { $0 > 0 && a[round]! > 0 ? log(a[round]! / $0) : nil } }
    }

    static func compareRatios(baseline: RunDirectory, new: RunDirectory, over: String, thresholdPercent: Double) -> [PointComparison] {
        var out: [PointComparison] = []
        let geometric = { (logs: [Double]) in logs.isEmpty ? nil : exp(logs.reduce(0, +) / Double(logs.count)) }
        for row in baseline.summary {
            let label = row.series == over ? row.series : "\(row.series) / \(over)"
            guard row.series != over else {
                let fresh = new.summary.first { $0.series == row.series && $0.point == row.point }
                let delta = row.throughputGbps.flatMap { x in fresh?.throughputGbps.map { ($0.mean - x.mean) / x.mean * 100 } }
                out.append(PointComparison(series: label, point: row.point.id, baselineGbps: row.throughputGbps?.mean, newGbps: fresh?.throughputGbps?.mean,
                                           baselineRepetitions: row.repetitions - row.failed, newRepetitions: fresh.map { $0.repetitions - $0.failed } ?? 0,
                                           deltaPercent: delta, p: nil, significant: false, regression: false,
                                           note: "the baseline series itself: absolute Gbit/s, shown for the machine's drift, not judged"))
                continue
            }
            let a = logRatios(baseline, series: row.series, over: over, point: row.point)
            let b = logRatios(new, series: row.series, over: over, point: row.point)
            var entry = PointComparison(series: label, point: row.point.id, baselineGbps: geometric(a), newGbps: geometric(b),
                                        baselineRepetitions: a.count, newRepetitions: b.count, deltaPercent: nil, p: nil,
                                        significant: false, regression: false, note: "ratios over \(over), paired by round")
            switch (geometric(a), geometric(b)) {
            case (nil, nil): entry.note = "no paired rounds in either run"
            case (.some, nil):
                entry.regression = true
                entry.significant = true
                entry.note = "no paired round in the new run (its repetitions failed)"
            case (nil, .some): entry.note = "no paired round in the baseline"
            case let (.some(x), .some(y)):
                let delta = (y / x - 1) * 100
                entry.deltaPercent = delta
                if let test = WelchTest(a, b) {
                    entry.p = test.p
                    entry.significant = test.p < 0.05
                } else {
                    entry.note += "; too few rounds for a t-test"
                }
                entry.regression = entry.significant && delta < -thresholdPercent
            }
            out.append(entry)
        }
        return out
    }

    static func compareAbsolute(baseline: RunDirectory, new: RunDirectory, thresholdPercent: Double) -> [PointComparison] {
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

    /// `ratios`: the values are ratios over a baseline series, not Gbit/s.
    public static func table(_ rows: [PointComparison], ratios: Bool = false) -> String {
        let number = { (value: Double?) in value.map { String(format: "%.3f", $0) } ?? "-" }
        let body = rows.map { row in
            [row.series, row.point, number(row.baselineGbps), number(row.newGbps),
             row.deltaPercent.map { String(format: "%+.1f%%", $0) } ?? "-", row.p.map { String(format: "%.3g", $0) } ?? "-",
             row.regression ? "REGRESSION" : (row.significant ? "significant" : "-"), row.note]
        }
        let unit = ratios ? "" : " Gbit/s"
        return TextTable.render([["series", "point", "baseline\(ratios ? " run" : unit)", "new\(ratios ? " run" : unit)", "delta", "p", "verdict", "note"]] + body,
                                rightAligned: [2, 3, 4, 5])
    }
}
