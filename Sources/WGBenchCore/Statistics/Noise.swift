import Foundation

/// How noisy the repetitions of one series at one point were: their coefficient of variation, the
/// drift of throughput over the run's time (a least-squares slope, with its p-value), and how many
/// rounds a given precision would need.
public struct NoiseSummary: Codable, Sendable, Equatable {
    /// Repetitions that measured a throughput.
    public var count: Int
    /// Standard deviation over mean, percent.
    public var cvPercent: Double
    /// The slope of throughput against the repetitions' start times, percent of the mean per hour.
    public var driftPercentPerHour: Double?
    /// Two-sided p-value of that slope (t-test with n - 2 degrees of freedom).
    public var driftP: Double?
    /// Rounds needed for a 95% interval of ±`NoiseSummary.precisionPercent` of the mean at this CV.
    public var roundsNeeded: Int?

    /// The relative precision `roundsNeeded` is for.
    public static let precisionPercent = 5.0
    /// A point noisier than this cannot support a claim of a few tens of percent.
    public static let noisyCVPercent = 10.0

    public var isNoisy: Bool { cvPercent > Self.noisyCVPercent }
    /// A drift that is there (p < 0.05).
    public var drifts: Bool { (driftP ?? 1) < 0.05 }

    /// `samples`: (start time, throughput) of each successful repetition.
    public init?(_ samples: [(time: Date, value: Double)]) {
        guard let stats = SampleStatistics(samples.map(\.value)), stats.mean > 0 else { return nil }
        count = samples.count
        cvPercent = stats.stddev / stats.mean * 100
        roundsNeeded = Self.rounds(cvPercent: cvPercent, precisionPercent: Self.precisionPercent)
        guard samples.count >= 3, let start = samples.map(\.time).min() else { return }
        let xs = samples.map { $0.time.timeIntervalSince(start) / 3600 }, ys = samples.map(\.value)
        let n = Double(samples.count)
        let mx = xs.reduce(0, +) / n, my = ys.reduce(0, +) / n
        let sxx = xs.map { ($0 - mx) * ($0 - mx) }.reduce(0, +)
        guard sxx > 0 else { return }
        let slope = zip(xs, ys).map { ($0 - mx) * ($1 - my) }.reduce(0, +) / sxx
        let residual: Double = zip(xs, ys).map { (x: Double, y: Double) -> Double in
            let error = y - (my + slope * (x - mx))
            return error * error
        }.reduce(0, +)
        driftPercentPerHour = slope / stats.mean * 100
        let se = (residual / (n - 2) / sxx).squareRoot()
        if se > 0 {
            let t = slope / se
            driftP = 2 * (1 - StudentT.cdf(abs(t), degreesOfFreedom: n - 2))
        } else {
            driftP = slope == 0 ? 1 : 0
        }
    }

    /// The smallest n >= 2 with t(0.975, n-1) · CV / √n <= precision; nil beyond 1000.
    public static func rounds(cvPercent: Double, precisionPercent: Double) -> Int? {
        guard cvPercent > 0 else { return 2 }
        for n in 2...1000 {
            if let t = StudentT.critical95(degreesOfFreedom: n - 1), t * cvPercent / Double(n).squareRoot() <= precisionPercent { return n }
        }
        return nil
    }

    /// `CV 3.2%, drift -4.1%/h (p 0.02), 5 rounds for ±5%`.
    public var text: String {
        var parts = [String(format: "CV %.1f%%", cvPercent)]
        if let drift = driftPercentPerHour, let p = driftP { parts.append(String(format: "drift %+.1f%%/h (p %.2g)", drift, p)) }
        parts.append(roundsNeeded.map { "\($0) rounds for ±\(Int(Self.precisionPercent))%" } ?? "more than 1000 rounds for ±\(Int(Self.precisionPercent))%")
        return parts.joined(separator: ", ")
    }
}
