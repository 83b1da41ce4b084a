/// Reads an experiment file's `claims:` list (see `ClaimSpec` for the format) against the rest
/// of the spec: a claim may only name the spec's series, points its sweep has, hosts it samples
/// and stages placement knows, so that a claim that could never be measured fails at load time,
/// with the file, line and key, not as "not measured" after a night of running.
struct ClaimDecoder {
    let spec: ExperimentSpec

    static let keys = ["paper", "measure", "series", "over", "point", "over_point", "host", "stage", "tunnel", "flow",
                       "about", "tolerance", "above", "below"]
    static let expectationKeys: Set<String> = ["about", "tolerance", "above", "below"]

    /// The keys each measure takes besides `paper`, `measure` and the expectation.
    static func subjectKeys(_ kind: ClaimMeasure.Kind) -> [String] {
        switch kind {
        case .throughput: return ["series", "point"]
        case .ratio, .crossover: return ["series", "point", "over", "over_point"]
        case .core: return ["series", "point", "host", "stage", "tunnel", "flow"]
        case .blackHole, .meanCPU, .onset: return ["series", "point", "host"]
        }
    }

    func decode(_ node: SpecNode?) throws -> [ClaimSpec] {
        guard let node else { return [] }
        return try node.sequence().map(claim)
    }

    private func claim(_ node: SpecNode) throws -> ClaimSpec {
        let map = try node.mapping(allowed: Self.keys)
        let paper = try map.required("paper").string()
        let measureNode = try map.required("measure")
        let kindText = try measureNode.string()
        guard let kind = ClaimMeasure.Kind(rawValue: kindText) else {
            throw measureNode.error("'\(kindText)' is not a measure; the measures are "
                                    + ClaimMeasure.Kind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let allowed = Set(["paper", "measure"] + Self.subjectKeys(kind)).union(Self.expectationKeys)
        if let (key, stray) = map.entries.first(where: { !allowed.contains($0.0) }) {
            throw stray.error("'\(key)' does not apply to measure \(kind.rawValue); it takes \(Self.subjectKeys(kind).joined(separator: ", "))")
        }
        let of = try subject(series: map.required("series"), point: map.optional("point"), owner: node)
        let measure: ClaimMeasure
        switch kind {
        case .throughput:
            measure = .throughput(of: of)
        case .ratio:
            let over = try subject(series: map.required("over"), point: map.optional("over_point") ?? map.optional("point"), owner: node)
            if over == of { throw node.error("the ratio's two sides are the same series at the same point") }
            if case .every = over.across, of.across != over.across {
                throw (map.optional("over_point") ?? node).error("over_point: every needs point: every (both sides at each point)")
            }
            measure = .ratio(of: of, over: over)
        case .core:
            let stageNode = try map.required("stage")
            let stageText = try stageNode.string()
            guard let stage = CoreAssignment.Stage(rawValue: stageText) else {
                throw stageNode.error("'\(stageText)' is not a stage; the stages are "
                                      + CoreAssignment.Stage.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let tunnel = try map.optional("tunnel")?.int(in: 1...1024)
            let flowNode = map.optional("flow")
            if let flowNode, stage != .rxPlain { throw flowNode.error("only rx-plain belongs to a flow; \(stage.rawValue) belongs to a tunnel") }
            if stage == .rxPlain, let tunnelNode = map.optional("tunnel") {
                throw tunnelNode.error("rx-plain belongs to a flow: give flow (0-based), not tunnel")
            }
            let host = try self.host(map.required("host"), gatewaysOnly: true)
            measure = .core(of: of, host: host, stage: stage, tunnel: tunnel, flow: try flowNode?.int(in: 0...4095))
        case .crossover:
            guard case .every = of.across else {
                throw (map.optional("point") ?? node).error("a crossover runs along a swept variable: give point: every (the variable with several values)")
            }
            let over = try subject(series: map.required("over"), point: map.optional("over_point") ?? map.optional("point"), owner: node)
            guard over.across == of.across else { throw (map.optional("over_point") ?? node).error("a crossover compares both series at every point: over_point: every") }
            if over.series == of.series { throw node.error("a crossover needs two series") }
            measure = .crossover(of: of, over: over)
        case .blackHole:
            measure = .blackHole(of: of, host: try host(map.required("host"), gatewaysOnly: false))
        case .meanCPU:
            measure = .meanCPU(of: of, host: try host(map.required("host"), gatewaysOnly: false))
        case .onset:
            measure = .onset(of: of, host: try host(map.required("host"), gatewaysOnly: false))
        }
        return ClaimSpec(paper: paper, measure: measure, expectation: try expectation(map, owner: node))
    }

    private func subject(series node: SpecNode, point pointNode: SpecNode?, owner: SpecNode) throws -> ClaimSubject {
        let name = try node.string()
        guard spec.series.contains(where: { $0.name == name }) else {
            throw node.error("'\(name)' is not a series of this experiment; its series: \(spec.series.map(\.name).joined(separator: ", "))")
        }
        if let pointNode, case .scalar = pointNode.node {
            let word = try pointNode.string()
            let variable = try varied(given: [], at: pointNode)
            let fixed = try point(nil, owner: owner, varied: variable)
            switch word {
            case "peak": return ClaimSubject(series: name, point: fixed, across: .peak(variable: variable))
            case "every": return ClaimSubject(series: name, point: fixed, across: .every(variable: variable))
            default: throw pointNode.error("'\(word)' is not a point: give a mapping such as {\(variable): ...}, or peak, every, {reaching_peak_of: SERIES}")
            }
        }
        let entries = try pointNode?.anyMapping() ?? []
        if let (_, other) = entries.first(where: { $0.key == "reaching_peak_of" }) {
            let target = try other.string()
            guard spec.series.contains(where: { $0.name == target }) else {
                throw other.error("'\(target)' is not a series of this experiment; its series: \(spec.series.map(\.name).joined(separator: ", "))")
            }
            let variable = try varied(given: entries.map(\.key), at: pointNode!)
            return ClaimSubject(series: name, point: try point(pointNode, owner: owner, varied: variable),
                                across: .reaching(variable: variable, peakOf: target))
        }
        return ClaimSubject(series: name, point: try point(pointNode, owner: owner))
    }

    /// The one swept variable with several numeric values that a point does not fix: the one a
    /// `peak`, `every` or `reaching_peak_of` runs along.
    private func varied(given: [String], at node: SpecNode) throws -> String {
        let open = spec.sweep.filter { $0.values.count > 1 && !given.contains($0.name) }
        guard open.count == 1, let variable = open.first else {
            throw node.error(open.isEmpty ? "no swept variable with several values is left to choose a point along"
                             : "fix all but one of \(open.map(\.name).joined(separator: ", ")) to choose a point along the other")
        }
        guard variable.values.allSatisfy({ Double($0) != nil }) else {
            throw node.error("\(variable.name) has values that are not numbers: a point is chosen along a numeric variable")
        }
        return variable.name
    }

    /// A point of the sweep: every variable the claim names must be swept, with a value the sweep
    /// has; a variable with a single value may be left out, one with several may not.
    private func point(_ node: SpecNode?, owner: SpecNode, varied: String? = nil) throws -> Point {
        var given: [String: SpecNode] = [:]
        for (name, value) in try node?.anyMapping() ?? [] where name != "reaching_peak_of" {
            guard let variable = spec.sweep.first(where: { $0.name == name }) else {
                throw value.error("'\(name)' is not swept by this experiment; its sweep: "
                                  + (spec.sweep.isEmpty ? "none" : spec.sweep.map(\.name).joined(separator: ", ")))
            }
            let text = try value.string()
            guard variable.values.contains(text) else {
                throw value.error("\(name) \(text) is not in the sweep; its values: \(variable.values.joined(separator: ", "))")
            }
            given[name] = value
        }
        return Point(try spec.sweep.map { variable in
            if let value = given[variable.name] { return Point.Assignment(name: variable.name, value: try value.string()) }
            guard variable.values.count == 1 || variable.name == varied else {
                throw (node ?? owner).error("say which \(variable.name) (point: {\(variable.name): ...}); the sweep has "
                                            + variable.values.joined(separator: ", "))
            }
            return Point.Assignment(name: variable.name, value: variable.values[0])
        })
    }

    /// A sampled host; for `core`, a gateway (placement is recorded for gw1 and gw2).
    private func host(_ node: SpecNode, gatewaysOnly: Bool) throws -> HostRole {
        let text = try node.string()
        guard let role = HostRole(rawValue: text) else { throw node.error("'\(text)' is not a host role; the roles are source, gw1, gw2, drain") }
        if gatewaysOnly && role != .gw1 && role != .gw2 { throw node.error("placement is recorded for gw1 and gw2 only") }
        guard spec.sampling.hosts.contains(role) else {
            throw node.error("\(text) is not sampled by this experiment (sampling.hosts: \(spec.sampling.hosts.map(\.rawValue).joined(separator: ", ")))")
        }
        return role
    }

    private func expectation(_ map: SpecMapping, owner: SpecNode) throws -> ClaimExpectation {
        let about = try map.optional("about").map(number)
        let above = try map.optional("above").map(number)
        let below = try map.optional("below").map(number)
        let toleranceNode = map.optional("tolerance")
        switch (about, above, below) {
        case (let target?, nil, nil):
            let tolerance = try toleranceNode.map(percentage) ?? ClaimExpectation.defaultTolerance
            return .about(target, tolerance: tolerance)
        case (nil, let low, let high) where low != nil || high != nil:
            if let toleranceNode { throw toleranceNode.error("tolerance goes with about, not with above or below") }
            if let low, let high {
                guard low < high else { throw map.optional("below")!.error("below must be greater than above") }
                return .between(low, high)
            }
            return low.map { .above($0) } ?? .below(high!)
        case (_?, _, _):
            throw (map.optional("above") ?? map.optional("below"))!.error("give about (with a tolerance) or above/below, not both")
        default:
            throw owner.error("say what the paper expects: about: X (tolerance: 20%), above: X or below: X")
        }
    }

    private func number(_ node: SpecNode) throws -> Double {
        let text = try node.string()
        guard let value = Double(text), value.isFinite else { throw node.error("'\(text)' is not a number") }
        return value
    }

    /// `20%` -> 0.2; more than 0%, at most 100%.
    private func percentage(_ node: SpecNode) throws -> Double {
        let text = try node.string()
        guard text.hasSuffix("%"), let value = Double(text.dropLast()), value > 0, value <= 100 else {
            throw node.error("'\(text)' is not a tolerance such as 20% (more than 0%, at most 100%)")
        }
        return value / 100
    }
}
