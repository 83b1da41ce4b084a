import Foundation

/// A claim checked against a run: the value measured, its 95% confidence interval, and a verdict.
public struct ClaimResult: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable {
        case holds
        case doesNotHold = "does not hold"
        /// Nothing to judge: the series was unsupported, failed, not run, or not sampled.
        case notMeasured = "not measured"
    }

    public var claim: ClaimSpec
    /// What was measured, in words: "improved / vanilla throughput", "gw2 rx-tun core of vanilla".
    public var label: String
    public var value: Double?
    /// The 95% confidence interval of `value`.
    public var low: Double?
    public var high: Double?
    /// How the interval was made ("ratio of means; delta method").
    public var method: String
    public var verdict: Verdict
    /// Why nothing was measured, or what the value was taken from.
    public var note: String

    /// Half the interval's width, for the symmetric intervals (means and ratios).
    public var halfWidth: Double? { low.flatMap { low in high.map { ($0 - low) / 2 } } }
}

/// Checks an experiment's claims against its results. Means come with Student's t 95% intervals
/// over the successful repetitions; a ratio of two means with the delta method,
/// r·√((ci_a/a)² + (ci_b/b)²), which treats the two sides as independent; a share of repetitions
/// with the Wilson score interval. The verdict compares the measured value (not the interval)
/// with the expectation; the interval is there for the reader to judge how firm it is.
public enum Claims {
    public static func evaluate(_ spec: ExperimentSpec, results: [RepetitionResult]) -> [ClaimResult] {
        spec.claims.map { evaluate($0, spec: spec, results: results) }
    }

    public static func evaluate(_ claim: ClaimSpec, spec: ExperimentSpec, results: [RepetitionResult]) -> ClaimResult {
        let run = Measuring(spec: spec, results: results)
        var result = ClaimResult(claim: claim, label: run.label(claim.measure), value: nil, low: nil, high: nil,
                                 method: "", verdict: .notMeasured, note: "")
        do {
            let measured = try run.measure(claim.measure, expecting: claim.expectation)
            result.value = measured.value
            result.low = measured.low
            result.high = measured.high
            result.method = measured.method
            result.note = measured.note
            result.verdict = claim.expectation.holds(measured.value) ? .holds : .doesNotHold
        } catch {
            result.note = error.text
        }
        return result
    }

    /// The 95% Wilson score interval of a share of `successes` in `trials`.
    public static func wilson(successes: Int, trials: Int) -> (low: Double, high: Double) {
        guard trials > 0 else { return (0, 1) }
        let n = Double(trials), p = Double(successes) / n, z = 1.96
        let center = (p + z * z / (2 * n)) / (1 + z * z / n)
        let half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
        return (max(0, center - half), min(1, center + half))
    }

    /// The delta method's 95% half-width of a / b from each mean's half-width.
    public static func ratioHalfWidth(a: Double, ciA: Double, b: Double, ciB: Double) -> Double {
        abs(a / b) * ((ciA / a) * (ciA / a) + (ciB / b) * (ciB / b)).squareRoot()
    }
}

/// One run's results, measured for claims.
struct Measuring {
    let spec: ExperimentSpec
    let results: [RepetitionResult]

    struct Measured {
        var value: Double
        var low: Double
        var high: Double
        var method: String
        var note: String = ""
    }

    /// Why a claim could not be measured, in words for the report.
    struct Unmeasured: Error {
        var text: String
    }

    func measure(_ measure: ClaimMeasure) throws(Unmeasured) -> Measured {
        switch measure {
        case .throughput(let of):
            return try mean(of) { result in result.throughput.map { $0 / 1e9 } }
        case .ratio(let of, let over):
            // In randomized blocks, two series at one point are compared round by round.
            if spec.order == .blocks, of.point == over.point {
                let byRound = { (results: [RepetitionResult]) in
                    Dictionary(results.compactMap { r in r.throughput.map { (r.key.repetition, $0 / 1e9) } }, uniquingKeysWith: { x, _ in x })
                }
                let a = byRound(try successful(of)), b = byRound(try successful(over))
                let rounds = a.keys.filter { b[$0] != nil }.sorted()
                if let estimate = PairedRatios.paired(rounds.map { a[$0]! }, rounds.map { b[$0]! }) {
                    return Measured(value: estimate.ratio, low: estimate.low ?? estimate.ratio, high: estimate.high ?? estimate.ratio,
                                    method: "paired by round (randomized blocks): geometric mean of the per-round ratios, 95% t interval on their logarithms",
                                    note: "\(describe(of)) over \(describe(over)), \(rounds.count) round\(rounds.count == 1 ? "" : "s")")
                }
            }
            let a = try mean(of) { $0.throughput.map { $0 / 1e9 } }
            let b = try mean(over) { $0.throughput.map { $0 / 1e9 } }
            guard b.value > 0, a.value > 0 else { throw Unmeasured(text: "a mean throughput of 0: no ratio") }
            let ratio = a.value / b.value
            let half = Claims.ratioHalfWidth(a: a.value, ciA: (a.high - a.low) / 2, b: b.value, ciB: (b.high - b.low) / 2)
            return Measured(value: ratio, low: ratio - half, high: ratio + half,
                            method: "ratio of means; 95% CI by the delta method, r·√((ci_a/a)² + (ci_b/b)²)", note: "\(a.note) over \(b.note)")
        case .core(let of, let host, let stage, let tunnel, let flow):
            return try coreBusy(of, host: host, stage: stage, tunnel: tunnel, flow: flow)
        case .blackHole(let of, let host):
            let hasTunnels = spec.series.first { $0.name == of.series }?.target.hasTunnels ?? true
            let analyzed = try successful(of).compactMap { Findings.analyze($0, hasTunnels: hasTunnels) }.filter { $0.hosts.contains(host.rawValue) }
            guard !analyzed.isEmpty else { throw Unmeasured(text: "no CPU samples of \(host) in \(describe(of))") }
            let holes = analyzed.filter { $0.findings.contains { $0.kind == .blackHole && $0.host == host.rawValue } }
            let interval = Claims.wilson(successes: holes.count, trials: analyzed.count)
            return Measured(value: Double(holes.count) / Double(analyzed.count), low: interval.low, high: interval.high,
                            method: "share of repetitions; 95% Wilson score interval",
                            note: "\(describe(of)), \(holes.count) of \(analyzed.count) repetitions"
                                + (holes.isEmpty ? "" : " (\(holes.map { "rep \($0.repetition)" }.joined(separator: ", ")))"))
        case .crossover(let of, let over):
            return try crossover(of, over: over)
        case .meanCPU(let of, let host):
            return try mean(of) { $0.cpu[host.rawValue].flatMap(CoreUsage.meanBusy) } orElse: { "no CPU samples of \(host)" }
        case .onset(let of, let host):
            let recorded = try successful(of).compactMap { $0.saturation?[host.rawValue] }
            guard !recorded.isEmpty else {
                throw Unmeasured(text: "no per-second CPU of \(host) from the start of the traffic in \(describe(of)) (results recorded before it was kept?)")
            }
            let firsts = recorded.compactMap { $0.first?.seconds }
            guard let stats = SampleStatistics(firsts) else {
                throw Unmeasured(text: "no core of \(host) stayed saturated in any of \(recorded.count) repetitions of \(describe(of))")
            }
            return Measured(value: stats.mean, low: stats.mean - stats.ci95, high: stats.mean + stats.ci95,
                            method: "mean of repetitions; 95% CI by Student's t",
                            note: "\(describe(of)), a core saturated in \(firsts.count) of \(recorded.count) repetitions")
        }
    }

    /// The busy % of the core(s) the placement gave a stage in each repetition (the busiest, when
    /// several match), averaged over the repetitions.
    func coreBusy(_ of: ClaimSubject, host: HostRole, stage: CoreAssignment.Stage, tunnel: Int?, flow: Int?) throws(Unmeasured) -> Measured {
        // Why a repetition gave no value, the most telling reason last.
        enum Gap: Int, Comparable {
            case noPlacement, noSuchStage, noSamples
            static func < (a: Gap, b: Gap) -> Bool { a.rawValue < b.rawValue }
        }
        var gaps = Set<Gap>(), widest = 0
        var measured = try mean(of) { result -> Double? in
            guard let placed = result.placement[host.rawValue], !placed.isEmpty else { gaps.insert(.noPlacement); return nil }
            let cpus = Set(placed.filter { $0.stage == stage && (tunnel == nil || $0.tunnel == tunnel) && (flow == nil || $0.flow == flow) }.map(\.cpu))
            guard !cpus.isEmpty else { gaps.insert(.noSuchStage); return nil }
            guard let busiest = result.cpu[host.rawValue]?.filter({ cpus.contains($0.cpu) }).map(\.busy).max() else {
                gaps.insert(.noSamples)
                return nil
            }
            widest = max(widest, cpus.count)
            return busiest
        } orElse: {
            switch gaps.max() {
            case .noSamples: return "no CPU samples of the placed cores on \(host)"
            case .noSuchStage:
                let owner = tunnel.map { " of tunnel \($0)" } ?? flow.map { " of flow \($0)" } ?? ""
                return "the placement gave no core to \(stage.rawValue)\(owner) on \(host)"
            case .noPlacement, nil: return "no placement recorded for \(host) (results from before placement was kept, or nothing placed)"
            }
        }
        if widest > 1 { measured.note += "; the busiest of \(widest) \(stage.rawValue) cores in each" }
        return measured
    }

    /// The successful repetitions of a subject; what happened instead when there are none.
    func successful(_ subject: ClaimSubject) throws(Unmeasured) -> [RepetitionResult] {
        let mine = results.filter { $0.key.series == subject.series && $0.key.point == subject.point }
        let ok = mine.filter { $0.status == .ok }
        guard ok.isEmpty else { return ok }
        let reasons = Array(Set(mine.compactMap(\.reason))).sorted().joined(separator: "; ")
        if mine.isEmpty { throw Unmeasured(text: "\(describe(subject)) was not run") }
        if mine.allSatisfy({ $0.status == .unsupported }) {
            throw Unmeasured(text: "\(subject.series) is unsupported on this testbed" + (reasons.isEmpty ? "" : ": \(reasons)"))
        }
        throw Unmeasured(text: "every repetition of \(describe(subject)) failed" + (reasons.isEmpty ? "" : ": \(reasons)"))
    }

    /// The mean of a per-repetition value over the successful repetitions that have one.
    func mean(_ subject: ClaimSubject, _ value: (RepetitionResult) -> Double?,
              orElse missing: () -> String = { "no value recorded" }) throws(Unmeasured) -> Measured {
        let values = try successful(subject).compactMap(value)
        guard let stats = SampleStatistics(values) else { throw Unmeasured(text: "\(missing()) in \(describe(subject))") }
        return Measured(value: stats.mean, low: stats.mean - stats.ci95, high: stats.mean + stats.ci95, method: "mean of repetitions; 95% CI by Student's t",
                        note: "\(describe(subject)), \(stats.count) repetition\(stats.count == 1 ? "" : "s")")
    }

    // MARK: Words

    /// Sweep variables with several values: the others hold at every point and would only add noise.
    var varying: Set<String> { Set(spec.sweep.filter { $0.values.count > 1 }.map(\.name)) }

    /// "vanilla at tunnels=8", or "vanilla" where nothing varies.
    func describe(_ subject: ClaimSubject) -> String {
        let shown = subject.point.assignments.filter { varying.contains($0.name) && $0.name != subject.across?.variable }
        let base = shown.isEmpty ? subject.series : "\(subject.series) at \(Point(shown).id)"
        return base + (subject.across.map { " " + Self.words($0) } ?? "")
    }

    /// "at its peak over tunnels", "at every tunnels", "where it reaches numa-aware-thr's peak".
    static func words(_ across: ClaimAcross) -> String {
        switch across {
        case .peak(let variable): return "at its peak over \(variable)"
        case .every(let variable): return "at every \(variable)"
        case .reaching(_, let target): return "where it reaches \(target)'s peak throughput"
        }
    }

    /// The measure in words: "improved / vanilla throughput", "gw2 rx-tun core, vanilla (tunnels 1)".
    func label(_ measure: ClaimMeasure) -> String {
        let name = { (subject: ClaimSubject) -> String in
            let shown = subject.point.assignments.filter { varying.contains($0.name) && $0.name != subject.across?.variable }
            let base = shown.isEmpty ? subject.series : "\(subject.series) (\(shown.map { "\($0.name) \($0.value)" }.joined(separator: ", ")))"
            return base + (subject.across.map { " " + Self.words($0) } ?? "")
        }
        switch measure {
        case .throughput(let of): return "\(name(of)) throughput"
        case .ratio(let of, let over): return "\(name(of)) / \(name(over)) throughput"
        case .core(let of, let host, let stage, let tunnel, let flow):
            let owner = tunnel.map { " of tunnel \($0)" } ?? flow.map { " of flow \($0)" } ?? ""
            return "\(host) \(stage.rawValue) core\(owner), \(name(of))"
        case .blackHole(let of, let host): return "black hole on \(host), \(name(of))"
        case .meanCPU(let of, let host): return "\(host) mean CPU, \(name(of))"
        case .onset(let of, let host): return "saturation onset on \(host), \(name(of))"
        case .crossover(let of, let over): return "\(of.across?.variable ?? "point") where \(of.series) and \(over.series) cross"
        }
    }
}
