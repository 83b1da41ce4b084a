import Foundation
import Testing
@testable import WGBenchCore

/// Randomized block order, paired ratios, noise and drift. Reference values from numpy 2.4 and
/// scipy 1.17 (stats.t.ppf, stats.t.cdf, stats.linregress; the ratio interval as
/// exp(mean(log(a/b)) ± t.ppf(0.975, n-1) · std(log(a/b), ddof=1) / sqrt(n))), computed once and kept here.
struct ComparisonStatisticsTests {
    func spec(_ yaml: String) throws -> ExperimentSpec { try ExperimentLoader.parse(yaml: yaml, file: "x.yaml") }

    // MARK: Block schedule

    @Test func blocksAreTheDefaultWithSeveralSeriesAndEveryRoundHasEverySeriesOncePerPoint() throws {
        let spec = try self.spec("name: x\nrepetitions: 4\nsweep: {tunnels: [1, 2, 4]}\nseries: [{name: a, target: plain}, {name: b, target: plain}, {name: c, target: plain}]")
        #expect(spec.order == .blocks)
        let order = RunSchedule.order(spec, seed: 7)
        #expect(order.count == 36 && Set(order).count == 36)
        // Round by round: all of round k before any of round k+1, each point's block contiguous and complete.
        #expect(order.map(\.repetition) == order.map(\.repetition).sorted())
        for block in stride(from: 0, to: order.count, by: 3).map({ Array(order[$0..<$0 + 3]) }) {
            #expect(Set(block.map(\.series)) == ["a", "b", "c"] && Set(block.map(\.point)).count == 1 && Set(block.map(\.repetition)).count == 1)
        }
        // Seeded: the same seed, the same order; another, another. The series order varies between blocks.
        #expect(RunSchedule.order(spec, seed: 7) == order && RunSchedule.order(spec, seed: 8) != order)
        let firsts = stride(from: 0, to: order.count, by: 3).map { order[$0].series }
        #expect(Set(firsts).count > 1)
        #expect(try self.spec("name: x\nseries: [{name: a, target: plain}]").order == .shuffled)
    }

    /// Resuming follows the order recorded in run.json, which the recorded seed reproduces: what is
    /// left of an interrupted run continues the same rounds.
    @Test func aResumedRunContinuesTheSameRounds() throws {
        let spec = try self.spec("name: x\nrepetitions: 3\nseed: 11\nseries: [{name: a, target: plain}, {name: b, target: plain}]")
        let record = RunRecord(id: "r", experimentFile: "x.yaml", spec: spec, seed: 11, order: RunSchedule.order(spec, seed: 11),
                               testbedFile: "t", testbedName: "t", started: Date(timeIntervalSince1970: 0))
        let encoder = JSONEncoder(), decoder = JSONDecoder()
        encoder.dateEncodingStrategy = .iso8601
        decoder.dateDecodingStrategy = .iso8601
        let again = try decoder.decode(RunRecord.self, from: try encoder.encode(record))
        #expect(again.spec.order == .blocks && again.order == record.order)
        #expect(RunSchedule.order(again.spec, seed: again.seed) == again.order)
        let done = Set(record.order.prefix(3))  // round 1 and the first half of round 2
        let pending = again.order.filter { !done.contains($0) }
        #expect(pending.map(\.repetition) == [2, 3, 3])
    }

    @Test func theBaselineMustBeASeries() {
        #expect(throws: SpecError.self) { try spec("name: x\nbaseline: c\nseries: [{name: a, target: plain}, {name: b, target: plain}]") }
        do { _ = try spec("name: x\nbaseline: c\nseries: [{name: a, target: plain}]") } catch let error as SpecError {
            #expect(error.keyPath == "baseline" && error.message.contains("not a series"))
        } catch { Issue.record("\(error)") }
    }

    // MARK: Paired ratios

    @Test(arguments: [
        ([1.71, 1.80, 1.62, 1.75, 1.69, 1.83, 1.77, 1.66, 1.74, 1.70], [1.30, 1.41, 1.22, 1.35, 1.28, 1.40, 1.37, 1.25, 1.33, 1.29],
         [1.3088723690337036, 1.2970312822628414, 1.3208215575426139, 1.3118276460381724]),
        ([2.0, 2.2, 1.9], [1.0, 1.5, 1.2], [1.6684425515121664, 1.1168664541940878, 2.492420232735077, 1.5833333333333333]),
        ([0.9, 1.1], [1.0, 1.0], [0.99498743710662, 0.27806325965188194, 3.560340913932388, 1.0]),
    ])
    func pairedRatiosMatchTheReference(_ a: [Double], _ b: [Double], _ reference: [Double]) throws {
        let estimate = try #require(PairedRatios.paired(a, b))
        #expect(abs(estimate.ratio - reference[0]) < 1e-9)
        #expect(abs(try #require(estimate.low) - reference[1]) < 1e-7)
        #expect(abs(try #require(estimate.high) - reference[2]) < 1e-7)
        #expect(abs(estimate.median - reference[3]) < 1e-9)
    }

    @Test(arguments: [(1, 12.706204736174694, 0.8128329581890011), (2, 4.302652729749462, 0.8638034375544994),
                      (5, 2.5705818356363146, 0.9030481598787634), (9, 2.262157162798205, 0.9160746719714625),
                      (30, 2.0422724563012378, 0.927967035435677), (100, 1.9839715185235518, 0.9316174709376556)])
    func studentTMatchesScipy(_ df: Int, _ quantile: Double, _ cdfAt1_5: Double) throws {
        #expect(abs(try #require(StudentT.critical95(degreesOfFreedom: df)) - quantile) < 1e-8)
        #expect(abs(StudentT.cdf(1.5, degreesOfFreedom: Double(df)) - cdfAt1_5) < 1e-9)
    }

    /// A machine that slows down over the run moves every series alike: in blocks the ratio stays
    /// put and its interval narrow, where the ratio of means would take the drift along.
    @Test func blocksCancelDriftThatRatiosOfMeansDoNot() throws {
        let spec = try self.spec("name: x\nrepetitions: 6\nbaseline: b\nseries: [{name: a, target: plain}, {name: b, target: plain}]")
        let start = Date(timeIntervalSince1970: 0)
        var results: [RepetitionResult] = []
        for (index, key) in RunSchedule.order(spec, seed: 1).enumerated() {
            let machine = 2.0 - 0.02 * Double(index)  // slower and slower: 11% over the run
            let gbps = (key.series == "a" ? 1.3 : 1.0) * machine
            results.append(RepetitionResult(key: key, status: .ok, reason: nil, attempts: 1, started: start.addingTimeInterval(Double(index) * 60),
                                            finished: start, throughput: gbps * 1e9, flows: [], cpu: [:], samplerCPUSeconds: [:],
                                            sampledSeconds: nil, knobs: [:], steps: []))
        }
        let record = RunRecord(id: "r", experimentFile: "x.yaml", spec: spec, seed: 1, order: RunSchedule.order(spec, seed: 1),
                               testbedFile: "t", testbedName: "t", started: start)
        let ratio = try #require(PairedRatios.build(record: record, results: results).first)
        #expect(ratio.series == "a" && ratio.over == "b" && ratio.paired && ratio.rounds == 6)
        // Within a block the two measurements are one step apart, so each per-round ratio is near 1.3
        // and the interval narrow; the ratio of the means carries the drift in both spreads.
        let low = try #require(ratio.low), high = try #require(ratio.high)
        #expect(abs(ratio.ratio - 1.3) < 0.02 && high - low < 0.04)
        let a = results.filter { $0.key.series == "a" }.map { $0.throughput! / 1e9 }, b = results.filter { $0.key.series == "b" }.map { $0.throughput! / 1e9 }
        let unpaired = try #require(PairedRatios.unpaired(a, b))
        #expect((high - low) * 3 < (try #require(unpaired.high)) - (try #require(unpaired.low)))
        #expect(ratio.text.hasPrefix("a / b = ") && ratio.text.contains("6 rounds"))
    }

    // MARK: Noise

    @Test func aDriftingSeriesIsFoundAndAFlatOneIsNot() throws {
        let noise = [0.05, -0.03, 0.02, -0.04, 0.01, 0.03, -0.02, 0.04, -0.05, 0.0]
        let start = Date(timeIntervalSince1970: 0)
        // One repetition every 6 minutes, losing 1 Gbit/s per hour from 10.
        let drifting = NoiseSummary(noise.enumerated().map { (start.addingTimeInterval(Double($0.offset) * 360), 10 - Double($0.offset) / 10 + $0.element) })!
        #expect(drifting.drifts)
        // scipy.stats.linregress: slope -1.0248484848484862 per hour, p 5.4e-9, mean 9.551.
        #expect(abs(drifting.driftPercentPerHour! - (-1.0248484848484862 / 9.551 * 100)) < 1e-6)
        #expect(abs(drifting.driftP! - 5.395545160223181e-09) < 1e-10)
        let flat = NoiseSummary(noise.enumerated().map { (start.addingTimeInterval(Double($0.offset) * 360), 10 + $0.element) })!
        #expect(!flat.drifts && abs(flat.driftP! - 0.5484073125733875) < 1e-6)
        #expect(!flat.isNoisy && flat.cvPercent < 1)
    }

    @Test(arguments: [(2.0, 5.0, 3), (10.0, 5.0, 18), (20.0, 5.0, 64), (0.0, 5.0, 2)])
    func roundsNeededForAPrecision(_ cv: Double, _ precision: Double, _ rounds: Int) {
        // The smallest n with t(0.975, n-1) · CV / √n <= precision (checked with scipy: n=17 gives 5.14, n=18 4.97 at CV 10%).
        #expect(NoiseSummary.rounds(cvPercent: cv, precisionPercent: precision) == rounds)
    }
}

/// The last line of a run's summary: each tunnel target against the baseline.
struct RelativeLineTests {
    func row(_ series: String, _ target: TargetKind, gbps: Double, cost: Double?) -> PointSummary {
        var row = PointSummary(series: series, target: target, point: Point([Point.Assignment(name: "tunnels", value: "1")]), repetitions: 2, failed: 0,
                               throughputGbps: SampleStatistics([gbps, gbps]), meanCoreUsage: [:], failures: [])
        row.cpuSecondsPerGB = cost.flatMap { SampleStatistics([$0]) }
        return row
    }

    @Test func eachTunnelTargetRelativeToTheBaseline() {
        let rows = [row("plain", .plain, gbps: 14, cost: nil), row("wireguard-go", .wireguardGo, gbps: 0.5, cost: 40),
                    row("swift-inline", .wireguardSwift, gbps: 1.5, cost: 10)]
        let lines = RunSummary.relativeLines(rows, ratios: [], baseline: "wireguard-go")
        #expect(lines == ["relative to wireguard-go (tunnels=1): swift-inline 3.00x throughput, 0.25x CPU-s/GB"])
        // A paired ratio, where there is one, is the throughput figure.
        let paired = PairedRatio(series: "swift-inline", over: "wireguard-go", point: rows[0].point, rounds: 2, ratio: 2.9, low: nil, high: nil,
                                 median: nil, paired: true)
        #expect(RunSummary.relativeLines(rows, ratios: [paired], baseline: "wireguard-go")[0].contains("2.90x throughput"))
        // Without a baseline, the first tunnel series is the reference; plain is never one.
        #expect(RunSummary.relativeLines(rows, ratios: [], baseline: nil)[0].hasPrefix("relative to wireguard-go"))
    }
}
