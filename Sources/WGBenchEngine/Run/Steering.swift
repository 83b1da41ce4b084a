import Foundation
import WGBenchCore
import WGBenchRemote

/// Flow steering for a point: an ntuple rule per plain flow on gw1's ingress NIC and per tunnel
/// on gw2's underlay NIC, each to the queue of its CPU, with that queue's IRQ on the CPU. What a
/// NIC cannot do is recorded as `unsupported` (or fails the point when the spec requires it).
/// Rules are replaced at every point and removed, and IRQ affinities restored, at teardown.
final class Steering: @unchecked Sendable {
    let testbed: Testbed
    let hosts: [HostRole: RemoteHost]
    let requirement: StepRequirement
    let placement: PlacementSpec

    private var rules: [(HostRole, String, Int)] = []
    private var originalAffinity: [(HostRole, Int, String)] = []
    private var nicFacts: [String: (ntuple: NtupleSupport, queues: Int, busInfo: String?)] = [:]
    private var cpuCount: [HostRole: Int] = [:]
    /// NICs whose ntuple filters wgbench switched on, to switch off again at teardown.
    private var ntupleSwitchedOn: [(HostRole, String)] = []

    init(testbed: Testbed, hosts: [HostRole: RemoteHost], requirement: StepRequirement, placement: PlacementSpec) {
        self.testbed = testbed
        self.hosts = hosts
        self.requirement = requirement
        self.placement = placement
    }

    func apply(plan: TrafficPlan, target: TargetKind, knobs: [String: String]) throws -> [StepRecord] {
        guard requirement != .off else { return [] }
        try removeRules()
        let emulated = knobs["emulated_inline_cpus"].flatMap(CPUList.parse)
        var steps: [StepRecord] = []

        let gw1NIC = testbed.host(.gw1).interface(.ingress).name.rawValue
        steps += try steer(.gw1, nic: gw1NIC, items: plan.flows.map { flow in
            let cpu = emulated.map { $0[((flow.tunnel ?? 1) - 1) % $0.count] }
            return (label: "flow \(flow.index)", cpu: cpu, listIndex: flow.index, rule: { queue in
                SteeringCommands.tcpFlowRule(gw1NIC, source: flow.source, destination: flow.drain, queue: queue)
            })
        }, cpus: placement.flowRxCPUs)

        if target.hasTunnels {
            let gw2NIC = testbed.host(.gw2).interface(.underlay).name.rawValue
            let source = testbed.host(.gw1).interface(.underlay).address.address
            let destination = testbed.host(.gw2).interface(.underlay).address.address
            steps += try steer(.gw2, nic: gw2NIC, items: plan.tunnels.map { tunnel in
                let cpu = emulated.map { $0[(tunnel.index - 1) % $0.count] }
                return (label: "tunnel \(tunnel.index)", cpu: cpu, listIndex: tunnel.index - 1, rule: { queue in
                    SteeringCommands.udpTunnelRule(gw2NIC, source: source, destination: destination, port: tunnel.port, queue: queue)
                })
            }, cpus: placement.tunnelRxCPUs)
        }
        return steps
    }

    private typealias Item = (label: String, cpu: Int?, listIndex: Int, rule: (Int) -> Command)

    private func steer(_ role: HostRole, nic: String, items: [Item], cpus configured: [Int]) throws -> [StepRecord] {
        let host = hosts[role]!
        let facts = try self.facts(role, nic: nic)
        guard facts.ntuple != .unsupported && facts.ntuple != .unknown else {
            let detail = "\(nic) has no ntuple flow steering (ntuple-filters \(facts.ntuple.rawValue))"
            if requirement == .required { throw Provisioner.Failure(description: "steering is required, but on \(role) \(detail)") }
            return [StepRecord(host: role, step: "steering \(nic)", status: .unsupported, detail: detail)]
        }
        var steps: [StepRecord] = []
        if facts.ntuple == .disabled {
            _ = try host.check(SteeringCommands.enableNtuple(nic))
            steps.append(StepRecord(host: role, step: "ntuple on \(nic)", status: .ok, detail: ""))
            nicFacts["\(role):\(nic)"]?.ntuple = .enabled
            ntupleSwitchedOn.append((role, nic))
        }
        let cpus = configured.isEmpty ? Array(1..<max(2, try cpuTotal(role))) : configured
        let interrupts = try host.check(SteeringCommands.interrupts)
        for item in items {
            let cpu = item.cpu ?? cpus[item.listIndex % cpus.count]
            let queue = cpu % max(1, facts.queues)
            let output = try host.check(item.rule(queue))
            guard let id = SteeringCommands.ruleID(output) else {
                throw Provisioner.Failure(description: "\(role): ethtool did not report a rule ID for \(item.label): \(output)")
            }
            rules.append((role, nic, id))
            var detail = "rule \(id): queue \(queue)"
            if let irq = SteeringCommands.irq(forQueue: queue, nic: nic, busInfo: facts.busInfo, interrupts: interrupts) {
                if !originalAffinity.contains(where: { $0.0 == role && $0.1 == irq }) {
                    let old = try host.check(Command("cat", "/proc/irq/\(irq)/smp_affinity_list"))
                    originalAffinity.append((role, irq, old.trimmingCharacters(in: .whitespacesAndNewlines)))
                }
                _ = try host.check(SteeringCommands.setIRQAffinity(irq: irq, cpu: cpu))
                detail += ", IRQ \(irq) -> CPU \(cpu)"
                steps.append(StepRecord(host: role, step: "steer \(item.label)", status: .ok, detail: detail))
            } else {
                steps.append(StepRecord(host: role, step: "steer \(item.label)", status: .unsupported,
                                        detail: detail + "; no IRQ found for the queue in /proc/interrupts, CPU \(cpu) not pinned"))
            }
        }
        if try hosts[role]!.run(SteeringCommands.irqbalance).succeeded {
            steps.append(StepRecord(host: role, step: "irqbalance", status: .failed,
                                    detail: "irqbalance is running and may move the IRQs wgbench pinned; stop it for placement experiments"))
        }
        return steps
    }

    private func facts(_ role: HostRole, nic: String) throws -> (ntuple: NtupleSupport, queues: Int, busInfo: String?) {
        if let known = nicFacts["\(role):\(nic)"] { return known }
        let host = hosts[role]!
        let features = EthtoolParser.features(try host.run(SteeringCommands.features(nic)).stdout)
        let queues = EthtoolParser.queueCounts(try host.run(Command("ls", "/sys/class/net/\(nic)/queues")).stdout).rx
        let bus = EthtoolParser.driverInfo(try host.run(Command("ethtool", "-i", nic)).stdout)?.busInfo
        let facts = (EthtoolParser.ntuple(features), queues, bus)
        nicFacts["\(role):\(nic)"] = facts
        return facts
    }

    private func cpuTotal(_ role: HostRole) throws -> Int {
        if let known = cpuCount[role] { return known }
        let count = Int(try hosts[role]!.check(Command("nproc")).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 1
        cpuCount[role] = count
        return count
    }

    private func removeRules(using hosts: [HostRole: RemoteHost]? = nil) throws {
        let hosts = hosts ?? self.hosts
        for (role, nic, id) in rules { _ = try hosts[role]!.run(SteeringCommands.deleteRule(nic, id: id)) }
        rules = []
    }

    /// Deletes every rule and restores every IRQ affinity; returns what failed.
    func teardown(using hosts: [HostRole: RemoteHost]) -> [String] {
        var problems: [String] = []
        do { try removeRules(using: hosts) } catch { problems.append("removing steering rules: \(error)") }
        for (role, irq, cpus) in originalAffinity {
            do {
                _ = try hosts[role]!.check(Command(["tee", "/proc/irq/\(irq)/smp_affinity_list"], stdin: Array("\(cpus)\n".utf8)))
            } catch {
                problems.append("restoring IRQ \(irq) on \(role): \(error)")
            }
        }
        originalAffinity = []
        for (role, nic) in ntupleSwitchedOn {
            do {
                _ = try hosts[role]!.check(Command("ethtool", "-K", nic, "ntuple", "off"))
                nicFacts["\(role):\(nic)"]?.ntuple = .disabled
            } catch {
                problems.append("switching ntuple filters off again on \(role) \(nic): \(error)")
            }
        }
        ntupleSwitchedOn = []
        return problems
    }
}
