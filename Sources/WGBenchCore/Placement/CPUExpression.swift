/// A set of CPUs written symbolically in an experiment file, resolved per gateway and per tunnel
/// from the host's real topology, so one figure file is right on any lab.
///
/// ```
/// expression := term { ("+" | "-") term }        union and difference, left to right
/// term       := "all"                             every online CPU
///             | "node(" N | "tunnel" | "nic" | "other" ")"
///                                                 a NUMA node's CPUs: node N; the tunnel's home node
///                                                 (the node of its home core); the node of the NIC
///                                                 the gateway receives its data on; every node but the tunnel's
///             | "first(" expression ")"           the lowest CPU of a set
///             | "tunnel"                          the tunnel's home core (where its data is received)
///             | "rx-plain" | "rx-tun" | "tx-tun"  the cores this tunnel's stages got on this gateway
///             | "rx" | "tx"                       every receive core / every TX-worker core of the gateway
///             | CPU list                          literal CPUs, e.g. 0-3,8 (discouraged in figure files)
///             | "(" expression ")"
/// ```
/// Binary operators need spaces around them (`all - rx-tun`): stage names contain hyphens.
public indirect enum CPUExpression: Sendable, Hashable, CustomStringConvertible {
    case all
    case node(NodeReference)
    case first(CPUExpression)
    case stage(StageReference)
    case list([Int])
    case union(CPUExpression, CPUExpression)
    case difference(CPUExpression, CPUExpression)

    public enum NodeReference: Sendable, Hashable {
        case id(Int)
        /// The node of the tunnel's home core.
        case tunnel
        /// The node of the NIC on which the gateway receives the data direction.
        case nic
        /// Every node other than the tunnel's.
        case other
    }

    public enum StageReference: String, Sendable, Hashable, CaseIterable {
        case tunnel
        case rxPlain = "rx-plain"
        case rxTunnel = "rx-tun"
        case txTunnel = "tx-tun"
        case rx
        case tx
    }

    public var description: String {
        switch self {
        case .all: return "all"
        case .node(.id(let id)): return "node(\(id))"
        case .node(.tunnel): return "node(tunnel)"
        case .node(.nic): return "node(nic)"
        case .node(.other): return "node(other)"
        case .first(let inner): return "first(\(inner))"
        case .stage(let stage): return stage.rawValue
        case .list(let cpus): return CPUList.format(cpus)
        case .union(let a, let b): return "\(a) + \(b.parenthesizedIfBinary)"
        case .difference(let a, let b): return "\(a) - \(b.parenthesizedIfBinary)"
        }
    }

    private var parenthesizedIfBinary: String {
        switch self {
        case .union, .difference: return "(\(self))"
        default: return description
        }
    }

    /// The stages this expression refers to (so a placement can check it refers only to stages placed before it).
    public var stages: Set<StageReference> {
        switch self {
        case .all, .list, .node(.id), .node(.nic): return []
        case .node(.tunnel), .node(.other): return [.tunnel]
        case .first(let inner): return inner.stages
        case .stage(let stage): return [stage]
        case .union(let a, let b), .difference(let a, let b): return a.stages.union(b.stages)
        }
    }

    /// The expression without its differences that subtract placed stages: `node(tunnel) - rx`
    /// gives `node(tunnel)`, `all - first(node(nic))` stays. Such a difference avoids overlap while
    /// there is room; the placement spreads items over this wider set once there is none.
    public var withoutStageExclusions: CPUExpression {
        switch self {
        case .difference(let a, let b):
            let kept = a.withoutStageExclusions
            return b.namesPlacedCores ? kept : .difference(kept, b)
        case .union(let a, let b): return .union(a.withoutStageExclusions, b.withoutStageExclusions)
        case .all, .node, .first, .stage, .list: return self
        }
    }

    /// Whether the set holds cores the placement gave to stages (`rx`, `tunnel`, ...), not only
    /// fixed ones (a node, even the tunnel's, or a list).
    var namesPlacedCores: Bool {
        switch self {
        case .stage: return true
        case .first(let inner): return inner.namesPlacedCores
        case .union(let a, let b), .difference(let a, let b): return a.namesPlacedCores || b.namesPlacedCores
        case .all, .node, .list: return false
        }
    }

    // MARK: Parsing

    /// Parses an expression; the error says what is wrong and where.
    public static func parse(_ text: String) throws(CPUExpressionError) -> CPUExpression {
        var parser = Parser(text: text)
        let expression = try parser.expression()
        guard parser.atEnd else { throw parser.failure("unexpected '\(parser.rest)'") }
        return expression
    }

    private struct Parser {
        let text: String
        var scalars: [Character]
        var position = 0

        init(text: String) {
            self.text = text
            scalars = Array(text)
        }

        var atEnd: Bool { skipSpaceCopy() >= scalars.count }
        var rest: String { String(scalars[min(skipSpaceCopy(), scalars.count)...]) }

        func skipSpaceCopy() -> Int {
            var index = position
            while index < scalars.count, scalars[index] == " " { index += 1 }
            return index
        }

        mutating func skipSpace() { position = skipSpaceCopy() }

        func failure(_ message: String) -> CPUExpressionError {
            CPUExpressionError(text: text, message: message)
        }

        mutating func expression() throws(CPUExpressionError) -> CPUExpression {
            var result = try term()
            while true {
                skipSpace()
                guard position < scalars.count, scalars[position] == "+" || scalars[position] == "-" else { return result }
                let op = scalars[position]
                position += 1
                guard position < scalars.count, scalars[position] == " " else {
                    throw failure("put spaces around '\(op)': stage names such as rx-tun contain hyphens")
                }
                let right = try term()
                result = op == "+" ? .union(result, right) : .difference(result, right)
            }
        }

        mutating func term() throws(CPUExpressionError) -> CPUExpression {
            skipSpace()
            guard position < scalars.count else { throw failure("a CPU set is missing at the end") }
            let c = scalars[position]
            if c == "(" {
                position += 1
                let inner = try expression()
                try expect(")")
                return inner
            }
            if c.isNumber {
                var end = position
                while end < scalars.count, scalars[end].isNumber || scalars[end] == "," || scalars[end] == "-" && end + 1 < scalars.count && scalars[end + 1].isNumber {
                    end += 1
                }
                let literal = String(scalars[position..<end])
                guard let cpus = CPUList.parse(literal), !cpus.isEmpty, cpus.allSatisfy({ $0 < 4096 }) else {
                    throw failure("'\(literal)' is not a CPU list such as 0-3,8")
                }
                position = end
                return .list(cpus)
            }
            var end = position
            while end < scalars.count, scalars[end].isLetter || scalars[end] == "-" && end + 1 < scalars.count && scalars[end + 1].isLetter {
                end += 1
            }
            let word = String(scalars[position..<end])
            position = end
            switch word {
            case "all": return .all
            case "node":
                try expect("(")
                skipSpace()
                var argEnd = position
                while argEnd < scalars.count, scalars[argEnd].isLetter || scalars[argEnd].isNumber { argEnd += 1 }
                let argument = String(scalars[position..<argEnd])
                position = argEnd
                let reference: NodeReference
                switch argument {
                case "tunnel": reference = .tunnel
                case "nic": reference = .nic
                case "other": reference = .other
                default:
                    guard let id = Int(argument), id >= 0, id < 1024 else {
                        throw failure("node(...) takes a node number, tunnel, nic or other, not '\(argument)'")
                    }
                    reference = .id(id)
                }
                try expect(")")
                return .node(reference)
            case "first":
                try expect("(")
                let inner = try expression()
                try expect(")")
                return .first(inner)
            default:
                if let stage = StageReference(rawValue: word) { return .stage(stage) }
                throw failure(word.isEmpty ? "unexpected '\(c)'"
                              : "'\(word)' is not a CPU set: use all, node(N|tunnel|nic|other), first(...), tunnel, rx-plain, rx-tun, tx-tun, rx, tx or a CPU list"
                                + (word.contains("-") && StageReference.allCases.contains { word.hasSuffix("-" + $0.rawValue) || word.hasPrefix($0.rawValue + "-") } || word.hasPrefix("all-")
                                   ? " (put spaces around + and -)" : ""))
            }
        }

        mutating func expect(_ character: Character) throws(CPUExpressionError) {
            skipSpace()
            guard position < scalars.count, scalars[position] == character else { throw failure("expected '\(character)'") }
            position += 1
        }
    }

    // MARK: Evaluation

    /// The CPUs this expression means on one gateway for one tunnel. Stage references that have no
    /// cores yet resolve to the empty set; an empty final result is the caller's to refuse.
    public func evaluate(_ context: CPUContext) -> Set<Int> {
        switch self {
        case .all: return Set(context.topology.onlineCPUs)
        case .node(.id(let id)): return Set(context.topology.cpus(ofNode: id))
        case .node(.nic): return Set(context.topology.cpus(ofNode: context.topology.node(ofNIC: context.dataNIC)))
        case .node(.tunnel): return Set(context.homeNodeCPUs)
        case .node(.other): return Set(context.topology.onlineCPUs).subtracting(context.homeNodeCPUs)
        case .first(let inner): return inner.evaluate(context).min().map { [$0] } ?? []
        case .stage(let stage): return context.stageCPUs(stage)
        case .list(let cpus): return Set(cpus).intersection(context.topology.onlineCPUs)
        case .union(let a, let b): return a.evaluate(context).union(b.evaluate(context))
        case .difference(let a, let b): return a.evaluate(context).subtracting(b.evaluate(context))
        }
    }
}

/// A CPU expression that does not parse.
public struct CPUExpressionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var text: String
    public var message: String
    public var description: String { "'\(text)' is not a CPU set expression: \(message)" }
}

/// What an expression is evaluated against: one gateway's topology, one tunnel, and the cores the
/// placement has given so far on that gateway.
public struct CPUContext: Sendable {
    public var topology: HostTopology
    /// 1-based tunnel; nil where no tunnel is meant (the plain target).
    public var tunnel: Int?
    public var assignments: [CoreAssignment]
    /// The stage that receives the data direction here (gw1: rx-plain, gw2: rx-tun): a tunnel's
    /// first core of that stage (or its inline core) is its home core.
    public var homeStage: CoreAssignment.Stage
    /// The NIC that receives the data direction here (gw1: ingress, gw2: underlay).
    public var dataNIC: String

    public init(topology: HostTopology, tunnel: Int?, assignments: [CoreAssignment], homeStage: CoreAssignment.Stage, dataNIC: String) {
        self.dataNIC = dataNIC
        self.topology = topology
        self.tunnel = tunnel
        self.assignments = assignments
        self.homeStage = homeStage
    }

    /// The core where the tunnel's data is received on this gateway (its first one), if placed yet.
    public var homeCore: Int? {
        guard let tunnel else { return nil }
        return assignments.first { $0.tunnel == tunnel && ($0.stage == homeStage || $0.stage == .inline) }?.cpu
    }

    /// The CPUs of the home core's node; every CPU when the home core is not placed.
    var homeNodeCPUs: [Int] {
        guard let core = homeCore else { return topology.onlineCPUs }
        return topology.cpus(ofNode: topology.node(ofCPU: core))
    }

    func stageCPUs(_ stage: CPUExpression.StageReference) -> Set<Int> {
        let mine = { (wanted: CoreAssignment.Stage) in
            Set(assignments.filter { $0.stage == wanted && $0.tunnel == tunnel && tunnel != nil }.map(\.cpu))
        }
        switch stage {
        case .tunnel: return homeCore.map { [$0] } ?? []
        case .rxPlain: return mine(.rxPlain)
        case .rxTunnel: return mine(.rxTunnel)
        case .txTunnel: return mine(.txTunnel)
        case .rx: return Set(assignments.filter { $0.stage == .rxPlain || $0.stage == .rxTunnel || $0.stage == .inline }.map(\.cpu))
        case .tx: return Set(assignments.filter { $0.stage == .txTunnel }.map(\.cpu))
        }
    }
}
