import Foundation

/// What a reader should notice about a repetition, found automatically from its per-core CPU
/// usage and the cores its placement gave each stage.
public struct Finding: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// A core at or near 100%: whatever runs there limits throughput.
        case bottleneck
        /// The paper's "black hole" (Fig. 9): the forwarding (NAPI polls) of several tunnels
        /// gathered on one core, saturated in softirq beyond what the stages placed there explain.
        case blackHole = "black-hole"
        /// A core that began to stay saturated in softirq during the traffic, and when
        /// (`SaturationOnset`): how soon after the traffic started a black hole formed.
        case saturationOnset = "saturation-onset"

        /// As a reader says it: "black hole".
        public var words: String { rawValue.replacingOccurrences(of: "-", with: " ") }
    }

    public var kind: Kind
    public var host: String
    public var cores: [Int]
    public var detail: String
    /// With `saturationOnset`: for each of `cores`, the seconds after the start of the traffic.
    public var seconds: [Double]?

    public init(kind: Kind, host: String, cores: [Int], detail: String, seconds: [Double]? = nil) {
        self.kind = kind
        self.host = host
        self.cores = cores
        self.detail = detail
        self.seconds = seconds
    }
}

/// The findings of one successful repetition.
public struct RepetitionFindings: Codable, Sendable, Equatable {
    /// 1-based, as in `RunKey`.
    public var repetition: Int
    /// The hosts whose CPU was sampled in this repetition, so "no finding" means something there.
    public var hosts: [String]
    public var findings: [Finding]

    public init(repetition: Int, hosts: [String], findings: [Finding]) {
        self.repetition = repetition
        self.hosts = hosts
        self.findings = findings
    }
}

/// One kind of finding on one host, counted over a point's repetitions: "black hole in 7 of 10
/// repetitions, on cores 30, 30, 12".
public struct FindingTally: Codable, Sendable, Equatable {
    /// A repetition where the finding occurred, and the cores it was on there.
    public struct Occurrence: Codable, Sendable, Equatable {
        public var repetition: Int
        public var cores: [Int]
        public var detail: String
        /// With `saturationOnset`: the onset of each core, seconds after the traffic started.
        public var seconds: [Double]?
    }

    public var kind: Finding.Kind
    public var host: String
    /// Repetitions analyzed on this host (successful, with CPU samples of it).
    public var analyzed: Int
    /// In repetition order.
    public var occurrences: [Occurrence]

    /// "black hole on gw2 in 7 of 10 repetitions, on cores 30, 30, 12".
    public var summary: String { "\(kind.words) \(extent)" }

    /// The summary without the kind: "on gw2 in 7 of 10 repetitions, on cores 30, 30, 12"; the
    /// cores are listed per occurrence, several in one repetition joined with "+".
    public var extent: String {
        if kind == .saturationOnset {
            let each = occurrences.map { occurrence in
                let cores = zip(occurrence.cores, occurrence.seconds ?? []).map { "core \($0) at \(ClaimExpectation.format($1)) s" }
                return "rep \(occurrence.repetition) " + cores.prefix(3).joined(separator: " + ") + (cores.count > 3 ? " and \(cores.count - 3) more" : "")
            }
            return "on \(host) in \(occurrences.count) of \(analyzed) repetition\(analyzed == 1 ? "" : "s"): \(each.joined(separator: ", "))"
        }
        let cores = occurrences.map { $0.cores.map(String.init).joined(separator: "+") }.joined(separator: ", ")
        let plural = occurrences.count == 1 && occurrences[0].cores.count == 1 ? "core" : "cores"
        return "on \(host) in \(occurrences.count) of \(analyzed) repetition\(analyzed == 1 ? "" : "s"), on \(plural) \(cores)"
    }
}

/// Finds bottlenecks and black holes in each repetition on its own: averaging CPU over
/// repetitions first would hide a black hole that lands on a different core each time.
public enum Findings {
    /// A core this busy (percent) counts as saturated.
    public static let saturated = 90.0

    /// Findings of one repetition; none unless it succeeded. `hasTunnels` is false for the plain
    /// target, whose flows cannot gather into a tunnel's black hole.
    public static func analyze(_ result: RepetitionResult, hasTunnels: Bool) -> RepetitionFindings? {
        guard result.status == .ok else { return nil }
        let hosts = result.cpu.filter { !$0.value.isEmpty }.keys.sorted()
        var findings = analyze(cpu: result.cpu, placement: result.placement, tunnels: hasTunnels ? result.key.point.tunnels : 0)
        for (host, onsets) in (result.saturation ?? [:]).sorted(by: { $0.key < $1.key }) where !onsets.isEmpty {
            let at = Dictionary(onsets.map { ($0.cpu, $0.seconds) }, uniquingKeysWith: min)
            for index in findings.indices where findings[index].host == host && findings[index].kind == .blackHole {
                let set = findings[index].cores.compactMap { core in at[core].map { "core \(core) from \(ClaimExpectation.format($0)) s" } }
                if !set.isEmpty { findings[index].detail += "; saturated since the traffic started: " + set.joined(separator: ", ") }
            }
            findings.append(Finding(
                kind: .saturationOnset, host: host, cores: onsets.map(\.cpu),
                detail: onsets.map { "core \($0.cpu) from \(ClaimExpectation.format($0.seconds)) s" }.joined(separator: ", ")
                    + String(format: " after the traffic started (softirq at %.0f%% or more for %.0f s or longer)",
                             SaturationOnset.softirqThreshold, SaturationOnset.holdSeconds),
                seconds: onsets.map(\.seconds)))
        }
        return RepetitionFindings(repetition: result.key.repetition, hosts: hosts, findings: findings)
    }

    /// Findings from one repetition's per-core usage, per host in name order.
    ///
    /// A bottleneck is any saturated core. A black hole is a saturated core, mostly in softirq,
    /// while at least two tunnels run, whose softirq the stages placed there do not explain (see
    /// `blackHoles`). Without a placement for the host (results recorded before it was kept) the
    /// rule falls back to the busiest core when the others average under 60% of it.
    public static func analyze(cpu: [String: [CoreUsage]], placement: [String: [CoreAssignment]], tunnels: Int) -> [Finding] {
        var findings: [Finding] = []
        for (host, cores) in cpu.sorted(by: { $0.key < $1.key }) where !cores.isEmpty {
            let assigned = placement[host] ?? []
            let hot = cores.filter { $0.busy >= saturated }
            if !hot.isEmpty {
                let detail = hot.map { core in
                    String(format: "core %d %.0f%% busy, mostly %@", core.cpu, core.busy, core.dominant) + role(of: core.cpu, in: assigned)
                }.joined(separator: "; ")
                findings.append(Finding(kind: .bottleneck, host: host, cores: hot.map(\.cpu), detail: detail))
            }
            let holes = assigned.isEmpty ? legacyBlackHole(cores, tunnels: tunnels).map { ($0, "") }
                : blackHoles(cores, assigned: assigned, home: HostRole(rawValue: host).map(PlacementSpec.homeStage), tunnels: tunnels)
            if !holes.isEmpty {
                let others = cores.filter { core in !holes.contains { $0.core.cpu == core.cpu } }
                let othersMean = others.isEmpty ? 0 : others.map(\.busy).reduce(0, +) / Double(others.count)
                let what = holes.map { String(format: "core %d is %.0f%% busy (%.0f%% softirq)", $0.core.cpu, $0.core.busy, $0.core.softirq) + $0.why }
                    .joined(separator: ", ")
                findings.append(Finding(kind: .blackHole, host: host, cores: holes.map(\.core.cpu), detail: String(
                    format: "%d tunnels: %@; the other cores average %.0f%%", tunnels, what, othersMean)))
            }
        }
        return findings
    }

    /// Each kind of finding on each host over a point's repetitions, host then kind order.
    public static func tally(_ repetitions: [RepetitionFindings]) -> [FindingTally] {
        let hosts = Set(repetitions.flatMap(\.hosts)).sorted()
        return hosts.flatMap { host in
            Finding.Kind.allCases.compactMap { kind -> FindingTally? in
                let analyzed = repetitions.filter { $0.hosts.contains(host) }.sorted { $0.repetition < $1.repetition }
                let occurrences = analyzed.compactMap { repetition in
                    repetition.findings.first { $0.kind == kind && $0.host == host }.map {
                        FindingTally.Occurrence(repetition: repetition.repetition, cores: $0.cores, detail: $0.detail, seconds: $0.seconds)
                    }
                }
                return occurrences.isEmpty ? nil : FindingTally(kind: kind, host: host, analyzed: analyzed.count, occurrences: occurrences)
            }
        }
    }

    /// How far above what its own receptions need a reception core's softirq must be to count as a
    /// black hole: 1.5x the softirq per reception of the host's other reception cores (their median).
    public static let unexplainedFactor = 1.5

    /// Saturated softirq cores, with at least two tunnels, whose softirq the placement does not
    /// explain, and why. The data direction's reception (`home`: gw1's flows, gw2's tunnels) and
    /// Inline put softirq work on a core; a TX worker (process context) or the ACK direction's
    /// reception does not explain a saturated softirq, so such a core, or one with nothing placed,
    /// is a black hole. A core receiving k items of the data direction explains k times what one
    /// reception needs: the median softirq per reception over the host's other reception cores.
    /// One far above that carries more than its own receptions: the NAPI polls of other tunnels
    /// (Fig. 9). Where every tunnel's own core is saturated alike, none stands out, and Inline's
    /// cores run every stage of their tunnel by design.
    static func blackHoles(_ cores: [CoreUsage], assigned: [CoreAssignment], home: CoreAssignment.Stage?,
                           tunnels: Int) -> [(core: CoreUsage, why: String)] {
        guard tunnels >= 2 else { return [] }
        let receptions = Dictionary(grouping: assigned.filter { $0.stage == home }, by: \.cpu).mapValues(\.count)
        let inline = Set(assigned.filter { $0.stage == .inline }.map(\.cpu))
        let softirq = Dictionary(cores.map { ($0.cpu, $0.softirq) }, uniquingKeysWith: { first, _ in first })
        return cores.compactMap { core -> (CoreUsage, String)? in
            guard core.busy >= saturated, core.dominant == "softirq", !inline.contains(core.cpu) else { return nil }
            guard let mine = receptions[core.cpu] else {
                guard let placed = roles(of: core.cpu, in: assigned) else { return (core, ", and the placement put no stage there") }
                return (core, ", and only \(placed) was placed there, which does not explain a saturated softirq")
            }
            let perReception = receptions.filter { $0.key != core.cpu }.compactMap { cpu, count in softirq[cpu].map { $0 / Double(count) } }
            guard let need = Percentile.median(perReception), core.softirq > unexplainedFactor * need * Double(mine) else { return nil }
            return (core, String(format: ", %.1fx what its own reception%@ need%@ (%.0f%% softirq each, the median of the other reception cores)",
                                 core.softirq / (need * Double(mine)), mine == 1 ? "" : "s", mine == 1 ? "s" : "", need))
        }
    }

    /// The rule for results without a placement: one saturated core, mostly in softirq, with at
    /// least two tunnels, while the other cores average under 60% of its load.
    static func legacyBlackHole(_ cores: [CoreUsage], tunnels: Int) -> [CoreUsage] {
        guard tunnels >= 2, cores.count >= 2,
              let top = cores.max(by: { $0.busy < $1.busy }), top.busy >= saturated, top.dominant == "softirq"
        else { return [] }
        let others = cores.filter { $0.cpu != top.cpu }
        let mean = others.map(\.busy).reduce(0, +) / Double(others.count)
        return mean <= 0.6 * top.busy ? [top] : []
    }

    /// " (rx-tun of tunnel 1)" when the placement gave the core to stages, else "".
    static func role(of cpu: Int, in assigned: [CoreAssignment]) -> String {
        roles(of: cpu, in: assigned).map { " (\($0))" } ?? ""
    }

    /// "rx-tun of tunnel 1, tx-tun of tunnel 3" (the first three, then "and N more"); nil for none.
    static func roles(of cpu: Int, in assigned: [CoreAssignment]) -> String? {
        let roles = assigned.filter { $0.cpu == cpu }.map { assignment -> String in
            if let tunnel = assignment.tunnel { return "\(assignment.stage.rawValue) of tunnel \(tunnel)" }
            if let flow = assignment.flow { return "\(assignment.stage.rawValue) of flow \(flow)" }
            return assignment.stage.rawValue
        }
        guard !roles.isEmpty else { return nil }
        return roles.prefix(3).joined(separator: ", ") + (roles.count > 3 ? " and \(roles.count - 3) more" : "")
    }
}
