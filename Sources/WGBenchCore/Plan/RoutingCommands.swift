/// Flow addresses and per-flow routes. Every flow gets /32 routes of its own, so the testbed's
/// base routes are never relied on and each flow can take a different tunnel.
public enum RoutingCommands {
    /// Adds flow i's source address on source and its drain address on drain.
    public static func addAddress(_ flow: TrafficPlan.Flow, on role: HostRole, testbed: Testbed) -> HostOperation {
        let (address, link) = role == .source ? (flow.source, LinkRole.ingress) : (flow.drain, LinkRole.egress)
        return .replaceAddress("\(address)/32", device: testbed.host(role).interface(link).name.rawValue)
    }

    public static func deleteAddress(_ flow: TrafficPlan.Flow, on role: HostRole, testbed: Testbed) -> HostOperation {
        let (address, link) = role == .source ? (flow.source, LinkRole.ingress) : (flow.drain, LinkRole.egress)
        return .deleteAddress("\(address)/32", device: testbed.host(role).interface(link).name.rawValue)
    }

    /// The route for flow i on one host: toward the drain address on source and gw1, back toward
    /// the source address on gw2 and drain; through the flow's tunnel on the gateways when it has one.
    public static func route(_ flow: TrafficPlan.Flow, on role: HostRole, testbed: Testbed) -> HostOperation {
        let destination: IPv4Address
        switch role {
        case .source, .gw1: destination = flow.drain
        case .gw2, .drain: destination = flow.source
        }
        if let tunnel = flow.tunnel, role.isGateway {
            return .replaceRoute(destination: "\(destination)/32", .device(TrafficPlan.interfaceName(role, tunnel: tunnel, testbed: testbed)))
        }
        return .replaceRoute(destination: "\(destination)/32", .gateway(nextHop(for: role, testbed: testbed)))
    }

    public static func deleteRoute(_ flow: TrafficPlan.Flow, on role: HostRole) -> HostOperation {
        let destination = role == .source || role == .gw1 ? flow.drain : flow.source
        return .deleteRoute(destination: "\(destination)/32")
    }

    static func nextHop(for role: HostRole, testbed: Testbed) -> IPv4Address {
        switch role {
        case .source: return testbed.host(.gw1).interface(.ingress).address.address
        case .gw1: return testbed.host(.gw2).interface(.underlay).address.address
        case .gw2: return testbed.host(.gw1).interface(.underlay).address.address
        case .drain: return testbed.host(.gw2).interface(.egress).address.address
        }
    }
}
