import Foundation
import WGBenchCore
import WGBenchRemote

/// Brings the testbed into the state a point needs (tunnels of the series' target, their
/// configuration and knobs, flow addresses and routes, steering) by changing only what differs
/// from the previous point, and takes everything down again at the end.
final class Provisioner: @unchecked Sendable {
    let testbed: Testbed
    let hosts: [HostRole: RemoteHost]

    /// What is installed now.
    private var series: String?
    private var target: TargetKind = .plain
    private var tunnels: Set<Int> = []
    private var tunnelConfig: [Int: String] = [:]
    private var appliedKnobs: [String: String] = [:]
    private var flows: [Int: TrafficPlan.Flow] = [:]
    /// Installed flows whose gateway routes went with a deleted tunnel interface.
    private var unrouted: Set<Int> = []
    private var keys: [Int: TunnelKeys] = [:]
    private let steering: Steering
    /// Held while the testbed is being changed, so an abort never races a half-made tunnel.
    private let lock = NSLock()
    private var aborted = false

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(testbed: Testbed, hosts: [HostRole: RemoteHost], steering: StepRequirement, placement: PlacementSpec) {
        self.testbed = testbed
        self.hosts = hosts
        self.steering = Steering(testbed: testbed, hosts: hosts, requirement: steering, placement: placement)
    }

    private func host(_ role: HostRole) -> RemoteHost { hosts[role]! }

    /// Makes the testbed match `plan` for `series`; returns the steps taken and the knobs read back.
    func prepare(series spec: SeriesSpec, knobs: [String: String], plan: TrafficPlan) throws -> (steps: [StepRecord], knobs: [String: String]) {
        lock.lock()
        defer { lock.unlock() }
        guard !aborted else { throw Failure(description: "the run was aborted") }
        if series != spec.name || target != spec.target || appliedKnobs != knobs {
            // Another target or other knobs: start from no tunnels (knobs such as threaded NAPI or
            // the engine flag of a daemon are set when a tunnel is made).
            try removeTunnels(tunnels.sorted())
            series = spec.name
            target = spec.target
            appliedKnobs = knobs
        }
        let wanted = Set(plan.tunnels.map(\.index))
        try removeTunnels(tunnels.subtracting(wanted).sorted())
        for tunnel in plan.tunnels where !tunnels.contains(tunnel.index) {
            try createTunnel(tunnel, knobs: knobs)
        }
        for tunnel in plan.tunnels { try configureTunnel(tunnel, plan: plan) }
        var steps = try applyKnobs(knobs, plan: plan)
        try installFlows(plan)
        steps += try steering.apply(plan: plan, target: target, knobs: knobs)
        return (steps, try readBackKnobs(plan))
    }

    // MARK: Tunnels

    private func createTunnel(_ tunnel: TrafficPlan.Tunnel, knobs: [String: String]) throws {
        if keys[tunnel.index] == nil { keys[tunnel.index] = TunnelKeys.generate() }
        let target = self.target
        try onEachHostOrThrow([HostRole.gw1, .gw2]) { role in
            for command in TunnelCommands.create(target, interface: tunnel.interface(role), tunnel: tunnel.index, knobs: knobs,
                                                 program: self.testbed.tools[target.rawValue]?.rawValue) {
                try self.checked(role, command, "creating \(tunnel.interface(role)) (\(target))")
            }
        }
        tunnels.insert(tunnel.index)
        tunnelConfig[tunnel.index] = nil
    }

    private func configureTunnel(_ tunnel: TrafficPlan.Tunnel, plan: TrafficPlan) throws {
        guard let keys = keys[tunnel.index] else { return }
        let gw1Underlay = testbed.host(.gw1).interface(.underlay).address.address
        let gw2Underlay = testbed.host(.gw2).interface(.underlay).address.address
        let configs: [(HostRole, String)] = [
            (.gw1, TunnelCommands.config(privateKey: keys.gw1Private, listenPort: tunnel.port, peerPublicKey: keys.gw2Public,
                                         allowedIPs: TunnelCommands.allowedIPs(for: .gw1, tunnel: tunnel, plan: plan),
                                         endpoint: "\(gw2Underlay):\(tunnel.port)")),
            (.gw2, TunnelCommands.config(privateKey: keys.gw2Private, listenPort: tunnel.port, peerPublicKey: keys.gw1Public,
                                         allowedIPs: TunnelCommands.allowedIPs(for: .gw2, tunnel: tunnel, plan: plan),
                                         endpoint: "\(gw1Underlay):\(tunnel.port)")),
        ]
        let fingerprint = configs.map(\.1).joined()
        guard tunnelConfig[tunnel.index] != fingerprint else { return }
        try onEachHostOrThrow(configs) { role, config in
            for command in TunnelCommands.configure(interface: tunnel.interface(role), config: config, inner: tunnel.inner(role)) {
                try self.checked(role, command, "configuring \(tunnel.interface(role))")
            }
        }
        tunnelConfig[tunnel.index] = fingerprint
    }

    private func removeTunnels(_ indices: [Int]) throws {
        guard !indices.isEmpty else { return }
        for role in [HostRole.gw1, .gw2] {
            for index in indices {
                _ = try host(role).run(TunnelCommands.delete(target, interface: TrafficPlan.interfaceName(role, tunnel: index)))
            }
        }
        tunnels.subtract(indices)
        for index in indices { tunnelConfig[index] = nil }
        // Deleting an interface deletes the routes through it: those flows must be routed again,
        // or their traffic silently takes the testbed's plain path.
        unrouted.formUnion(flows.values.filter { $0.tunnel.map(indices.contains) ?? false }.map(\.index))
    }

    // MARK: Knobs

    /// Daemon pinning for userspace targets; sysfs knobs for the kernel. A knob file this kernel's
    /// module lacks is a failure: the series asked for a configuration the host cannot give.
    private func applyKnobs(_ knobs: [String: String], plan: TrafficPlan) throws -> [StepRecord] {
        var steps: [StepRecord] = []
        switch target {
        case .plain:
            break
        case .wireguardGo, .wireguardSwift:
            for tunnel in plan.tunnels {
                var cpus: [Int]?
                if let list = knobs["tunnel_cpus"].flatMap(CPUList.parse), !list.isEmpty { cpus = [list[(tunnel.index - 1) % list.count]] }
                if let list = knobs["cpus"].flatMap(CPUList.parse) { cpus = list }
                guard let cpus else { continue }
                for role in [HostRole.gw1, .gw2] {
                    try checked(role, TunnelCommands.pin(daemon: target, interface: tunnel.interface(role), cpus: cpus),
                                "pinning the daemon of \(tunnel.interface(role))")
                    steps.append(StepRecord(host: role, step: "pin \(tunnel.interface(role))", status: .ok, detail: CPUList.format(cpus)))
                }
            }
        case .kernel:
            for tunnel in plan.tunnels {
                for role in [HostRole.gw1, .gw2] {
                    let interface = tunnel.interface(role)
                    let present = Set(try checked(role, TunnelCommands.listKnobs(interface: interface), "listing \(interface)'s sysfs")
                        .split(whereSeparator: \.isWhitespace).map(String.init))
                    var writes: [(String, String)] = knobs.sorted(by: { $0.key < $1.key }).compactMap { knob, value in
                        TunnelCommands.sysfsName(ofKnob: knob).map { (TunnelCommands.knobPath(interface: interface, $0), value) }
                    }
                    // Emulated inline: the tunnel's crypto and TX worker on its one CPU (steering does the rest).
                    if let list = knobs["emulated_inline_cpus"].flatMap(CPUList.parse), !list.isEmpty {
                        let mask = CPUList.hexMask([list[(tunnel.index - 1) % list.count]])
                        writes += ["encrypt_cpumask", "decrypt_cpumask"].map { (TunnelCommands.knobPath(interface: interface, $0), mask) }
                    }
                    let serial = knobs["serial_work_cpus"] ?? knobs["emulated_inline_cpus"]
                    if let list = serial.flatMap(CPUList.parse), !list.isEmpty {
                        let cpu = list[(tunnel.index - 1) % list.count]
                        let peers = present.filter { $0.hasPrefix("peer_") }
                        guard !peers.isEmpty else {
                            throw Failure(description: "\(role): \(interface) has no peer_*/serial_work_cpu: this module is not the patched one")
                        }
                        writes += peers.sorted().map { (TunnelCommands.knobPath(interface: interface, "\($0)/serial_work_cpu"), String(cpu)) }
                    }
                    for (path, value) in writes {
                        let file = path.split(separator: "/").dropFirst(4).first.map(String.init) ?? path
                        guard present.contains(file) || file.hasPrefix("peer_") else {
                            throw Failure(description: "\(role): \(path) does not exist: this kernel's WireGuard has no such knob")
                        }
                        try checked(role, TunnelCommands.writeKnob(path: path, value: value), "writing \(path)")
                        steps.append(StepRecord(host: role, step: "knob \(path)", status: .ok, detail: value))
                    }
                }
            }
        }
        return steps
    }

    /// Every knob file there is, read back, whether wgbench wrote it or not.
    private func readBackKnobs(_ plan: TrafficPlan) throws -> [String: String] {
        guard target == .kernel else { return [:] }
        var values: [String: String] = [:]
        for tunnel in plan.tunnels {
            for role in [HostRole.gw1, .gw2] {
                let interface = tunnel.interface(role)
                for knob in TunnelCommands.recordedKernelKnobs {
                    let result = try host(role).run(TunnelCommands.readKnob(path: TunnelCommands.knobPath(interface: interface, knob)))
                    values["\(role):\(interface):\(knob)"] = result.succeeded
                        ? result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : "absent"
                }
            }
        }
        return values
    }

    // MARK: Flows

    private func installFlows(_ plan: TrafficPlan) throws {
        let wanted = Dictionary(uniqueKeysWithValues: plan.flows.map { ($0.index, $0) })
        let stale = flows.filter { wanted[$0.key] == nil }.map(\.value).sorted { $0.index < $1.index }
        let changed = plan.flows.filter { flows[$0.index] != $0 || unrouted.contains($0.index) }
        guard !stale.isEmpty || !changed.isEmpty else { return }
        let testbed = self.testbed
        try onEachHostOrThrow(HostRole.allCases) { role in
            for flow in stale {
                _ = try self.host(role).run(RoutingCommands.deleteRoute(flow, on: role))
                if !role.isGateway { _ = try self.host(role).run(RoutingCommands.deleteAddress(flow, on: role, testbed: testbed)) }
            }
            for flow in changed {
                if !role.isGateway {
                    try self.checked(role, RoutingCommands.addAddress(flow, on: role, testbed: testbed), "adding flow \(flow.index)'s address")
                }
                try self.checked(role, RoutingCommands.route(flow, on: role, testbed: testbed), "routing flow \(flow.index)")
            }
        }
        flows = wanted
        unrouted = []
    }

    // MARK: Teardown

    /// Removes rules, tunnels, flow routes and addresses, by discovery on the hosts (so it also
    /// removes what a cut-short step made), using `using` or the run's own hosts.
    func teardown(using other: [HostRole: RemoteHost]? = nil) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        let hosts = other ?? self.hosts
        let problems = steering.teardown(using: hosts) + ResidueCheck.sweep(hosts: hosts, testbed: testbed)
        flows = [:]
        unrouted = []
        tunnels = []
        tunnelConfig = [:]
        series = nil
        return problems
    }

    var isAborted: Bool {
        lock.lock()
        defer { lock.unlock() }
        return aborted
    }

    /// Stops all further provisioning: waits for a step in progress, then refuses new ones.
    func abort() {
        lock.lock()
        aborted = true
        lock.unlock()
    }

    @discardableResult
    private func checked(_ role: HostRole, _ command: Command, _ what: String) throws -> String {
        let result = try host(role).run(command)
        guard result.succeeded else {
            throw Failure(description: "\(what) on \(role) failed: `\(command)` exited \(result.status)"
                          + (result.stderrTail.isEmpty ? "" : ": \(result.stderrTail)"))
        }
        return result.stdout
    }
}
