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
    /// Per tunnel, each side's configuration without its allowed IPs, and the allowed IPs.
    private var tunnelConfig: [Int: String] = [:]
    private var tunnelAllowedIPs: [Int: [HostRole: [String]]] = [:]
    private var appliedKnobs = KnobSettings()
    private var flows: [Int: TrafficPlan.Flow] = [:]
    /// Installed flows whose gateway routes went with a deleted tunnel interface.
    private var unrouted: Set<Int> = []
    private var keys: [Int: TunnelKeys] = [:]
    private let steering: Steering
    /// Held while the testbed is being changed, so an abort never races a half-made tunnel.
    private let lock = NSLock()
    private var aborted = false

    /// The run whose folder on the gateways holds the daemons' logs.
    let runID: String

    init(testbed: Testbed, hosts: [HostRole: RemoteHost], steering: StepRequirement, runID: String) {
        self.testbed = testbed
        self.hosts = hosts
        self.runID = runID
        self.steering = Steering(testbed: testbed, hosts: hosts, requirement: steering)
    }

    /// What `prepare` did: its steps, the knobs read back, and the cores it actually placed.
    struct Prepared {
        var steps: [StepRecord]
        var knobs: [String: String]
        var placed: [String: [CoreAssignment]]
    }

    private func host(_ role: HostRole) -> RemoteHost { hosts[role]! }

    /// Makes the testbed match `plan` for `series`, placed as `placement` says.
    func prepare(series spec: SeriesSpec, knobs: KnobSettings, plan: TrafficPlan, placement: ResolvedPlacement) throws -> Prepared {
        lock.lock()
        defer { lock.unlock() }
        guard !aborted else { throw ProvisioningError.aborted }
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
            try createTunnel(tunnel, knobs: knobs, placement: placement)
        }
        for tunnel in plan.tunnels { try configureTunnel(tunnel, plan: plan) }
        var applied = try applyKnobs(knobs, plan: plan, placement: placement)
        try installFlows(plan)
        let steered = try steering.apply(plan: plan, target: target, placement: placement, reverse: spec.placement.reverse || spec.placement.colocate)
        applied.steps += steered.steps
        var placed = steered.placed
        for (role, cores) in applied.placed { placed[role, default: []] += cores }
        return Prepared(steps: applied.steps, knobs: try readBackKnobs(plan, expected: applied.expected, present: applied.present), placed: placed)
    }

    // MARK: Tunnels

    private func createTunnel(_ tunnel: TrafficPlan.Tunnel, knobs: KnobSettings, placement: ResolvedPlacement) throws {
        if keys[tunnel.index] == nil { keys[tunnel.index] = TunnelKeys.generate() }
        let target = self.target
        try onEachHostOrThrow([HostRole.gw1, .gw2]) { role in
            for operation in TunnelCommands.create(target, interface: tunnel.interface(role), role: role, tunnel: tunnel.index, knobs: knobs,
                                                 placement: placement, program: self.testbed.tools[target.rawValue]?.rawValue,
                                                 log: HostFolders.daemonLog(runID: self.runID, interface: tunnel.interface(role))) {
                try self.checked(role, operation, "creating \(tunnel.interface(role)) (\(target))")
            }
        }
        tunnels.insert(tunnel.index)
        tunnelConfig[tunnel.index] = nil
        tunnelAllowedIPs[tunnel.index] = nil
    }

    /// `wg setconf` on a new tunnel or a changed one; where only the allowed IPs changed (flows
    /// added or removed), `wg set` replaces them and keeps the peer, whose id places its TX worker.
    private func configureTunnel(_ tunnel: TrafficPlan.Tunnel, plan: TrafficPlan) throws {
        guard let keys = keys[tunnel.index] else { return }
        let sides: [(role: HostRole, privateKey: String, peer: String, endpoint: String)] = [
            (.gw1, keys.gw1Private, keys.gw2Public, "\(testbed.host(.gw2).interface(.underlay).address.address):\(tunnel.port)"),
            (.gw2, keys.gw2Private, keys.gw1Public, "\(testbed.host(.gw1).interface(.underlay).address.address):\(tunnel.port)"),
        ]
        let allowed = Dictionary(uniqueKeysWithValues: sides.map { ($0.role, TunnelCommands.allowedIPs(for: $0.role, tunnel: tunnel, plan: plan)) })
        let base = sides.map { "\($0.role) \($0.privateKey) \($0.peer) \($0.endpoint) \(tunnel.port)" }.joined(separator: "\n")
        if tunnelConfig[tunnel.index] == base {
            guard tunnelAllowedIPs[tunnel.index] != allowed else { return }
            try onEachHostOrThrow(sides) { side in
                try self.checked(side.role, .setAllowedIPs(interface: tunnel.interface(side.role), peer: side.peer, allowedIPs: allowed[side.role]!),
                                 "replacing the allowed IPs of \(tunnel.interface(side.role))")
            }
            tunnelAllowedIPs[tunnel.index] = allowed
            return
        }
        try onEachHostOrThrow(sides) { side in
            let config = WireGuardConfig(privateKey: side.privateKey, listenPort: tunnel.port, peerPublicKey: side.peer,
                                         allowedIPs: allowed[side.role]!, endpoint: side.endpoint)
            for operation in TunnelCommands.configure(interface: tunnel.interface(side.role), config: config, inner: tunnel.inner(side.role)) {
                try self.checked(side.role, operation, "configuring \(tunnel.interface(side.role))")
            }
        }
        tunnelConfig[tunnel.index] = base
        tunnelAllowedIPs[tunnel.index] = allowed
    }

    private func removeTunnels(_ indices: [Int]) throws {
        guard !indices.isEmpty else { return }
        for role in [HostRole.gw1, .gw2] {
            for index in indices {
                let interface = TrafficPlan.interfaceName(role, tunnel: index, testbed: testbed)
                let command = TunnelCommands.delete(target, interface: interface)
                let result = try host(role).perform(command)
                // One already gone (its daemon took it along) is what the delete wanted; any other failure leaves it there.
                if !result.succeeded && !result.stderr.contains("Cannot find device") {
                    throw ProvisioningError.commandFailed(host: role, what: "deleting \(interface)", command: command.description,
                                                          status: result.status, stderr: result.stderrTail)
                }
            }
        }
        tunnels.subtract(indices)
        for index in indices {
            tunnelConfig[index] = nil
            tunnelAllowedIPs[index] = nil
        }
        // Deleting an interface deletes the routes through it: those flows must be routed again,
        // or their traffic silently takes the testbed's plain path.
        unrouted.formUnion(flows.values.filter { $0.tunnel.map(indices.contains) ?? false }.map(\.index))
    }

    // MARK: Knobs

    /// What applying the knobs did, and what each knob file must read back.
    private struct Applied {
        var steps: [StepRecord] = []
        var placed: [String: [CoreAssignment]] = [:]
        /// `role:interface:file` -> the value written.
        var expected: [String: String] = [:]
        /// `role:interface` -> the knob files its sysfs directory has.
        var present: [String: Set<String>] = [:]
    }

    /// Daemon pinning for userspace targets; for the kernel, every knob in force (the series' or
    /// its default) is written and later read back, so no state is inherited from the host.
    private func applyKnobs(_ knobs: KnobSettings, plan: TrafficPlan, placement: ResolvedPlacement) throws -> Applied {
        var applied = Applied()
        switch target {
        case .plain:
            break
        case .wireguardGo, .wireguardSwift:
            for tunnel in plan.tunnels {
                for role in [HostRole.gw1, .gw2] {
                    guard let expression = knobs.expression(.daemonCPUs, on: role, for: target) else { continue }
                    let cpus = placement.cpus(expression, on: role, tunnel: tunnel.index)
                    guard !cpus.isEmpty else {
                        throw ProvisioningError.emptyCPUSet(host: role, knob: Knob.daemonCPUs.rawValue, expression: "\(expression)",
                                                            tunnel: tunnel.index, topology: nil)
                    }
                    let interface = tunnel.interface(role)
                    try checked(role, .pinDaemon(target: target, interface: interface, cpus: cpus), "pinning the daemon of \(interface)")
                    // Read back: every thread of the daemon on exactly those CPUs.
                    let threads = try host(role).read(.daemonAffinity(target, interface: interface))
                    if let stray = threads.first(where: { Set($0) != Set(cpus) }) {
                        throw ProvisioningError.readBack(host: role, path: "the threads of the daemon of \(interface) (taskset -p)",
                                                         read: CPUList.format(stray), written: CPUList.format(cpus))
                    }
                    applied.steps.append(StepRecord(host: role, step: "pin \(interface)", status: .ok,
                                                    detail: "\(CPUList.format(cpus)), read back from \(threads.count) thread\(threads.count == 1 ? "" : "s")"))
                }
            }
        case .kernel:
            for tunnel in plan.tunnels {
                for role in [HostRole.gw1, .gw2] {
                    try applyKernelKnobs(knobs, tunnel: tunnel.index, interface: tunnel.interface(role), role: role,
                                         placement: placement, into: &applied)
                }
            }
        }
        return applied
    }

    private func applyKernelKnobs(_ knobs: KnobSettings, tunnel: Int, interface: String, role: HostRole,
                                  placement: ResolvedPlacement, into applied: inout Applied) throws {
        let present = try host(role).read(.knobFiles(interface: interface))
        applied.present["\(role):\(interface)"] = present
        var writes: [(file: String, value: String)] = []
        func note(_ step: String, _ status: StepRecord.Status, _ detail: String) {
            applied.steps.append(StepRecord(host: role, step: "\(step) \(interface)", status: status, detail: detail))
        }
        for (knob, file, missing) in Knob.kernelFlags {
            guard let on = knobs.value(knob, for: .kernel)?.flag else { continue }
            switch (present.contains(file), missing) {
            case (true, _):
                writes.append((file, on ? "1" : "0"))
            // (`where on` belongs to the second pattern only: a `.fails` knob's missing file always fails.)
            case (false, .fails(let reason)), (false, .failsWhenOn(let reason, _)) where on:
                throw ProvisioningError.knobMissing(host: role, path: ShellRenderer.knobPath(interface: interface, file), reason: reason)
            case (false, .failsWhenOn(_, let unsupported)):
                note(file, .unsupported, unsupported)
            }
        }
        // The crypto pools: two masks, or an older build's single one.
        let online = placement.topology[role]!.onlineCPUs
        var pools: [String: [Int]] = [:]
        for (knob, file) in Knob.kernelMasks {
            guard let expression = knobs.expression(knob, on: role, for: .kernel) else { continue }
            let cpus = placement.cpus(expression, on: role, tunnel: tunnel)
            guard !cpus.isEmpty else {
                throw ProvisioningError.emptyCPUSet(host: role, knob: knob.rawValue, expression: "\(expression)", tunnel: tunnel,
                                                    topology: placement.topology[role]?.summary)
            }
            pools[file] = cpus
        }
        if pools.keys.allSatisfy(present.contains) {
            writes += pools.sorted { $0.key < $1.key }.map { ($0.key, CPUList.hexMask($0.value)) }
        } else if present.contains(Self.singleMaskFile) {
            guard Set(pools.values.map(Set.init)).count <= 1, let cpus = pools.values.first else {
                throw ProvisioningError.singleCryptoMask(host: role, interface: interface)
            }
            writes.append((Self.singleMaskFile, CPUList.hexMask(cpus)))
        } else if pools.values.allSatisfy({ $0 == online }) {
            note("crypto masks", .unsupported, "no encrypt_cpumask/decrypt_cpumask: the upstream module, crypto workers on every CPU")
        } else {
            throw ProvisioningError.noCryptoMasks(host: role, interface: interface)
        }
        // The TX worker: the patched module pins it per peer; upstream puts it on (peer id mod online CPUs).
        let peers = present.filter { $0.hasPrefix("peer_") }.sorted()
        if let cpu = placement.cpu(role, .txTunnel, tunnel: tunnel), !peers.isEmpty {
            writes += peers.map { ("\($0)/\(Self.serialWorkFile)", String(cpu)) }
            applied.placed[role.rawValue, default: []].append(CoreAssignment(cpu: cpu, stage: .txTunnel, tunnel: tunnel))
        } else if !placement.cores.isEmpty {
            note("tx worker", .unsupported, "no peer_*/serial_work_cpu (upstream module): the TX worker runs on the peer's internal id "
                 + "mod the online CPUs, an id the module does not expose; peers are kept across points so it does not move")
        }
        for (file, value) in writes {
            try checked(role, .writeKnob(interface: interface, file: file, value: value), "writing \(ShellRenderer.knobPath(interface: interface, file))")
            applied.expected["\(role):\(interface):\(file)"] = value
            note("knob", .ok, "\(file) = \(value)")
        }
    }

    /// Every knob file there is, read back, whether wgbench wrote it or not (one the module does not
    /// have is recorded as absent, from the directory listing); a file that does not read back what
    /// was written fails the repetition.
    private func readBackKnobs(_ plan: TrafficPlan, expected: [String: String], present: [String: Set<String>]) throws -> [String: String] {
        guard target == .kernel else { return [:] }
        var values: [String: String] = [:]
        for tunnel in plan.tunnels {
            for role in [HostRole.gw1, .gw2] {
                let interface = tunnel.interface(role)
                let peerFiles = expected.keys.filter { $0.hasPrefix("\(role):\(interface):peer_") }
                    .map { String($0.dropFirst("\(role):\(interface):".count)) }
                for file in Self.recordedKernelFiles + peerFiles.sorted() {
                    let key = "\(role):\(interface):\(file)"
                    guard file.hasPrefix("peer_") || present["\(role):\(interface)"]?.contains(file) != false else {
                        values[key] = "absent"
                        continue
                    }
                    let value = try host(role).read(.knob(interface: interface, file: file)) ?? "absent"
                    values[key] = value
                    if let wanted = expected[key], !Self.sameKnobValue(value, wanted, file: file) {
                        throw ProvisioningError.readBack(host: role, path: ShellRenderer.knobPath(interface: interface, file), read: value,
                                                         written: wanted)
                    }
                }
            }
        }
        return values
    }

    /// An older build of the patch: one `cpumask` for both crypto pools.
    static let singleMaskFile = "cpumask"
    /// The patched module's per-peer TX worker CPU, under `peer_<id>/`.
    static let serialWorkFile = "serial_work_cpu"
    /// Every knob file wgbench reads back and records on a kernel tunnel, whether set or not: each
    /// kernel knob's file, and the older single mask.
    static var recordedKernelFiles: [String] { Knob.kernelFlags.map(\.file) + Knob.kernelMasks.map(\.file) + [singleMaskFile] }

    /// Masks compare as CPU sets (the kernel pads them: `ffff` reads back `0000ffff`).
    static func sameKnobValue(_ read: String, _ written: String, file: String) -> Bool {
        guard file.hasSuffix("cpumask") else { return read == written }
        return CPUList.parseHexMask(read).map(Set.init) == CPUList.parseHexMask(written).map(Set.init)
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
                _ = try self.host(role).perform(RoutingCommands.deleteRoute(flow, on: role))
                if !role.isGateway { _ = try self.host(role).perform(RoutingCommands.deleteAddress(flow, on: role, testbed: testbed)) }
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
        let problems = steering.teardown(using: hosts) + ResidueCheck.sweep(hosts: hosts, testbed: testbed).problems
        flows = [:]
        unrouted = []
        tunnels = []
        tunnelConfig = [:]
        tunnelAllowedIPs = [:]
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
    private func checked(_ role: HostRole, _ operation: HostOperation, _ what: String) throws -> String {
        let result = try host(role).perform(operation)
        guard result.succeeded else {
            throw ProvisioningError.commandFailed(host: role, what: what, command: operation.description, status: result.status,
                                                  stderr: result.stderrTail)
        }
        return result.stdout
    }
}
