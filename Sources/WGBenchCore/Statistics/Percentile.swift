/// Order statistics over samples, for latency-style figures.
public enum Percentile {
    /// The p-th percentile (0...100) by linear interpolation between closest ranks; nil for no samples.
    public static func of(_ samples: [Double], _ p: Double) -> Double? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let rank = max(0, min(100, p)) / 100 * Double(sorted.count - 1)
        let low = Int(rank.rounded(.down)), high = Int(rank.rounded(.up))
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - Double(low))
    }

    public static func median(_ samples: [Double]) -> Double? { of(samples, 50) }
}
