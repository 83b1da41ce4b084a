import Foundation

/// Mean, spread and 95% confidence interval of repeated measurements.
public struct SampleStatistics: Codable, Sendable, Equatable {
    public var count: Int
    public var mean: Double
    /// Sample standard deviation (n - 1); 0 for a single value.
    public var stddev: Double
    public var min: Double
    public var max: Double
    /// Half-width of the 95% confidence interval of the mean (Student's t); 0 for a single value.
    public var ci95: Double

    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        count = values.count
        mean = values.reduce(0, +) / Double(values.count)
        let mean = self.mean
        let variance = values.count > 1 ? values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1) : 0
        stddev = variance.squareRoot()
        min = values.min()!
        max = values.max()!
        ci95 = values.count > 1 ? Self.tCritical95(degreesOfFreedom: values.count - 1) * stddev / Double(values.count).squareRoot() : 0
    }

    /// Two-sided 95% critical values of Student's t for 1...30 degrees of freedom, then the normal 1.96.
    static let tTable: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                   2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                   2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]

    public static func tCritical95(degreesOfFreedom df: Int) -> Double {
        guard df >= 1 else { return .nan }
        return df <= tTable.count ? tTable[df - 1] : (df <= 60 ? 2.0 : 1.96)
    }
}
