import Foundation
import Testing
@testable import WGBenchCore

/// Claims evaluated on a small run built here: vanilla and improved at one tunnel (three
/// repetitions each), vanilla at 8 tunnels with a black hole that moves, a series whose every
/// repetition failed, and one the testbed could not run.
struct ClaimsTests {
    typealias R = RecordedCPU

    static let yaml = """
    name: c
    repetitions: 3
    order: shuffled
    sweep: {tunnels: [1, 8]}
    series: [{name: vanilla, target: kernel}, {name: improved, target: kernel}, {name: broken, target: kernel}, {name: absent, target: kernel}]
    claims:
      - {paper: "vanilla ~5 Gbps", measure: throughput, series: vanilla, point: {tunnels: 1}, about: 5}
      - {paper: "improved +45%", measure: ratio, series: improved, over: vanilla, point: {tunnels: 1}, about: 1.45, tolerance: 5%}
      - {paper: "flat", measure: ratio, series: vanilla, point: {tunnels: 8}, over: vanilla, over_point: {tunnels: 1}, about: 1}
      - {paper: "gw2 rx core saturated", measure: core, series: vanilla, point: {tunnels: 1}, host: gw2, stage: rx-tun, above: 90}
      - {paper: "tx worker", measure: core, series: vanilla, point: {tunnels: 1}, host: gw2, stage: tx-tun, above: 90}
      - {paper: "black hole", measure: black-hole, series: vanilla, point: {tunnels: 8}, host: gw2, above: 0.5}
      - {paper: "spare CPU", measure: mean-cpu, series: vanilla, point: {tunnels: 8}, host: gw2, below: 30}
      - {paper: "broken", measure: throughput, series: broken, point: {tunnels: 1}, above: 1}
      - {paper: "absent", measure: throughput, series: absent, point: {tunnels: 1}, above: 1}
      - {paper: "improved's rx core", measure: core, series: improved, point: {tunnels: 1}, host: gw2, stage: rx-tun, above: 90}
      - {paper: "improved at 8", measure: throughput, series: improved, point: {tunnels: 8}, above: 1}
    """

    static func result(_ series: String, tunnels: Int, repetition: Int, gbps: Double?, status: RepetitionResult.Status = .ok,
                       reason: String? = nil, cpu: [String: [CoreUsage]] = [:], placement: [String: [CoreAssignment]] = [:]) -> RepetitionResult {
        var result = R.result(series: series, tunnels: tunnels, repetition: repetition, cpu: cpu, placement: placement, status: status)
        result.throughput = gbps.map { $0 * 1e9 }
        result.reason = reason
        return result
    }

    static let vanillaOne = [5.0, 5.2, 4.8], improvedOne = [7.0, 7.4, 7.2], vanillaEight = [13.0, 12.8, 13.2]
    static let rxBusy = [99.0, 100, 98]
    static let holes: [Int: Int] = [1: 10, 3: 11]  // repetition -> core

    static func run(order: String = "shuffled") throws -> (ExperimentSpec, [RepetitionResult]) {
        let spec = try ExperimentLoader.parse(yaml: yaml.replacingOccurrences(of: "order: shuffled", with: "order: \(order)"), file: "c.yaml")
        var results: [RepetitionResult] = []
        for repetition in 1...3 {
            let index = repetition - 1
            results.append(result("vanilla", tunnels: 1, repetition: repetition, gbps: vanillaOne[index],
                                  cpu: ["gw2": R.host(cores: 4, background: 20, hot: [0: rxBusy[index]])],
                                  placement: ["gw2": [CoreAssignment(cpu: 0, stage: .rxTunnel, tunnel: 1)]]))
            results.append(result("improved", tunnels: 1, repetition: repetition, gbps: improvedOne[index],
                                  cpu: ["gw2": R.host(cores: 4, background: 20, hot: [0: 80])]))
            var hot = Dictionary(uniqueKeysWithValues: (1...8).map { ($0, 40.0) })
            if let core = holes[repetition] { hot[core] = 97 }
            results.append(result("vanilla", tunnels: 8, repetition: repetition, gbps: vanillaEight[index],
                                  cpu: ["gw2": R.host(cores: 12, background: 5, hot: hot)], placement: R.rxPerTunnel(8)))
            results.append(result("broken", tunnels: 1, repetition: repetition, gbps: nil, status: .failed, reason: "iperf3: connection refused"))
            results.append(result("absent", tunnels: 1, repetition: repetition, gbps: nil, status: .unsupported, reason: "no kernel WireGuard module"))
        }
        return (spec, results)
    }

    static func evaluated() throws -> [ClaimResult] {
        let (spec, results) = try run()
        return Claims.evaluate(spec, results: results)
    }

    @Test func verdicts() throws {
        #expect(try Self.evaluated().map(\.verdict) == [.holds, .holds, .doesNotHold, .holds, .notMeasured, .holds, .doesNotHold,
                                                        .notMeasured, .notMeasured, .notMeasured, .notMeasured])
    }

    @Test func throughputIsTheMeanWithStudentsInterval() throws {
        let claim = try Self.evaluated()[0]
        let stats = try #require(SampleStatistics(Self.vanillaOne))
        #expect(abs(claim.value! - stats.mean) < 1e-9 && abs(claim.halfWidth! - stats.ci95) < 1e-9)
        #expect(claim.label == "vanilla (tunnels 1) throughput")
        #expect(claim.note == "vanilla at tunnels=1, 3 repetitions")
    }

    /// Measured in randomized blocks, a ratio at one point is taken round by round.
    @Test func inBlocksARatioIsPairedByRound() throws {
        let (spec, results) = try Self.run(order: "blocks")
        let claim = Claims.evaluate(spec, results: results)[1]
        let paired = try #require(PairedRatios.paired(Self.improvedOne, Self.vanillaOne))
        #expect(abs(claim.value! - paired.ratio) < 1e-9 && claim.method.hasPrefix("paired by round"))
        #expect(claim.note.contains("3 rounds"))
        // Over another point there is no pairing: the ratio of means, as before.
        #expect(Claims.evaluate(spec, results: results)[2].method.contains("delta method"))
    }

    @Test func aRatioOfMeansHasADeltaMethodInterval() throws {
        let claims = try Self.evaluated()
        let a = try #require(SampleStatistics(Self.improvedOne)), b = try #require(SampleStatistics(Self.vanillaOne))
        let ratio = a.mean / b.mean
        #expect(abs(claims[1].value! - ratio) < 1e-9)
        #expect(abs(claims[1].halfWidth! - ratio * ((a.ci95 / a.mean) * (a.ci95 / a.mean) + (b.ci95 / b.mean) * (b.ci95 / b.mean)).squareRoot()) < 1e-9)
        #expect(claims[1].method.contains("delta method"))
        #expect(claims[1].label == "improved (tunnels 1) / vanilla (tunnels 1) throughput")
        // The same series at another point: 13 Gbit/s at 8 tunnels over 5 at one is not flat.
        #expect(abs(claims[2].value! - 13.0 / 5.0) < 1e-9)
        #expect(claims[2].label == "vanilla (tunnels 8) / vanilla (tunnels 1) throughput")
    }

    @Test func theCoreAStageGotIsReadFromEachRepetitionsPlacement() throws {
        let claims = try Self.evaluated()
        #expect(abs(claims[3].value! - Self.rxBusy.reduce(0, +) / 3) < 1e-9)
        #expect(claims[3].label == "gw2 rx-tun core, vanilla (tunnels 1)")
        #expect(claims[4].note == "the placement gave no core to tx-tun on gw2 in vanilla at tunnels=1")
        #expect(claims[9].note.hasPrefix("no placement recorded for gw2"))
    }

    @Test func theBlackHoleShareCountsRepetitionsJudgedOneByOne() throws {
        let claim = try Self.evaluated()[5]
        #expect(abs(claim.value! - 2.0 / 3.0) < 1e-9)
        #expect(claim.note == "vanilla at tunnels=8, 2 of 3 repetitions (rep 1, rep 3)")
        let wilson = Claims.wilson(successes: 2, trials: 3)
        #expect(claim.low == wilson.low && claim.high == wilson.high)
    }

    @Test func meanCPUIsTheHostsCoresAveragedThenTheRepetitions() throws {
        let claim = try Self.evaluated()[6]
        // Twelve cores: eight rx cores at 40%, four at 5%, one of which is the black hole's 97% where there is one.
        let perRepetition: [Double] = (1...3).map { repetition in
            let hole: Double = Self.holes[repetition] == nil ? 0 : 97 - 5
            return (8 * 40 + 4 * 5 + hole) / 12
        }
        #expect(abs(claim.value! - perRepetition.reduce(0, +) / 3) < 1e-9)
    }

    @Test func unmeasuredClaimsSayWhy() throws {
        let claims = try Self.evaluated()
        #expect(claims[7].note == "every repetition of broken at tunnels=1 failed: iperf3: connection refused")
        #expect(claims[8].note == "absent is unsupported on this testbed: no kernel WireGuard module")
        #expect(claims[10].note == "improved at tunnels=8 was not run")
        #expect(claims[7].value == nil && claims[7].low == nil)
    }

    /// Against published values: Wilson's 7 of 10 is 0.397-0.892; the delta method on 10 ± 1
    /// over 5 ± 0.5 gives 2 ± 0.283.
    @Test func intervalFormulas() {
        let wilson = Claims.wilson(successes: 7, trials: 10)
        #expect(abs(wilson.low - 0.3968) < 1e-4 && abs(wilson.high - 0.8922) < 1e-4)
        #expect(Claims.wilson(successes: 0, trials: 10).low == 0)
        #expect(abs(Claims.ratioHalfWidth(a: 10, ciA: 1, b: 5, ciB: 0.5) - 0.28284) < 1e-5)
    }
}

/// The onset measure: when gw2's first core stayed saturated, over the repetitions where one did.
struct OnsetClaimTests {
    @Test func onsetIsTheMeanFirstSaturationOverTheRepetitionsWhereItHappened() throws {
        let spec = try ExperimentLoader.parse(yaml: """
        name: o
        repetitions: 3
        sweep: {tunnels: 8}
        series: [{name: vanilla, target: kernel}, {name: old, target: kernel}, {name: calm, target: kernel}]
        claims:
          - {paper: "within seconds", measure: onset, series: vanilla, host: gw2, below: 10}
          - {paper: "old results", measure: onset, series: old, host: gw2, below: 10}
          - {paper: "never", measure: onset, series: calm, host: gw2, below: 10}
        """, file: "o.yaml")
        var results: [RepetitionResult] = []
        for repetition in 1...3 {
            for series in ["vanilla", "old", "calm"] {
                var result = RecordedCPU.result(series: series, tunnels: 8, repetition: repetition, cpu: ["gw2": RecordedCPU.host(cores: 4, background: 10, hot: [:])])
                switch series {
                case "vanilla": result.saturation = ["gw2": repetition == 2 ? [] : [SaturationOnset(cpu: 3, seconds: Double(repetition * 2)), SaturationOnset(cpu: 1, seconds: 20)]]
                case "calm": result.saturation = ["gw2": []]
                default: break
                }
                results.append(result)
            }
        }
        let claims = Claims.evaluate(spec, results: results)
        #expect(claims[0].verdict == .holds && claims[0].value == 4)  // (2 + 6) / 2, repetition 2 had none
        #expect(claims[0].note.contains("a core saturated in 2 of 3 repetitions"))
        #expect(claims[1].verdict == .notMeasured && claims[1].note.contains("no per-second CPU of gw2 from the start of the traffic"))
        #expect(claims[2].verdict == .notMeasured && claims[2].note.contains("no core of gw2 stayed saturated in any of 3 repetitions"))
    }
}
