/// Where each stage of each tunnel runs, written symbolically (see `CPUExpression`) and resolved per
/// point from the gateways' topology by `PlacementResolver`.
///
/// The stages, per gateway, placed in this order:
/// 1. the data direction's reception (the tunnel's home): gw1's flows (`rx_plain`), gw2's tunnels (`rx_tun`);
/// 2. with `reverse`, the ACK direction's reception: gw1's tunnels (`rx_tun`), gw2's flows (`rx_plain`);
/// 3. the tunnels' TX workers (`tx_tun`).
/// Each item (flow or tunnel) takes the least-used CPU of its pool, so items spread one per core
/// until the pool runs out; ties go to the lowest CPU, or with `interleave` to the NUMA nodes in
/// turn (node 0's first CPU, node 1's first, node 0's second, ...). A pool may refer only to
/// stages placed before it.
public struct PlacementSpec: Sendable, Codable, Equatable {
    /// ntuple rules that put each placed reception on the queue of its CPU, with that queue's IRQ there.
    public var steering: StepRequirement
    public var rxPlain: PerGateway<CPUExpression?>
    public var rxTunnel: PerGateway<CPUExpression?>
    public var txTunnel: PerGateway<CPUExpression?>
    /// Steer the ACK direction too (gw1's underlay, gw2's egress).
    public var reverse: Bool
    /// Run to completion: every stage of a tunnel, both directions, on its home core (Inline, emulated inline).
    public var colocate: Bool
    /// Spread items over the NUMA nodes in turn rather than filling node 0 first.
    public var interleave: Bool

    public init(steering: StepRequirement = .auto, rxPlain: PerGateway<CPUExpression?> = .unset,
                rxTunnel: PerGateway<CPUExpression?> = .unset, txTunnel: PerGateway<CPUExpression?> = .unset,
                reverse: Bool = false, colocate: Bool = false, interleave: Bool = false) {
        self.steering = steering
        self.rxPlain = rxPlain
        self.rxTunnel = rxTunnel
        self.txTunnel = txTunnel
        self.reverse = reverse
        self.colocate = colocate
        self.interleave = interleave
    }

    private enum CodingKeys: String, CodingKey { case steering, rxPlain, rxTunnel, txTunnel, reverse, colocate, interleave }

    /// Reads run.json; a run recorded before symbolic placement (format 1) gets the defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(steering: try c.decodeIfPresent(StepRequirement.self, forKey: .steering) ?? .auto,
                  rxPlain: try c.decodeIfPresent(PerGateway<CPUExpression?>.self, forKey: .rxPlain) ?? .unset,
                  rxTunnel: try c.decodeIfPresent(PerGateway<CPUExpression?>.self, forKey: .rxTunnel) ?? .unset,
                  txTunnel: try c.decodeIfPresent(PerGateway<CPUExpression?>.self, forKey: .txTunnel) ?? .unset,
                  reverse: try c.decodeIfPresent(Bool.self, forKey: .reverse) ?? false,
                  colocate: try c.decodeIfPresent(Bool.self, forKey: .colocate) ?? false,
                  interleave: try c.decodeIfPresent(Bool.self, forKey: .interleave) ?? false)
    }

    /// The keys of a `placement:` section; a series' own section may set all but `steering`.
    public static let keys = ["steering", "rx_plain", "rx_tun", "tx_tun", "reverse", "colocate", "interleave"]

    /// Which pool places the data direction's reception on a gateway (and so is placed first).
    public static func homeStage(_ role: HostRole) -> CoreAssignment.Stage { role == .gw1 ? .rxPlain : .rxTunnel }

    public func pool(_ stage: CoreAssignment.Stage, on role: HostRole) -> CPUExpression? {
        switch stage {
        case .rxPlain: return rxPlain[role]
        case .rxTunnel: return rxTunnel[role]
        case .txTunnel: return txTunnel[role]
        case .inline: return Self.homeStage(role) == .rxPlain ? rxPlain[role] : rxTunnel[role]
        }
    }

    /// The pool a stage takes its cores from on a gateway: the spec's, or by default every CPU for
    /// the data direction's reception (and Inline) and every CPU no reception uses for the others.
    public func effectivePool(_ stage: CoreAssignment.Stage, on role: HostRole) -> CPUExpression {
        if let pool = pool(stage, on: role) { return pool }
        return stage == Self.homeStage(role) || stage == .inline ? .all : .difference(.all, .stage(.rx))
    }

    /// What a pool may refer to: nothing for the home stage, the receptions for the others.
    /// Returns what is wrong, or nil.
    public func problem() -> String? {
        for role in [HostRole.gw1, .gw2] {
            let home = Self.homeStage(role)
            let reverseStage: CoreAssignment.Stage = home == .rxPlain ? .rxTunnel : .rxPlain
            if let pool = pool(home, on: role), !pool.stages.isEmpty {
                return "\(Self.key(home)) on \(role) is placed first and cannot refer to \(pool.stages.map(\.rawValue).sorted().joined(separator: ", "))"
            }
            if let pool = pool(reverseStage, on: role), !pool.stages.isDisjoint(with: [.tx, .txTunnel]) {
                return "\(Self.key(reverseStage)) on \(role) is placed before the TX workers and cannot refer to tx or tx-tun"
            }
        }
        return nil
    }

    public static func key(_ stage: CoreAssignment.Stage) -> String {
        switch stage {
        case .rxPlain: return "rx_plain"
        case .rxTunnel: return "rx_tun"
        case .txTunnel: return "tx_tun"
        case .inline: return "inline"
        }
    }
}
