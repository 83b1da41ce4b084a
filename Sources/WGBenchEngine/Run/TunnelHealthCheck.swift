import Foundation
import WGBenchCore
import WGBenchRemote

/// Checks a point's tunnels on both gateways around its traffic (see `TunnelHealth`): before, every
/// side alive and handshaken (a ping through each tunnel that has not handshaken yet); after, every
/// side still alive. A failure names the gateway, the daemon and the last lines of its log.
/// Transport errors are thrown (the host, not the tunnel, is the problem).
struct TunnelHealthCheck {
    let hosts: [HostRole: RemoteHost]
    let runID: String

    /// Why the tunnels are not fit to carry traffic, or nil.
    func beforeTraffic(_ plan: TrafficPlan, target: TargetKind) throws -> String? {
        guard target.hasTunnels, !plan.tunnels.isEmpty else { return nil }
        var status = try self.status(plan, target: target)
        if let dead = try deadSide(plan, target: target, status: status, when: "before traffic") { return dead }
        let silent = plan.tunnels.filter { status[.gw1]?[$0.interface(.gw1)]?.handshake ?? 0 == 0 }
        guard !silent.isEmpty else { return nil }
        _ = try hosts[.gw1]!.perform(TunnelHealth.ping(silent.map { $0.inner(.gw2).address }))
        status = try self.status(plan, target: target)
        if let dead = try deadSide(plan, target: target, status: status, when: "before traffic") { return dead }
        for tunnel in silent {
            for role in [HostRole.gw1, .gw2] where status[role]?[tunnel.interface(role)]?.handshake ?? 0 == 0 {
                return "\(role): tunnel \(tunnel.index) (\(tunnel.interface(role))) has no handshake with its peer even after a ping "
                    + "through it" + (try logLines(role, tunnel.interface(role), target: target))
            }
        }
        return nil
    }

    /// Why the tunnels did not last the traffic, or nil.
    func afterTraffic(_ plan: TrafficPlan, target: TargetKind) throws -> String? {
        guard target.hasTunnels, !plan.tunnels.isEmpty else { return nil }
        return try deadSide(plan, target: target, status: try status(plan, target: target), when: "after traffic")
    }

    private func status(_ plan: TrafficPlan, target: TargetKind) throws -> [HostRole: [String: TunnelHealth.Side]] {
        let hosts = self.hosts
        let read = try onEachHostOrThrow([HostRole.gw1, .gw2]) { role in
            (role, try hosts[role]!.read(.tunnelHealth(target, interfaces: plan.tunnels.map { $0.interface(role) })))
        }
        return Dictionary(uniqueKeysWithValues: read)
    }

    private func deadSide(_ plan: TrafficPlan, target: TargetKind, status: [HostRole: [String: TunnelHealth.Side]], when: String) throws -> String? {
        for role in [HostRole.gw1, .gw2] {
            for tunnel in plan.tunnels {
                let interface = tunnel.interface(role)
                let side = status[role]?[interface] ?? TunnelHealth.Side(interface: interface, present: false, daemonRunning: nil, handshake: 0)
                guard !side.alive else { continue }
                let what: String
                if let daemon = TunnelHealth.daemon(target), side.daemonRunning == false {
                    what = "the \(daemon) daemon of \(interface) is not running \(when)" + (side.present ? "" : " (its interface is gone too)")
                } else {
                    what = "\(interface) is gone \(when)"
                }
                return "\(role): \(what)" + (try logLines(role, interface, target: target))
            }
        }
        return nil
    }

    /// `; the last lines of its log (<path>):` and the lines, indented; userspace targets only.
    private func logLines(_ role: HostRole, _ interface: String, target: TargetKind) throws -> String {
        guard TunnelHealth.daemon(target) != nil else { return "" }
        let path = HostFolders.daemonLog(runID: runID, interface: interface)
        let tail = try hosts[role]!.perform(TunnelHealth.logTail(path)).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !tail.isEmpty else { return "; its log (\(path)) is empty" }
        return "; the last lines of its log (\(path)):\n" + tail.split(separator: "\n").map { "    \($0)" }.joined(separator: "\n")
    }
}
