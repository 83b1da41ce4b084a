/// The CPUs of one point's stages on gw1 and gw2, resolved from a `PlacementSpec` and the gateways'
/// topology. Pure: the engine applies it (steering, IRQ affinity, TX workers, masks), the plan
/// prints it, and every repetition records it for the findings.
public struct ResolvedPlacement: Sendable, Equatable {
    public var cores: [HostRole: [CoreAssignment]]
    public var topology: [HostRole: HostTopology]
    /// The NIC that receives the data direction on each gateway.
    public var dataNIC: [HostRole: String]
    /// Where a default pool ran out and a stage had to share a core it would rather not.
    public var notes: [String]

    /// The CPU a stage of a tunnel (or flow) got on a gateway.
    public func cpu(_ role: HostRole, _ stage: CoreAssignment.Stage, tunnel: Int? = nil, flow: Int? = nil) -> Int? {
        cores[role]?.first { $0.stage == stage && (tunnel == nil || $0.tunnel == tunnel) && (flow == nil || $0.flow == flow) }?.cpu
    }

    public func context(_ role: HostRole, tunnel: Int?) -> CPUContext {
        CPUContext(topology: topology[role]!, tunnel: tunnel, assignments: cores[role] ?? [],
                   homeStage: PlacementSpec.homeStage(role), dataNIC: dataNIC[role] ?? "")
    }

    /// An expression's CPUs on a gateway for a tunnel, sorted.
    public func cpus(_ expression: CPUExpression, on role: HostRole, tunnel: Int?) -> [Int] {
        expression.evaluate(context(role, tunnel: tunnel)).sorted()
    }

    /// One line per gateway and tunnel for plans and logs, with the CPU knobs in force resolved.
    public func describe(plan: TrafficPlan, knobs: KnobSettings = KnobSettings(), target: TargetKind = .plain) -> [String] {
        var lines: [String] = []
        for role in [HostRole.gw1, .gw2] {
            let mine = cores[role] ?? []
            let tunnels = plan.tunnels.isEmpty ? [nil] : plan.tunnels.map { Optional($0.index) }
            for tunnel in tunnels {
                var parts = CoreAssignment.Stage.allCases.compactMap { stage -> String? in
                    let cpus = mine.filter { $0.stage == stage && $0.tunnel == tunnel }.map(\.cpu)
                    return cpus.isEmpty ? nil : "\(stage.rawValue) \(CPUList.format(cpus))"
                }
                for knob in target.knobs where knob.kind == .cpus {
                    guard let expression = knobs.expression(knob, on: role, for: target) else { continue }
                    parts.append("\(knob.rawValue) \(CPUList.format(cpus(expression, on: role, tunnel: tunnel)))")
                }
                guard !parts.isEmpty else { continue }
                lines.append("\(role) " + (tunnel.map { "tunnel \($0)" } ?? "flows") + ": " + parts.joined(separator: ", "))
            }
        }
        return lines + notes
    }
}

public enum PlacementResolver {
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// `topology` must hold gw1 and gw2; `dataNIC` names each gateway's data-receiving NIC.
    public static func resolve(_ spec: PlacementSpec, plan: TrafficPlan, topology: [HostRole: HostTopology],
                               dataNIC: [HostRole: String]) throws(Failure) -> ResolvedPlacement {
        var placement = ResolvedPlacement(cores: [:], topology: topology, dataNIC: dataNIC, notes: [])
        for role in [HostRole.gw1, .gw2] {
            guard topology[role] != nil else { throw Failure(description: "no topology read from \(role)") }
            var allocator = Allocator(role: role, spec: spec, placement: placement)
            try allocator.place(plan: plan)
            placement.cores[role] = allocator.placement.cores[role]
            placement.notes += allocator.fellBack.map { "\($0.note) \($0.kind)\($0.items.count > 1 ? "s" : "") \(CPUList.format($0.items))" }
            let placed = placement.cores[role] ?? []
            placement.notes += allocator.overlapped.map { overlap in
                let most = Dictionary(grouping: placed.filter { $0.stage == overlap.stage }, by: \.cpu).values.map(\.count).max() ?? 0
                return "\(role): \(PlacementSpec.key(overlap.stage)) `\(overlap.pool)` had no free CPU for \(overlap.kind)"
                    + "\(overlap.items.count > 1 ? "s" : "") \(CPUList.format(overlap.items)): they overlap on cores of `\(overlap.wider)`, spread evenly"
                    + " (at most \(most) \(overlap.stage.rawValue) per core)"
            }
        }
        return placement
    }

    /// Places one gateway's stages in order.
    private struct Allocator {
        let role: HostRole
        let spec: PlacementSpec
        var placement: ResolvedPlacement

        /// Pools that came out empty and fell back, with the items (tunnels or flows) concerned.
        var fellBack: [(note: String, kind: String, items: [Int])] = []
        /// Items that found no free core in their pool and overlap on cores its stage exclusions
        /// would have avoided, per stage and pool.
        var overlapped: [(stage: CoreAssignment.Stage, pool: CPUExpression, wider: CPUExpression, kind: String, items: [Int])] = []

        var home: CoreAssignment.Stage { PlacementSpec.homeStage(role) }
        var reverseStage: CoreAssignment.Stage { home == .rxPlain ? .rxTunnel : .rxPlain }

        /// The items of a stage on this gateway: flows for rx-plain, tunnels for the others.
        func items(_ stage: CoreAssignment.Stage, plan: TrafficPlan) -> [(tunnel: Int?, flow: Int?)] {
            stage == .rxPlain ? plan.flows.map { ($0.tunnel, $0.index) } : plan.tunnels.map { ($0.index, nil) }
        }

        mutating func place(plan: TrafficPlan) throws(Failure) {
            placement.cores[role] = []
            let tunneled = !plan.tunnels.isEmpty
            if spec.colocate && tunneled {
                // Every stage of a tunnel on its home core, both directions.
                for tunnel in plan.tunnels {
                    let cpu = try take(.inline, tunnel: tunnel.index, flow: nil)
                    for stage in [CoreAssignment.Stage.rxTunnel, .txTunnel] { add(CoreAssignment(cpu: cpu, stage: stage, tunnel: tunnel.index)) }
                    for flow in tunnel.flows { add(CoreAssignment(cpu: cpu, stage: .rxPlain, tunnel: tunnel.index, flow: flow)) }
                }
                return
            }
            for item in items(home, plan: plan) { _ = try take(home, tunnel: item.tunnel, flow: item.flow) }
            guard tunneled else { return }
            if spec.reverse {
                for item in items(reverseStage, plan: plan) {
                    _ = try take(reverseStage, tunnel: item.tunnel, flow: item.flow)
                }
            }
            for tunnel in plan.tunnels { _ = try take(.txTunnel, tunnel: tunnel.index, flow: nil) }
        }

        mutating func add(_ assignment: CoreAssignment) { placement.cores[role, default: []].append(assignment) }

        /// The least-used CPU (by this stage) of the item's pool. A pool `A - B` that comes out empty
        /// falls back to `A`, with a note; a pool with nothing left is an error. Where B names placed
        /// stages (`all - rx`), B is avoided only while a core of the pool is free of this stage: then
        /// the item takes the least-used core of `A`, so overlaps spread evenly (at most
        /// ceil(items / |A|) per core) instead of piling up on the few cores B leaves. Ties go to a core
        /// of the pool, then to a core holding none of the item's own tunnel's stages, then by rank.
        mutating func take(_ stage: CoreAssignment.Stage, tunnel: Int?, flow: Int?) throws(Failure) -> Int {
            let expression = spec.effectivePool(stage, on: role)
            var used = expression
            var pool = placement.cpus(used, on: role, tunnel: tunnel)
            while pool.isEmpty, case .difference(let base, _) = used {
                used = base
                pool = placement.cpus(used, on: role, tunnel: tunnel)
            }
            guard !pool.isEmpty else {
                let item = flow.map { "flow \($0)" } ?? tunnel.map { "tunnel \($0)" } ?? "?"
                throw Failure(description: "\(role): \(PlacementSpec.key(stage)) `\(expression)` leaves no CPU for \(item) "
                              + "(\(placement.topology[role]!.summary))")
            }
            let kind = flow == nil ? "tunnel" : "flow"
            if used != expression {
                let note = "\(role): \(PlacementSpec.key(stage)) `\(expression)` had no CPU left, so `\(used)` was used for"
                if let index = fellBack.firstIndex(where: { $0.note == note }) {
                    fellBack[index].items.append(flow ?? tunnel ?? 0)
                } else {
                    fellBack.append((note, kind, [flow ?? tunnel ?? 0]))
                }
            }
            let wider = used.withoutStageExclusions
            let candidates = wider == used ? pool : placement.cpus(wider, on: role, tunnel: tunnel)
            let preferred = Set(pool)
            let counts = Dictionary(grouping: (placement.cores[role] ?? []).filter { $0.stage == stage }, by: \.cpu).mapValues(\.count)
            let own = Set((placement.cores[role] ?? []).filter { tunnel != nil && $0.tunnel == tunnel }.map(\.cpu))
            let topology = placement.topology[role]!
            // Ties: the lowest CPU, or with interleave the lowest position within its node, then the node.
            let interleave = spec.interleave
            let rank = { (cpu: Int) -> [Int] in
                let order = interleave ? [topology.cpus(ofNode: topology.node(ofCPU: cpu)).firstIndex(of: cpu) ?? cpu, topology.node(ofCPU: cpu), cpu] : [cpu]
                return [counts[cpu] ?? 0, preferred.contains(cpu) ? 0 : 1, own.contains(cpu) ? 1 : 0] + order
            }
            let cpu = candidates.min { rank($0).lexicographicallyPrecedes(rank($1)) }!
            if !preferred.contains(cpu) {
                if let index = overlapped.firstIndex(where: { $0.stage == stage && $0.pool == used }) {
                    overlapped[index].items.append(flow ?? tunnel ?? 0)
                } else {
                    overlapped.append((stage, used, wider, kind, [flow ?? tunnel ?? 0]))
                }
            }
            add(CoreAssignment(cpu: cpu, stage: stage, tunnel: tunnel, flow: flow))
            return cpu
        }
    }
}
