/// How tunnels are made between gw1 and gw2.
public enum TargetKind: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// No tunnel: routing only, the ceiling of the testbed.
    case plain
    /// Kernel WireGuard (`ip link add ... type wireguard`), upstream or the paper's patched module.
    case kernel
    /// Userspace WireGuard in Go, one daemon per tunnel per gateway.
    case wireguardGo = "wireguard-go"
    /// Our own userspace WireGuard, one daemon per tunnel per gateway.
    case wireguardSwift = "wireguard-swift"

    public var description: String { rawValue }
    public var hasTunnels: Bool { self != .plain }
    /// Its tunnels are served by a daemon per tunnel per gateway.
    public var hasDaemon: Bool { self == .wireguardGo || self == .wireguardSwift }

    /// The knobs a series of this target may set or sweep.
    public var knobs: [Knob] { Knob.allCases.filter { $0.targets.contains(self) } }
}
