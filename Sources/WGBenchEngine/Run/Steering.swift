import Foundation
import WGBenchCore
import WGBenchRemote

/// Flow steering for a point: an ntuple rule per placed reception, to the queue of the CPU the
/// placement gave it, with that queue's IRQ on the CPU. The data direction: each flow on gw1's
/// ingress NIC, each tunnel on gw2's underlay NIC; with `reverse`, the ACKs too: each tunnel on
/// gw1's underlay NIC and each flow on gw2's egress NIC. What a NIC cannot do is recorded as
/// `unsupported` (or fails the point when the spec requires it). Rules are replaced at every point
/// and removed, and IRQ affinities restored, at teardown.
final class Steering: @unchecked Sendable {
    let testbed: Testbed
    let hosts: [HostRole: RemoteHost]
    let requirement: StepRequirement

    private var rules: [(HostRole, String, Int)] = []
    private var originalAffinity: [(HostRole, Int, String)] = []
    private var nicFacts: [String: (ntuple: NtupleSupport, queues: Int, busInfo: String?)] = [:]
    /// NICs whose ntuple filters wgbench switched on, to switch off again at teardown.
    private var ntupleSwitchedOn: [(HostRole, String)] = []

    init(testbed: Testbed, hosts: [HostRole: RemoteHost], requirement: StepRequirement) {
        self.testbed = testbed
        self.hosts = hosts
        self.requirement = requirement
    }

    func apply(plan: TrafficPlan, target: TargetKind, placement: ResolvedPlacement,
               reverse: Bool) throws -> (steps: [StepRecord], placed: [String: [CoreAssignment]]) {
        guard requirement != .off else { return ([], [:]) }
        try removeRules()
        var steps: [StepRecord] = []
        var placed: [String: [CoreAssignment]] = [:]
        let address = { (role: HostRole, link: LinkRole) in self.testbed.host(role).interface(link).address.address }
        let nic = { (role: HostRole, link: LinkRole) in self.testbed.host(role).interface(link).name.rawValue }

        let flowItems = { (role: HostRole, link: LinkRole) -> [Item] in
            plan.flows.compactMap { flow in
                placement.cpu(role, .rxPlain, flow: flow.index).map { cpu in
                    // gw1 receives the data (source -> drain), gw2 the ACKs (drain -> source).
                    let (from, to) = role == .gw1 ? (flow.source, flow.drain) : (flow.drain, flow.source)
                    return Item(label: "flow \(flow.index)" + (role == .gw2 ? " ACKs" : ""),
                                assignment: CoreAssignment(cpu: cpu, stage: .rxPlain, tunnel: flow.tunnel, flow: flow.index)) { queue in
                        HostOperation.insertFlowRule(FlowRule(nic: nic(role, link), type: .tcp4, source: from, destination: to, queue: queue))
                    }
                }
            }
        }
        let tunnelItems = { (role: HostRole) -> [Item] in
            let peer: HostRole = role == .gw1 ? .gw2 : .gw1
            return plan.tunnels.compactMap { tunnel in
                placement.cpu(role, .rxTunnel, tunnel: tunnel.index).map { cpu in
                    Item(label: "tunnel \(tunnel.index)" + (role == .gw1 ? " ACKs" : ""),
                         assignment: CoreAssignment(cpu: cpu, stage: .rxTunnel, tunnel: tunnel.index)) { queue in
                        HostOperation.insertFlowRule(FlowRule(nic: nic(role, .underlay), type: .udp4, source: address(peer, .underlay),
                                                              destination: address(role, .underlay), destinationPort: tunnel.port, queue: queue))
                    }
                }
            }
        }
        var work: [(HostRole, String, [Item])] = [(.gw1, nic(.gw1, .ingress), flowItems(.gw1, .ingress))]
        if target.hasTunnels {
            work.append((.gw2, nic(.gw2, .underlay), tunnelItems(.gw2)))
            if reverse {
                work.append((.gw1, nic(.gw1, .underlay), tunnelItems(.gw1)))
                work.append((.gw2, nic(.gw2, .egress), flowItems(.gw2, .egress)))
            }
        }
        // Every queue serves one CPU, or the point is not what it claims to be: check all before a rule goes in.
        for (role, nicName, items) in work where !items.isEmpty {
            let ntuple = try facts(role, nic: nicName).ntuple
            guard ntuple != .unsupported && ntuple != .unknown else { continue }  // nothing is steered there
            let queues = try self.queues(role, nic: nicName, placement: placement)
            if let conflict = SteeringCommands.queueConflict(items.map { ($0.label, $0.assignment.cpu) }, queues: queues, nic: nicName) {
                throw ProvisioningError.queueShared(host: role, detail: conflict)
            }
        }
        for (role, nicName, items) in work where !items.isEmpty {
            let result = try steer(role, nic: nicName, items: items, queues: try queues(role, nic: nicName, placement: placement))
            steps += result.steps
            placed[role.rawValue, default: []] += result.placed
        }
        for role in Set(work.map(\.0)).sorted(by: { $0.rawValue < $1.rawValue }) {
            if try hosts[role]!.read(.irqbalanceRunning) {
                steps.append(StepRecord(host: role, step: "irqbalance", status: .failed,
                                        detail: "irqbalance is running and may move the IRQs wgbench pinned; stop it for placement experiments"))
            }
        }
        return (steps, placed)
    }

    private struct Item {
        var label: String
        var assignment: CoreAssignment
        var rule: (Int) -> HostOperation
    }

    /// The NIC's rx queues as the run's topology read them, else as its sysfs lists them.
    private func queues(_ role: HostRole, nic: String, placement: ResolvedPlacement) throws -> Int {
        if let queues = placement.topology[role]?.nics[nic]?.rxQueues { return queues }
        return try facts(role, nic: nic).queues
    }

    private func steer(_ role: HostRole, nic: String, items: [Item], queues: Int) throws -> (steps: [StepRecord], placed: [CoreAssignment]) {
        let host = hosts[role]!
        let facts = try self.facts(role, nic: nic)
        guard facts.ntuple != .unsupported && facts.ntuple != .unknown else {
            let detail = "\(nic) has no ntuple flow steering (ntuple-filters \(facts.ntuple.rawValue))"
            if requirement == .required { throw ProvisioningError.steeringRequired(host: role, detail: detail) }
            return ([StepRecord(host: role, step: "steering \(nic)", status: .unsupported, detail: detail)], [])
        }
        var steps: [StepRecord] = []
        var placed: [CoreAssignment] = []
        if facts.ntuple == .disabled {
            _ = try host.check(.setNtuple(nic: nic, on: true))
            steps.append(StepRecord(host: role, step: "ntuple on \(nic)", status: .ok, detail: ""))
            nicFacts["\(role):\(nic)"]?.ntuple = .enabled
            ntupleSwitchedOn.append((role, nic))
        }
        let interrupts = try host.read(.interrupts)
        for item in items {
            let cpu = item.assignment.cpu
            let queue = SteeringCommands.queue(forCPU: cpu, queues: queues)
            let output = try host.check(item.rule(queue))
            guard let id = SteeringCommands.ruleID(output) else {
                throw ProvisioningError.noRuleID(host: role, item: item.label, output: output)
            }
            rules.append((role, nic, id))
            var detail = "rule \(id): queue \(queue)"
            if let irq = SteeringCommands.irq(forQueue: queue, nic: nic, busInfo: facts.busInfo, interrupts: interrupts) {
                if !originalAffinity.contains(where: { $0.0 == role && $0.1 == irq }) {
                    let old = try host.read(.irqAffinity(irq: irq))
                    originalAffinity.append((role, irq, old.trimmingCharacters(in: .whitespacesAndNewlines)))
                }
                _ = try host.check(.setIRQAffinity(irq: irq, cpus: String(cpu)))
                detail += ", IRQ \(irq) -> CPU \(cpu)"
                steps.append(StepRecord(host: role, step: "steer \(item.label)", status: .ok, detail: detail))
                placed.append(item.assignment)
            } else {
                steps.append(StepRecord(host: role, step: "steer \(item.label)", status: .unsupported,
                                        detail: detail + "; no IRQ found for the queue in /proc/interrupts, CPU \(cpu) not pinned"))
            }
        }
        return (steps, placed)
    }

    private func facts(_ role: HostRole, nic: String) throws -> (ntuple: NtupleSupport, queues: Int, busInfo: String?) {
        if let known = nicFacts["\(role):\(nic)"] { return known }
        let host = hosts[role]!
        let facts = (try host.read(.ntuple(nic: nic)), try host.read(.rxQueues(nic: nic)), try host.read(.driver(nic: nic))?.busInfo)
        nicFacts["\(role):\(nic)"] = facts
        return facts
    }

    private func removeRules(using hosts: [HostRole: RemoteHost]? = nil) throws {
        let hosts = hosts ?? self.hosts
        for (role, nic, id) in rules {
            guard let host = hosts[role] else { throw ProvisioningError.unreachable(host: role, detail: "its rule \(id) on \(nic) stays") }
            _ = try host.perform(.deleteFlowRule(nic: nic, id: id))
        }
        rules = []
    }

    /// Deletes every rule and restores every IRQ affinity on the hosts in `hosts` (a lost host is
    /// left out); returns what failed.
    func teardown(using hosts: [HostRole: RemoteHost]) -> [String] {
        var problems: [String] = []
        do { try removeRules(using: hosts) } catch { problems.append("removing steering rules: \(error)") }
        for (role, irq, cpus) in originalAffinity {
            do {
                guard let host = hosts[role] else { throw ProvisioningError.unreachable(host: role, detail: "") }
                _ = try host.check(.setIRQAffinity(irq: irq, cpus: cpus))
            } catch {
                problems.append("restoring IRQ \(irq) on \(role): \(error)")
            }
        }
        originalAffinity = []
        for (role, nic) in ntupleSwitchedOn {
            do {
                guard let host = hosts[role] else { throw ProvisioningError.unreachable(host: role, detail: "") }
                _ = try host.check(.setNtuple(nic: nic, on: false))
                nicFacts["\(role):\(nic)"]?.ntuple = .disabled
            } catch {
                problems.append("switching ntuple filters off again on \(role) \(nic): \(error)")
            }
        }
        ntupleSwitchedOn = []
        return problems
    }
}
