/// Addresses, ports and names of one point's flows and tunnels on a testbed.
///
/// Flow i (0-based) runs from its own source address S_i (on source's ingress interface) to its
/// own drain address D_i (on drain's egress interface), both taken from the link networks at
/// offset 100 + i, on iperf3 port base_port + i, through tunnel i % tunnels. Tunnel t (1-based)
/// is `wgb1-t` on gw1 and `wgb2-t` on gw2 (unique across hosts: userspace WireGuard sockets in
/// /var/run/wireguard are not per namespace; `<prefix>1-t` on a local testbed of another prefix,
/// so that two local testbeds never share a socket), with inner addresses 198.19.0.0/16 in /30 blocks
/// and UDP port 51820 + t on both sides.
public struct TrafficPlan: Sendable, Equatable {
    public struct Flow: Sendable, Equatable {
        public var index: Int
        /// 1-based tunnel, or nil for the plain target.
        public var tunnel: Int?
        public var source: IPv4Address
        public var drain: IPv4Address
        public var port: Int
        public var clientCPU: Int?
        public var serverCPU: Int?
    }

    public struct Tunnel: Sendable, Equatable {
        public var index: Int
        public var gw1Interface: String
        public var gw2Interface: String
        public var gw1Inner: IPv4Interface
        public var gw2Inner: IPv4Interface
        public var port: Int
        /// The flows it carries.
        public var flows: [Int]

        public func interface(_ role: HostRole) -> String { role == .gw1 ? gw1Interface : gw2Interface }
        public func inner(_ role: HostRole) -> IPv4Interface { role == .gw1 ? gw1Inner : gw2Inner }
    }

    public var flows: [Flow]
    public var tunnels: [Tunnel]

    public static let flowAddressOffset = 100
    public static let innerNetwork = IPv4Network(specText: "198.19.0.0/16")!
    public static let basePort = 51820

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case tooManyFlows(flows: Int, network: String, room: Int)
        case tooManyTunnels(Int)

        public var description: String {
            switch self {
            case let .tooManyFlows(flows, network, room):
                return "\(flows) flows need \(flows) addresses from offset \(TrafficPlan.flowAddressOffset) of \(network), which has room for \(room)"
            case let .tooManyTunnels(count):
                return "\(count) tunnels do not fit the inner network \(TrafficPlan.innerNetwork) in /30 blocks"
            }
        }
    }

    /// The stem of the tunnel names on real machines and on the default local testbed.
    public static let defaultStem = "wgb"

    /// The stem of a testbed's tunnel names: the default, or a local testbed's own prefix where it
    /// is another. All local testbeds share this machine's /var/run/wireguard, where a userspace
    /// daemon's socket is named after its interface: with one stem for all, a second testbed's
    /// daemon took over the first's socket. (A prefix is at most 6 characters: `<prefix>1-1024`
    /// fits an interface name's 15.)
    public static func stem(_ testbed: Testbed) -> String {
        guard let prefix = testbed.local?.prefix.rawValue, prefix != LocalTestbedPlan.defaultPrefix else { return defaultStem }
        return prefix
    }

    /// Every tunnel interface wgbench makes on a gateway of `testbed` starts with this, so teardown can find them all.
    public static func interfacePrefix(_ role: HostRole, testbed: Testbed) -> String { stem(testbed) + (role == .gw1 ? "1-" : "2-") }

    public static func interfaceName(_ role: HostRole, tunnel: Int, testbed: Testbed) -> String {
        "\(interfacePrefix(role, testbed: testbed))\(tunnel)"
    }

    public init(testbed: Testbed, traffic: TrafficSpec, tunnels tunnelCount: Int, flows flowCount: Int, target: TargetKind) throws {
        let ingress = testbed.host(.source).interface(.ingress).address.network
        let egress = testbed.host(.drain).interface(.egress).address.network
        for network in [ingress, egress] {
            let room = Int((~network.mask) & 0xFFFF_FFFF) - 1 - Self.flowAddressOffset
            guard flowCount <= room else { throw Failure.tooManyFlows(flows: flowCount, network: network.description, room: max(0, room)) }
        }
        guard tunnelCount * 4 < 65536 - 4 else { throw Failure.tooManyTunnels(tunnelCount) }

        let tunneled = target.hasTunnels
        flows = (0..<flowCount).map { i in
            Flow(index: i,
                 tunnel: tunneled ? i % tunnelCount + 1 : nil,
                 source: ingress.address.advanced(by: Self.flowAddressOffset + i),
                 drain: egress.address.advanced(by: Self.flowAddressOffset + i),
                 port: traffic.basePort + i,
                 clientCPU: traffic.clientCPUs.isEmpty ? nil : traffic.clientCPUs[i % traffic.clientCPUs.count],
                 serverCPU: traffic.serverCPUs.isEmpty ? nil : traffic.serverCPUs[i % traffic.serverCPUs.count])
        }
        let flows = self.flows
        tunnels = !tunneled ? [] : (1...tunnelCount).map { t in
            let block = Self.innerNetwork.address.advanced(by: 4 * (t - 1))
            return Tunnel(index: t,
                          gw1Interface: Self.interfaceName(.gw1, tunnel: t, testbed: testbed),
                          gw2Interface: Self.interfaceName(.gw2, tunnel: t, testbed: testbed),
                          gw1Inner: IPv4Interface(address: block.advanced(by: 1), prefixLength: 30),
                          gw2Inner: IPv4Interface(address: block.advanced(by: 2), prefixLength: 30),
                          port: Self.basePort + t,
                          flows: flows.filter { $0.tunnel == t }.map(\.index))
        }
    }
}
