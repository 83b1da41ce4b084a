import Foundation

/// Student's t distribution: its CDF through the regularized incomplete beta function, and its
/// quantiles by bisection on the CDF (exact to ~1e-10, so intervals match scipy's).
public enum StudentT {
    /// P(T <= t) for `df` degrees of freedom.
    public static func cdf(_ t: Double, degreesOfFreedom df: Double) -> Double {
        guard df > 0, t.isFinite else { return t > 0 ? 1 : 0 }
        let tail = 0.5 * WelchTest.regularizedIncompleteBeta(x: df / (df + t * t), a: df / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The t with P(T <= t) = p; nil for p outside (0, 1) or df <= 0.
    public static func quantile(_ p: Double, degreesOfFreedom df: Double) -> Double? {
        guard p > 0, p < 1, df > 0 else { return nil }
        var low = -1e6, high = 1e6
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if cdf(middle, degreesOfFreedom: df) < p { low = middle } else { high = middle }
            if high - low < 1e-12 * max(1, abs(middle)) { break }
        }
        return (low + high) / 2
    }

    /// The two-sided 95% critical value.
    public static func critical95(degreesOfFreedom df: Int) -> Double? { quantile(0.975, degreesOfFreedom: Double(df)) }
}
