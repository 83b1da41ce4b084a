/// Is each tunnel of a point alive? Asked on both gateways before traffic starts and after it ends:
/// the interface exists, its daemon (userspace targets) runs, and its peer has completed a
/// handshake. A daemon that died is named with its host, its program and the last lines of its
/// log at once, instead of surfacing later as an iperf3 timeout blamed on source.
public enum TunnelHealth {
    /// One tunnel side as the gateway reports it.
    public struct Side: Equatable, Sendable {
        public var interface: String
        public var present: Bool
        /// Userspace targets: whether a daemon serving the interface runs; nil for the kernel.
        public var daemonRunning: Bool?
        /// The latest handshake's time (epoch seconds); 0 when there has been none.
        public var handshake: Int

        public init(interface: String, present: Bool, daemonRunning: Bool?, handshake: Int) {
            self.interface = interface
            self.present = present
            self.daemonRunning = daemonRunning
            self.handshake = handshake
        }

        public var alive: Bool { present && daemonRunning != false }
    }

    /// The daemon program of a target, as its process's command line names it; nil for the kernel.
    public static func daemon(_ target: TargetKind) -> String? {
        switch target {
        case .wireguardGo: return "wireguard-go"
        case .wireguardSwift: return "wireguard-swift"
        case .kernel, .plain: return nil
        }
    }

    public static func parse(_ stdout: String) -> [String: Side] {
        var sides: [String: Side] = [:]
        for line in stdout.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count == 4 else { continue }
            let daemon: Bool? = words[2] == "-" ? nil : words[2] == "running"
            sides[String(words[0])] = Side(interface: String(words[0]), present: words[1] == "up", daemonRunning: daemon,
                                           handshake: Int(words[3]) ?? 0)
        }
        return sides
    }

    /// One ping to each address (a tunnel peer's inner address) at once: a tunnel that has not
    /// handshaken yet does so on its first packet.
    public static func ping(_ addresses: [IPv4Address]) -> HostOperation { .handshake(peers: addresses) }

    /// The last lines of a daemon's log (empty when it wrote none).
    public static func logTail(_ path: String, lines: Int = 8) -> HostOperation { .read(.logTail(path: path, lines: lines)) }
}
