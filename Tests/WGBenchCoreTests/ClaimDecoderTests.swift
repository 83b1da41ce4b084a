import Foundation
import Testing
@testable import WGBenchCore

struct ClaimDecoderTests {
    /// Two series swept over tunnels, a single-valued flows_per_tunnel, both gateways sampled.
    static let head = """
    name: x
    sweep: {tunnels: [1, 8, 32], flows_per_tunnel: 1}
    sampling: {hosts: [gw1, gw2]}
    series: [{name: vanilla, target: kernel}, {name: inline, target: kernel, knobs: {inline_en: 1}}]
    claims:
    """

    func parse(_ claims: String) throws -> [ClaimSpec] {
        try ExperimentLoader.parse(yaml: Self.head + "\n" + claims, file: "dir/main.yaml").claims
    }

    func error(_ claims: String) -> SpecError? {
        do { _ = try parse(claims); return nil } catch { return error as? SpecError }
    }

    static func at(_ tunnels: Int) -> Point { Point([.init(name: "tunnels", value: String(tunnels)), .init(name: "flows_per_tunnel", value: "1")]) }

    @Test func everyMeasureDecodes() throws {
        let claims = try parse("""
          - {paper: "Inline above 90 Gbps at 32 tunnels", measure: throughput, series: inline, point: {tunnels: 32}, above: 90}
          - paper: Inline 18x its single tunnel
            measure: ratio
            series: inline
            point: {tunnels: 32}
            over: inline
            over_point: {tunnels: 1}
            about: 18
          - {paper: x, measure: ratio, series: inline, over: vanilla, point: {tunnels: 8}, about: 1, tolerance: 5%}
          - {paper: x, measure: core, series: vanilla, point: {tunnels: 1}, host: gw2, stage: rx-tun, above: 90}
          - {paper: x, measure: core, series: vanilla, point: {tunnels: 8}, host: gw1, stage: rx-plain, flow: 0, below: 50}
          - {paper: x, measure: black-hole, series: vanilla, point: {tunnels: 8}, host: gw2, above: 0.5}
          - {paper: x, measure: mean-cpu, series: inline, point: {tunnels: 32}, host: gw2, above: 40, below: 90}
        """)
        let (one, eight, thirtyTwo) = (Self.at(1), Self.at(8), Self.at(32))
        #expect(claims.map(\.measure) == [
            .throughput(of: ClaimSubject(series: "inline", point: thirtyTwo)),
            .ratio(of: ClaimSubject(series: "inline", point: thirtyTwo), over: ClaimSubject(series: "inline", point: one)),
            .ratio(of: ClaimSubject(series: "inline", point: eight), over: ClaimSubject(series: "vanilla", point: eight)),
            .core(of: ClaimSubject(series: "vanilla", point: one), host: .gw2, stage: .rxTunnel),
            .core(of: ClaimSubject(series: "vanilla", point: eight), host: .gw1, stage: .rxPlain, flow: 0),
            .blackHole(of: ClaimSubject(series: "vanilla", point: eight), host: .gw2),
            .meanCPU(of: ClaimSubject(series: "inline", point: thirtyTwo), host: .gw2),
        ])
        #expect(claims.map(\.expectation) == [.above(90), .about(18, tolerance: 0.2), .about(1, tolerance: 0.05), .above(90), .below(50),
                                              .above(0.5), .between(40, 90)])
        #expect(claims[0].paper == "Inline above 90 Gbps at 32 tunnels")
    }

    @Test(arguments: [
        ("  - {paper: x, measure: speed, series: inline, point: {tunnels: 1}, above: 1}", "claims.[0].measure", "not a measure; the measures are throughput, ratio"),
        ("  - {paper: x, measure: throughput, series: inline, point: {tunnels: 1}, above: 1, colour: red}", "claims.[0].colour", "unknown key"),
        ("  - {paper: x, measure: throughput, series: vanila, point: {tunnels: 1}, above: 1}", "claims.[0].series", "'vanila' is not a series of this experiment; its series: vanilla, inline"),
        ("  - {paper: x, measure: ratio, series: inline, over: fast, point: {tunnels: 1}, above: 1}", "claims.[0].over", "'fast' is not a series"),
        ("  - {paper: x, measure: ratio, series: inline, point: {tunnels: 1}, above: 1}", "claims.[0].over", "required key 'over' is missing"),
        ("  - {paper: x, measure: ratio, series: inline, over: inline, point: {tunnels: 1}, above: 1}", "claims.[0]", "same series at the same point"),
        ("  - {measure: throughput, series: inline, point: {tunnels: 1}, above: 1}", "claims.[0].paper", "required key 'paper' is missing"),
        ("  - {paper: x, measure: throughput, series: inline, point: {tunnels: 1}, host: gw2, above: 1}", "claims.[0].host", "does not apply to measure throughput; it takes series, point"),
        ("  - {paper: x, measure: mean-cpu, series: inline, point: {tunnels: 1}, host: gw3, above: 1}", "claims.[0].host", "'gw3' is not a host role"),
        ("  - {paper: x, measure: mean-cpu, series: inline, point: {tunnels: 1}, host: drain, above: 1}", "claims.[0].host", "drain is not sampled by this experiment (sampling.hosts: gw1, gw2)"),
        ("  - {paper: x, measure: core, series: inline, point: {tunnels: 1}, host: source, stage: rx-tun, above: 1}", "claims.[0].host", "gw1 and gw2 only"),
        ("  - {paper: x, measure: core, series: inline, point: {tunnels: 1}, host: gw2, stage: decrypt, above: 1}", "claims.[0].stage", "'decrypt' is not a stage; the stages are rx-plain, rx-tun, tx-tun, inline"),
        ("  - {paper: x, measure: core, series: inline, point: {tunnels: 1}, host: gw2, above: 1}", "claims.[0].stage", "required key 'stage' is missing"),
        ("  - {paper: x, measure: core, series: inline, point: {tunnels: 1}, host: gw2, stage: rx-tun, flow: 1, above: 1}", "claims.[0].flow", "only rx-plain belongs to a flow"),
        ("  - {paper: x, measure: core, series: inline, point: {tunnels: 1}, host: gw2, stage: rx-plain, tunnel: 1, above: 1}", "claims.[0].tunnel", "give flow"),
        ("  - {paper: x, measure: throughput, series: inline, point: {flows: 1}, above: 1}", "claims.[0].point.flows", "'flows' is not swept by this experiment; its sweep: tunnels, flows_per_tunnel"),
        ("  - {paper: x, measure: throughput, series: inline, point: {tunnels: 2}, above: 1}", "claims.[0].point.tunnels", "tunnels 2 is not in the sweep; its values: 1, 8, 32"),
        ("  - {paper: x, measure: throughput, series: inline, above: 1}", "claims.[0]", "say which tunnels"),
        ("  - {paper: x, measure: throughput, series: inline, point: {tunnels: 1}}", "claims.[0]", "say what the paper expects"),
        ("  - {paper: x, measure: throughput, series: inline, point: {tunnels: 1}, about: 1, above: 2}", "claims.[0].above", "not both"),
        ("  - {paper: x, measure: throughput, series: inline, point: {tunnels: 1}, above: 1, tolerance: 5%}", "claims.[0].tolerance", "goes with about"),
        ("  - {paper: x, measure: throughput, series: inline, point: {tunnels: 1}, about: 1, tolerance: 0.1}", "claims.[0].tolerance", "not a tolerance such as 20%"),
        ("  - {paper: x, measure: throughput, series: inline, point: {tunnels: 1}, about: lots}", "claims.[0].about", "'lots' is not a number"),
        ("  - {paper: x, measure: throughput, series: inline, point: {tunnels: 1}, above: 5, below: 5}", "claims.[0].below", "greater than above"),
        ("  - {paper: x, measure: core, series: inline, point: {tunnels: 1}, host: gw2, stage: rx-tun, tunnel: 0, above: 1}", "claims.[0].tunnel", "out of range"),
        ("  {paper: x}", "claims", "expected a list"),
        ("  - {paper: x, measure: throughput, series: inline, point: top, above: 1}", "claims.[0].point", "'top' is not a point"),
        ("  - {paper: x, measure: mean-cpu, series: inline, point: {reaching_peak_of: fast}, host: gw2, below: 90}", "claims.[0].point.reaching_peak_of", "'fast' is not a series"),
        ("  - {paper: x, measure: mean-cpu, series: inline, point: {reaching_peak_of: vanilla, tunnels: 8}, host: gw2, below: 90}", "claims.[0].point", "no swept variable with several values is left"),
        ("  - {paper: x, measure: crossover, series: inline, over: vanilla, point: {tunnels: 8}, above: 1}", "claims.[0].point", "give point: every"),
        ("  - {paper: x, measure: crossover, series: inline, over: vanilla, point: every, over_point: peak, above: 1}", "claims.[0].over_point", "over_point: every"),
        ("  - {paper: x, measure: crossover, series: inline, over: inline, point: every, above: 1}", "claims.[0]", "two series"),
        ("  - {paper: x, measure: ratio, series: inline, over: vanilla, point: {tunnels: 8}, over_point: every, above: 1}", "claims.[0].over_point", "needs point: every"),
    ])
    func malformedClaimsAreLocated(_ claims: String, _ keyPath: String, _ message: String) {
        let found = error(claims)
        #expect(found?.keyPath == keyPath, "\(String(describing: found))")
        #expect(found?.message.contains(message) == true, "\(String(describing: found))")
        #expect(found?.file == "dir/main.yaml" && (found?.line ?? 0) >= 6)
    }

    /// Points chosen along the swept variable: the others fixed (flows_per_tunnel has one value).
    @Test func pointsAlongTheSweepDecode() throws {
        let claims = try parse("""
          - {paper: a, measure: ratio, series: inline, point: {tunnels: 32}, over: vanilla, over_point: peak, about: 2}
          - {paper: b, measure: ratio, series: inline, point: every, over: vanilla, above: 1}
          - {paper: c, measure: mean-cpu, series: inline, point: {reaching_peak_of: vanilla}, host: gw2, below: 90}
          - {paper: d, measure: crossover, series: inline, point: every, over: vanilla, above: 8, below: 16}
        """)
        let fixed = Self.at(1)
        #expect(claims.map(\.measure) == [
            .ratio(of: ClaimSubject(series: "inline", point: Self.at(32)), over: ClaimSubject(series: "vanilla", point: fixed, across: .peak(variable: "tunnels"))),
            .ratio(of: ClaimSubject(series: "inline", point: fixed, across: .every(variable: "tunnels")),
                   over: ClaimSubject(series: "vanilla", point: fixed, across: .every(variable: "tunnels"))),
            .meanCPU(of: ClaimSubject(series: "inline", point: fixed, across: .reaching(variable: "tunnels", peakOf: "vanilla")), host: .gw2),
            .crossover(of: ClaimSubject(series: "inline", point: fixed, across: .every(variable: "tunnels")),
                       over: ClaimSubject(series: "vanilla", point: fixed, across: .every(variable: "tunnels"))),
        ])
        let text = try ExperimentLoader.parse(yaml: Self.head + "\n  - {paper: a, measure: throughput, series: inline, point: peak, above: 1}", file: "x.yaml")
        #expect(try JSONDecoder().decode(ExperimentSpec.self, from: JSONEncoder().encode(text)) == text)
        do {
            _ = try ExperimentLoader.parse(yaml: "name: y\nsweep: {engine: [inline, parallel]}\nseries: [{name: s, target: wireguard-swift}]\n"
                + "claims: [{paper: p, measure: throughput, series: s, point: peak, above: 1}]", file: "y.yaml")
            Issue.record("a peak along a sweep of words was accepted")
        } catch {
            #expect("\(error)".contains("engine has values that are not numbers"), "\(error)")
        }
    }

    @Test func aSweepWithOnePointNeedsNoPoint() throws {
        let spec = try ExperimentLoader.parse(yaml: """
        name: x
        sweep: {tunnels: 1, flows: 31}
        series: [{name: vanilla, target: kernel}, {name: improved, target: kernel}]
        claims: [{paper: "+45%", measure: ratio, series: improved, over: vanilla, about: 1.45}]
        """, file: "x.yaml")
        let point = Point([.init(name: "tunnels", value: "1"), .init(name: "flows", value: "31")])
        #expect(spec.claims[0].measure == .ratio(of: ClaimSubject(series: "improved", point: point), over: ClaimSubject(series: "vanilla", point: point)))
    }

    /// run.json written before claims existed still reads, as an experiment with none; one with
    /// claims reads back equal.
    @Test func theSpecRoundTripsAndOldRecordsHaveNoClaims() throws {
        let spec = try ExperimentLoader.parse(yaml: Self.head + "\n  - {paper: x, measure: black-hole, series: vanilla, point: {tunnels: 8}, host: gw2, above: 0.5}",
                                              file: "x.yaml")
        let data = try JSONEncoder().encode(spec)
        #expect(try JSONDecoder().decode(ExperimentSpec.self, from: data) == spec)
        var json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((json["claims"] as? [Any])?.count == 1)
        json.removeValue(forKey: "claims")
        let old = try JSONDecoder().decode(ExperimentSpec.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(old.claims.isEmpty && old.series == spec.series)
    }

    /// run.json records an expectation as the file wrote it.
    @Test func expectationsAreRecordedAsWritten() throws {
        let expectations: [ClaimExpectation] = [.about(1.45, tolerance: 0.1), .above(7), .below(1), .between(45, 48)]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = try expectations.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        #expect(json == [#"{"about":1.45,"tolerance":0.1}"#, #"{"above":7}"#, #"{"below":1}"#, #"{"above":45,"below":48}"#])
        #expect(try expectations.map { try JSONDecoder().decode(ClaimExpectation.self, from: encoder.encode($0)) } == expectations)
        #expect(try JSONDecoder().decode(ClaimExpectation.self, from: Data(#"{"about":2}"#.utf8)) == .about(2, tolerance: 0.2))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ClaimExpectation.self, from: Data(#"{"about":2,"above":1}"#.utf8)) }
    }

    @Test(arguments: [
        (ClaimExpectation.about(1.45, tolerance: 0.1), 1.31, true), (.about(1.45, tolerance: 0.1), 1.59, true),
        (.about(1.45, tolerance: 0.1), 1.30, false), (.about(1.45, tolerance: 0.1), 1.6, false),
        (.about(1, tolerance: 0.05), 0.95, true), (.about(-2, tolerance: 0.5), -1, true),
        (.above(7), 7.01, true), (.above(7), 7, false), (.below(1), 0.99, true), (.below(1), 1, false),
        (.between(45, 48), 46, true), (.between(45, 48), 48, false), (.between(45, 48), 44.9, false),
    ])
    func expectations(_ expectation: ClaimExpectation, _ value: Double, _ holds: Bool) {
        #expect(expectation.holds(value) == holds)
    }

    @Test func expectationsSayWhatTheyExpect() {
        #expect(ClaimExpectation.about(1.45, tolerance: 0.1).description == "about 1.45 (±10%)")
        #expect(ClaimExpectation.between(45, 48).description == "between 45 and 48")
        #expect(ClaimExpectation.above(0.5).description == "above 0.5")
    }
}
