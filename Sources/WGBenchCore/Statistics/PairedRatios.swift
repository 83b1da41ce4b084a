import Foundation

/// One series against another at one point: how many times faster, with a 95% interval.
///
/// In a run measured in randomized blocks (`order: blocks`) each round measured every series once
/// at the point, close together in time, so the ratio is taken round by round and slow drift of
/// the machine cancels: the estimate is the geometric mean of the per-round ratios and the
/// interval a t interval on their logarithms, exp(mean ± t(0.975, n-1) · sd / √n). In a run in
/// another order the rounds are not blocks, and the ratio is that of the means with a
/// delta-method interval, r · (1 ± √((ci_a/a)² + (ci_b/b)²)), said as such (`paired` false).
public struct PairedRatio: Codable, Sendable, Equatable {
    public var series: String
    /// The denominator.
    public var over: String
    public var point: Point
    /// Rounds with a successful repetition of both series.
    public var rounds: Int
    public var ratio: Double
    /// The 95% interval; nil with fewer than two rounds.
    public var low: Double?
    public var high: Double?
    /// The median per-round ratio (paired only).
    public var median: Double?
    public var paired: Bool

    /// `swift-inline / wireguard-go = 1.31x [1.22, 1.40], 10 rounds`.
    public var text: String {
        let interval = low.flatMap { low in high.map { String(format: " [%.2f, %.2f]", low, $0) } } ?? ""
        return String(format: "%@ / %@ = %.2fx", series, over, ratio) + interval
            + ", \(rounds) \(paired ? "round" : "repetition")\(rounds == 1 ? "" : "s")" + (paired ? "" : " (unpaired: ratio of means)")
    }
}

public enum PairedRatios {
    /// Geometric mean, log-t interval and median of the ratios of paired values (a_i / b_i).
    public static func paired(_ a: [Double], _ b: [Double]) -> (ratio: Double, low: Double?, high: Double?, median: Double)? {
        let logs = zip(a, b).compactMap { x, y in x > 0 && y > 0 ? log(x / y) : nil }
        guard !logs.isEmpty else { return nil }
        let n = Double(logs.count)
        let mean = logs.reduce(0, +) / n
        let sorted = logs.map(exp).sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        guard logs.count >= 2, let t = StudentT.critical95(degreesOfFreedom: logs.count - 1) else { return (exp(mean), nil, nil, median) }
        let sd = (logs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot()
        let half = t * sd / n.squareRoot()
        return (exp(mean), exp(mean - half), exp(mean + half), median)
    }

    /// The ratio of two means with a delta-method 95% interval.
    public static func unpaired(_ a: [Double], _ b: [Double]) -> (ratio: Double, low: Double?, high: Double?)? {
        guard let sa = SampleStatistics(a), let sb = SampleStatistics(b), sb.mean > 0 else { return nil }
        let ratio = sa.mean / sb.mean
        guard a.count >= 2, b.count >= 2, sa.mean > 0 else { return (ratio, nil, nil) }
        let half = ratio * ((sa.ci95 / sa.mean) * (sa.ci95 / sa.mean) + (sb.ci95 / sb.mean) * (sb.ci95 / sb.mean)).squareRoot()
        return (ratio, ratio - half, ratio + half)
    }

    /// The pairs a run compares: every series over the baseline, or every pair in file order.
    public static func pairs(_ spec: ExperimentSpec) -> [(series: String, over: String)] {
        let names = spec.series.map(\.name)
        if let baseline = spec.baseline { return names.filter { $0 != baseline }.map { ($0, baseline) } }
        return names.enumerated().flatMap { index, over in names.dropFirst(index + 1).map { ($0, over) } }
    }

    /// Every pair at every point where both have successful repetitions, in the pairs' order.
    public static func build(record: RunRecord, results: [RepetitionResult]) -> [PairedRatio] {
        let blocks = record.spec.order == .blocks
        var out: [PairedRatio] = []
        for (series, over) in pairs(record.spec) {
            for point in Sweep.points(record.spec.sweep) {
                let throughput = { (name: String) -> [Int: Double] in
                    var values: [Int: Double] = [:]
                    for result in results where result.key.series == name && result.key.point == point && result.status == .ok {
                        if let bps = result.throughput { values[result.key.repetition] = bps / 1e9 }
                    }
                    return values
                }
                let a = throughput(series), b = throughput(over)
                guard !a.isEmpty, !b.isEmpty else { continue }
                if blocks {
                    let rounds = a.keys.filter { b[$0] != nil }.sorted()
                    guard let estimate = paired(rounds.map { a[$0]! }, rounds.map { b[$0]! }) else { continue }
                    out.append(PairedRatio(series: series, over: over, point: point, rounds: rounds.count, ratio: estimate.ratio,
                                           low: estimate.low, high: estimate.high, median: estimate.median, paired: true))
                } else if let estimate = unpaired(Array(a.values), Array(b.values)) {
                    out.append(PairedRatio(series: series, over: over, point: point, rounds: min(a.count, b.count), ratio: estimate.ratio,
                                           low: estimate.low, high: estimate.high, median: nil, paired: false))
                }
            }
        }
        return out
    }

    /// One line per ratio for the terminal; points named where the sweep has several.
    public static func lines(_ ratios: [PairedRatio]) -> [String] {
        let several = Set(ratios.map(\.point)).count > 1
        return ratios.map { (several ? "\($0.point.id): " : "") + $0.text }
    }

    /// ratios.csv: one line per pair and point.
    public static func csv(_ ratios: [PairedRatio]) -> String {
        let number = { (value: Double?) in value.map { String(format: "%.4f", $0) } ?? "" }
        var lines = ["series,over,point,rounds,paired,ratio,low95,high95,median"]
        for ratio in ratios {
            lines.append([ratio.series, ratio.over, ratio.point.id, String(ratio.rounds), ratio.paired ? "1" : "0",
                          number(ratio.ratio), number(ratio.low), number(ratio.high), number(ratio.median)]
                .map(RunSummary.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
