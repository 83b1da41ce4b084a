import Foundation
import Testing
@testable import WGBenchCore

struct StatisticsTests {
    /// (values, mean, stddev, ci95) checked by hand; ci95 = t(0.975, n-1) * s / sqrt(n).
    @Test(arguments: [
        ([5.0], 5.0, 0.0, 0.0),
        ([1.0, 3.0], 2.0, 1.4142135623730951, 12.706 * 1.4142135623730951 / 2.0.squareRoot()),
        ([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 5.0, 2.138089935299395, 2.365 * 2.138089935299395 / 8.0.squareRoot()),
    ])
    func meanSpreadAndConfidence(_ values: [Double], _ mean: Double, _ stddev: Double, _ ci: Double) throws {
        let stats = try #require(SampleStatistics(values))
        #expect(abs(stats.mean - mean) < 1e-12)
        #expect(abs(stats.stddev - stddev) < 1e-12)
        #expect(abs(stats.ci95 - ci) < 1e-9)
        #expect(stats.min == values.min() && stats.max == values.max())
    }

    @Test func criticalValues() {
        #expect(SampleStatistics.tCritical95(degreesOfFreedom: 9) == 2.262)
        #expect(SampleStatistics.tCritical95(degreesOfFreedom: 1000) == 1.96)
        #expect(SampleStatistics(values: []) == nil)
    }

    @Test func textTablesPad() {
        #expect(TextTable.render([["a", "bb"], ["ccc", "d"]], rightAligned: [1]) == "a    bb\nccc   d\n")
    }
}

extension SampleStatistics {
    init?(values: [Double]) { self.init(values) }
}
