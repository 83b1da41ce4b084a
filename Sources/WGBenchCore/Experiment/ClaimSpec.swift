import Foundation

/// One of the paper's claims, as data: its words, what to measure in a run of the experiment,
/// and what the paper leads us to expect. `Claims.evaluate` checks it against the results.
///
/// ```yaml
/// claims:
///   - paper: "Fig. 7b: improved is 45% faster than vanilla"
///     measure: ratio            # throughput | ratio | core | black-hole | mean-cpu | onset | crossover
///     series: improved
///     over: vanilla             # ratio: the denominator series
///     point: {tunnels: 32}      # needed for each variable the sweep gives several values; or
///                               # peak, every, {reaching_peak_of: SERIES} along the one varied
///     over_point: {tunnels: 1}  # ratio: the denominator's point, when not `point`
///     about: 1.45               # or above: X, below: Y (or both)
///     tolerance: 10%            # with about; default 20%
/// ```
/// `core` takes `host`, `stage` (rx-plain, rx-tun, tx-tun, inline) and optionally `tunnel` or
/// `flow`; `black-hole`, `mean-cpu` and `onset` take `host`; `crossover` takes `over` and gives
/// the swept value where `series` stops being above (or below) `over`. See `ClaimDecoder`.
public struct ClaimSpec: Sendable, Codable, Equatable {
    /// The paper's words.
    public var paper: String
    public var measure: ClaimMeasure
    public var expectation: ClaimExpectation

    public init(paper: String, measure: ClaimMeasure, expectation: ClaimExpectation) {
        self.paper = paper
        self.measure = measure
        self.expectation = expectation
    }
}

/// A series at one point of the sweep, or at a point chosen along one swept variable: where a
/// measure reads its repetitions.
public struct ClaimSubject: Sendable, Codable, Equatable {
    public var series: String
    /// The point; with `across`, the values of the variables held fixed (the varied one carries
    /// any of its values).
    public var point: Point
    public var across: ClaimAcross?

    public init(series: String, point: Point, across: ClaimAcross? = nil) {
        self.series = series
        self.point = point
        self.across = across
    }

    /// The subject at the point where `variable` has `value`.
    public func at(_ variable: String, _ value: String) -> ClaimSubject {
        ClaimSubject(series: series, point: Point(point.assignments.map { $0.name == variable ? .init(name: variable, value: value) : $0 }))
    }
}

/// A point chosen along one swept variable (numbers only, e.g. tunnels), written in `point:` or
/// `over_point:` as `peak`, `every` or `{reaching_peak_of: SERIES}`.
public enum ClaimAcross: Sendable, Codable, Equatable {
    /// Where the subject's series has its highest mean throughput ("vanilla thr's maximum").
    case peak(variable: String)
    /// Every value, the claim holding at each ("always outperforms"); the value shown is the worst.
    case every(variable: String)
    /// Where the subject's series first reaches the peak mean throughput of another series,
    /// linearly interpolated between the two values around it ("at the same ~65 Gbit/s").
    case reaching(variable: String, peakOf: String)

    public var variable: String {
        switch self {
        case .peak(let variable), .every(let variable), .reaching(let variable, _): return variable
        }
    }
}

/// What a claim measures, over the successful repetitions of its subject.
public enum ClaimMeasure: Sendable, Codable, Equatable {
    /// Mean aggregate throughput, Gbit/s.
    case throughput(of: ClaimSubject)
    /// Mean throughput of one subject over another's (a gain, or flatness across points).
    case ratio(of: ClaimSubject, over: ClaimSubject)
    /// Busy % of the core the placement gave a stage on a gateway (the busiest, where it gave
    /// several and no tunnel or flow narrows them down), per repetition.
    case core(of: ClaimSubject, host: HostRole, stage: CoreAssignment.Stage, tunnel: Int? = nil, flow: Int? = nil)
    /// The share of repetitions with a black hole on a host.
    case blackHole(of: ClaimSubject, host: HostRole)
    /// Mean busy % over all of a host's cores, per repetition.
    case meanCPU(of: ClaimSubject, host: HostRole)
    /// Seconds after the traffic started at which the host's first core stayed saturated in
    /// softirq (`SaturationOnset`), over the repetitions where one did.
    case onset(of: ClaimSubject, host: HostRole)
    /// The value of a swept variable at which one series' mean throughput crosses another's
    /// (the first change of sign of their difference, linearly interpolated): "best up to about
    /// 20 tunnels". Both subjects carry `every` along that variable.
    case crossover(of: ClaimSubject, over: ClaimSubject)

    /// The names used in experiment files, in `measure:`.
    public enum Kind: String, Sendable, CaseIterable {
        case throughput, ratio, core
        case blackHole = "black-hole"
        case meanCPU = "mean-cpu"
        case onset, crossover
    }

    public var kind: Kind {
        switch self {
        case .throughput: return .throughput
        case .ratio: return .ratio
        case .core: return .core
        case .blackHole: return .blackHole
        case .meanCPU: return .meanCPU
        case .onset: return .onset
        case .crossover: return .crossover
        }
    }

    /// Every subject the measure reads, the numerator first.
    public var subjects: [ClaimSubject] {
        switch self {
        case .throughput(let of), .core(let of, _, _, _, _), .blackHole(let of, _), .meanCPU(let of, _), .onset(let of, _): return [of]
        case .ratio(let of, let over), .crossover(let of, let over): return [of, over]
        }
    }

    /// The same measure with each subject replaced.
    public func mapSubjects(_ change: (ClaimSubject) -> ClaimSubject) -> ClaimMeasure {
        switch self {
        case .throughput(let of): return .throughput(of: change(of))
        case .ratio(let of, let over): return .ratio(of: change(of), over: change(over))
        case .core(let of, let host, let stage, let tunnel, let flow): return .core(of: change(of), host: host, stage: stage, tunnel: tunnel, flow: flow)
        case .blackHole(let of, let host): return .blackHole(of: change(of), host: host)
        case .meanCPU(let of, let host): return .meanCPU(of: change(of), host: host)
        case .onset(let of, let host): return .onset(of: change(of), host: host)
        case .crossover(let of, let over): return .crossover(of: change(of), over: change(over))
        }
    }

    /// What the numbers are: "Gbit/s", "% busy", ...; empty for a ratio.
    public var unit: String {
        switch self {
        case .throughput: return "Gbit/s"
        case .ratio: return ""
        case .core, .meanCPU: return "% busy"
        case .blackHole: return "of repetitions"
        case .onset: return "s after the traffic started"
        case .crossover(let of, _): return of.across?.variable ?? ""
        }
    }
}

/// What the paper leads us to expect of a measured value.
public enum ClaimExpectation: Sendable, Codable, Equatable {
    /// Within `tolerance` (a fraction of `value`: 0.2 is 20%) of `value`, either side.
    case about(Double, tolerance: Double)
    /// Strictly greater than the bound.
    case above(Double)
    /// Strictly less than the bound.
    case below(Double)
    /// Strictly between the bounds.
    case between(Double, Double)

    /// The tolerance of `about` when a claim gives none.
    public static let defaultTolerance = 0.2

    public func holds(_ value: Double) -> Bool {
        switch self {
        case .about(let target, let tolerance): return abs(value - target) <= tolerance * abs(target) + 1e-12
        case .above(let bound): return value > bound
        case .below(let bound): return value < bound
        case .between(let low, let high): return value > low && value < high
        }
    }

    /// "about 1.45 (±10%)", "above 7", "between 45 and 48".
    public var description: String {
        let number = { (value: Double) in ClaimExpectation.format(value) }
        switch self {
        case .about(let target, let tolerance): return "about \(number(target)) (±\(number(tolerance * 100))%)"
        case .above(let bound): return "above \(number(bound))"
        case .below(let bound): return "below \(number(bound))"
        case .between(let low, let high): return "between \(number(low)) and \(number(high))"
        }
    }

    // Recorded in run.json as the file says it: {"about": 1.45, "tolerance": 0.1}, {"above": 7},
    // {"above": 45, "below": 48}.
    private enum CodingKeys: String, CodingKey { case about, tolerance, above, below }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let about = try c.decodeIfPresent(Double.self, forKey: .about)
        let above = try c.decodeIfPresent(Double.self, forKey: .above), below = try c.decodeIfPresent(Double.self, forKey: .below)
        switch (about, above, below) {
        case (let target?, nil, nil): self = .about(target, tolerance: try c.decodeIfPresent(Double.self, forKey: .tolerance) ?? Self.defaultTolerance)
        case (nil, let low?, let high?): self = .between(low, high)
        case (nil, let low?, nil): self = .above(low)
        case (nil, nil, let high?): self = .below(high)
        default:
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath,
                                                                    debugDescription: "an expectation is about (with tolerance), above, below, or above and below"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .about(let target, let tolerance):
            try c.encode(target, forKey: .about)
            try c.encode(tolerance, forKey: .tolerance)
        case .above(let bound): try c.encode(bound, forKey: .above)
        case .below(let bound): try c.encode(bound, forKey: .below)
        case .between(let low, let high):
            try c.encode(low, forKey: .above)
            try c.encode(high, forKey: .below)
        }
    }

    /// Up to three decimals, without trailing zeros: 1.45, 7, 0.333.
    public static func format(_ value: Double) -> String {
        var text = String(format: "%.3f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
