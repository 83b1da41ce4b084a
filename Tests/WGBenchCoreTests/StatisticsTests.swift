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

/// Welch's t-test against scipy.stats.ttest_ind(a, b, equal_var=False) (values computed once, kept here).
struct WelchTestTests {
    @Test(arguments: [
        ([10.1, 10.3, 9.9, 10.2, 10.0], [9.1, 9.4, 9.0, 9.3, 9.2], 9.0, 8.0, 1.853118429643014e-05),
        ([1.0, 2.0, 3.0, 4.0], [1.5, 2.5, 3.5, 4.5, 5.5, 6.5], -1.5, 7.941176470588236, 0.17227907729130926),
        ([5.0, 5.1, 4.9], [5.05, 4.95, 5.0], 0.0, 2.9411764705882346, 1.0),
        ([20.0, 22.0, 19.0, 21.0, 23.0, 20.5, 21.5, 22.5, 19.5, 20.0], [18.0, 25.0, 15.0, 24.0, 19.0, 23.0, 17.0, 26.0, 16.0, 21.0],
         0.379412618057021, 11.012649154994975, 0.7115956950345863),
    ])
    func matchesScipy(_ a: [Double], _ b: [Double], _ t: Double, _ df: Double, _ p: Double) throws {
        let test = try #require(WelchTest(a, b))
        #expect(abs(test.t - t) < 1e-9)
        #expect(abs(test.degreesOfFreedom - df) < 1e-9)
        #expect(abs(test.p - p) < 1e-9 * max(1, p) + 1e-12)
    }

    @Test func degenerateCases() {
        #expect(WelchTest([1], [2, 3]) == nil)
        #expect(WelchTest([2, 2], [2, 2])?.p == 1)
        #expect(WelchTest([3, 3], [2, 2])?.p == 0)
    }
}
