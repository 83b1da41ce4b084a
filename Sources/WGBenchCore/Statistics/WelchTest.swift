import Foundation

/// Welch's unequal-variances t-test: is the difference between two sets of repetitions larger
/// than their spread explains?
public struct WelchTest: Codable, Sendable, Equatable {
    public var t: Double
    public var degreesOfFreedom: Double
    /// Two-sided p-value.
    public var p: Double

    /// Nil when either side has fewer than two values (no variance to speak of).
    public init?(_ a: [Double], _ b: [Double]) {
        guard a.count >= 2, b.count >= 2, let sa = SampleStatistics(a), let sb = SampleStatistics(b) else { return nil }
        let va = sa.stddev * sa.stddev / Double(a.count), vb = sb.stddev * sb.stddev / Double(b.count)
        let diff = sa.mean - sb.mean
        guard va + vb > 0 else {
            t = diff == 0 ? 0 : (diff > 0 ? .infinity : -.infinity)
            degreesOfFreedom = Double(a.count + b.count - 2)
            p = diff == 0 ? 1 : 0
            return
        }
        t = diff / (va + vb).squareRoot()
        degreesOfFreedom = (va + vb) * (va + vb) / (va * va / Double(a.count - 1) + vb * vb / Double(b.count - 1))
        p = Self.regularizedIncompleteBeta(x: degreesOfFreedom / (degreesOfFreedom + t * t), a: degreesOfFreedom / 2, b: 0.5)
    }

    /// I_x(a, b) by its continued fraction (modified Lentz), using the symmetry for fast convergence.
    static func regularizedIncompleteBeta(x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logPowers: Double = a * log(x) + b * log(1 - x)
        let logFront = logGammas + logPowers
        if x < (a + 1) / (a + b + 2) {
            return exp(logFront) * continuedFraction(x: x, a: a, b: b) / a
        }
        return 1 - exp(logFront) * continuedFraction(x: 1 - x, a: b, b: a) / b
    }

    private static func continuedFraction(x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...300 {
            let m = Double(m)
            var numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return h
    }
}
