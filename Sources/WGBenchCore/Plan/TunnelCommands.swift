/// How each target makes, configures and removes one side of a tunnel, as host operations.
///
/// Keys never appear on a command line: the configuration, private key included, reaches
/// `wg setconf` on its standard input.
public enum TunnelCommands {
    /// wireguard-go refuses to run on Linux without this, preferring the kernel module.
    public static let wireguardGoEnvironment = "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1"

    /// `program` is the daemon to run for userspace targets (a path from the testbed's tools, or the
    /// name), unless the series names one (`binary`); CPU knobs are resolved for `role` and `tunnel`
    /// (from 1) by `placement`. With `log`, a userspace daemon logs at the series' `log_level`
    /// (default error) to that file on the gateway, at most `daemonLogCapBytes` of it.
    public static func create(_ target: TargetKind, interface: String, role: HostRole, tunnel: Int, knobs: KnobSettings,
                              placement: ResolvedPlacement, program: String? = nil, log: String? = nil) -> [HostOperation] {
        let program = knobs.value(.binary, for: target)?.program ?? program
        let level = knobs.value(.logLevel, for: target)?.choice ?? "error"
        switch target {
        case .plain:
            return []
        case .kernel:
            return [.addWireGuardDevice(interface: interface)]
        case .wireguardGo:
            return [.startDaemon(DaemonLaunch(.wireguardGo, environment: [wireguardGoEnvironment], program: program ?? "wireguard-go",
                                              interface: interface, log: log, logLevel: level))]
        case .wireguardSwift:
            let arguments = knobs.sorted.flatMap { knob, value in
                knob.descriptor.daemonArguments(value, of: knob, knobs: knobs, role: role, tunnel: tunnel, placement: placement)
            }
            return [.startDaemon(DaemonLaunch(.wireguardSwift, program: program ?? "wireguard-swift", arguments: arguments,
                                              interface: interface, log: log, logLevel: level))]
        }
    }

    /// The most of a daemon's output its log keeps: /run is a tmpfs, in memory, and a daemon logging
    /// every invalid packet of a flood (wireguard-go at verbose has no rate limit) would fill it.
    public static let daemonLogCapBytes = 1 << 20

    /// Configuration, inner address and link up, for a tunnel side that exists.
    public static func configure(interface: String, config: WireGuardConfig, inner: IPv4Interface) -> [HostOperation] {
        [.setWireGuardConfig(interface: interface, config), .replaceAddress(inner.description, device: interface), .setLinkUp(interface: interface)]
    }

    /// Operations that succeed only where a gateway can run the target; nil for the plain target.
    /// The kernel probe makes a throw-away interface (loading the module if it is there) and removes it.
    public static func probe(_ target: TargetKind, on role: HostRole, program: String? = nil) -> [HostOperation]? {
        switch target {
        case .plain: return nil
        case .kernel:
            let name = "wgbprobe\(role == .gw1 ? 1 : 2)"
            return [.read(.toolVersion(.wg)), .addWireGuardDevice(interface: name), .deleteLink(interface: name, waitForDaemon: false)]
        case .wireguardGo: return [.read(.toolVersion(.wg)), .read(.programVersion(program ?? "wireguard-go"))]
        case .wireguardSwift: return [.read(.toolVersion(.wg)), .read(.programVersion(program ?? "wireguard-swift"))]
        }
    }

    /// Deleting the interface removes a kernel tunnel and makes a userspace daemon exit; for those,
    /// the operation waits until the daemon is gone.
    public static func delete(_ target: TargetKind = .kernel, interface: String) -> HostOperation {
        .deleteLink(interface: interface, waitForDaemon: target == .wireguardGo || target == .wireguardSwift)
    }

    /// Allowed IPs of the peer of `role`'s side: the peer's inner address and the flow addresses
    /// that arrive from (gw2 side: sources) or are sent to (gw1 side: drains) that peer.
    public static func allowedIPs(for role: HostRole, tunnel: TrafficPlan.Tunnel, plan: TrafficPlan) -> [String] {
        let peerInner = tunnel.inner(role == .gw1 ? .gw2 : .gw1).address
        let flows = tunnel.flows.map { plan.flows[$0] }
        return ["\(peerInner)/32"] + flows.map { "\(role == .gw1 ? $0.drain : $0.source)/32" }
    }
}
