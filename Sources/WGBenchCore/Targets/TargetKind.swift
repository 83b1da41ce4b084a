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

    /// The knobs a series of this target may set or sweep.
    public var knobs: [KnobDefinition] {
        switch self {
        case .plain:
            return []
        case .kernel:
            return [
                KnobDefinition(name: "threaded", kind: .flag,
                               help: "threaded NAPI: /sys/class/net/<wg>/threaded (always read back and recorded)"),
                KnobDefinition(name: "inline_en", kind: .flag, help: "patched module: run-to-completion per tunnel"),
                KnobDefinition(name: "encrypt_cpumask", kind: .cpumask, help: "patched module: CPUs of the encryption workers"),
                KnobDefinition(name: "decrypt_cpumask", kind: .cpumask, help: "patched module: CPUs of the decryption workers"),
                KnobDefinition(name: "cpumask", kind: .cpumask, help: "older patched module: one mask for both crypto pools"),
                KnobDefinition(name: "serial_work_cpus", kind: .cpulist,
                               help: "patched module: tunnel t's TX worker (peer_*/serial_work_cpu) on cpus[t % n]"),
                KnobDefinition(name: "emulated_inline_cpus", kind: .cpulist,
                               help: "every stage of tunnel t on cpus[t % n]: steering, IRQ, crypto masks, TX worker"),
            ]
        case .wireguardGo:
            return [
                KnobDefinition(name: "cpus", kind: .cpulist, help: "pin every daemon to these CPUs (taskset)"),
                KnobDefinition(name: "tunnel_cpus", kind: .cpulist, help: "pin tunnel t's daemons to cpus[t % n]"),
            ]
        case .wireguardSwift:
            return [
                KnobDefinition(name: "engine", kind: .choice(["parallel", "inline"]),
                               help: "datapath engine: parallel crypto workers (the kernel's vanilla design) or run-to-completion"),
                KnobDefinition(name: "encrypt_cpus", kind: .cpulist, help: "parallel: one encryption worker pinned to each of these CPUs"),
                KnobDefinition(name: "decrypt_cpus", kind: .cpulist, help: "parallel: one decryption worker pinned to each of these CPUs"),
                KnobDefinition(name: "serial_work_cpus", kind: .cpulist,
                               help: "parallel: tunnel t's in-order send and deliver threads on cpus[t % n]"),
                KnobDefinition(name: "inline_cpus", kind: .cpulist, help: "inline: tunnel t's one thread on cpus[t % n]"),
                KnobDefinition(name: "offload", kind: .flag, help: "TUN TSO and UDP GSO/GRO (default 1; 0: one packet per system call)"),
                KnobDefinition(name: "cpus", kind: .cpulist, help: "pin every daemon to these CPUs (taskset)"),
                KnobDefinition(name: "tunnel_cpus", kind: .cpulist, help: "pin tunnel t's daemons to cpus[t % n]"),
            ]
        }
    }

    public func knob(_ name: String) -> KnobDefinition? { knobs.first { $0.name == name } }
}

/// A setting of a target, with the type its values must have.
public struct KnobDefinition: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// 0 or 1.
        case flag
        /// A hex CPU mask as sysfs takes it: `ffff`, `ffffffff,00000000`.
        case cpumask
        /// A CPU list: `0-3,8`.
        case cpulist
        case choice([String])
    }

    public var name: String
    public var kind: Kind
    public var help: String

    /// Checks one value; returns what is wrong with it, or nil.
    public func problem(with value: String) -> String? {
        switch kind {
        case .flag:
            return value == "0" || value == "1" ? nil : "\(name) takes 0 or 1"
        case .cpumask:
            let ok = !value.isEmpty && value.utf8.count <= 256 && value.split(separator: ",", omittingEmptySubsequences: false)
                .allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isHexDigit) }
            return ok ? nil : "\(name) takes a hex CPU mask such as ffff or ffffffff,00000000"
        case .cpulist:
            guard let cpus = CPUList.parse(value), !cpus.isEmpty, value.utf8.count <= 256 else {
                return "\(name) takes a CPU list such as 0-3,8"
            }
            return cpus.allSatisfy({ $0 < 4096 }) ? nil : "\(name): CPU numbers must be below 4096"
        case .choice(let options):
            return options.contains(value) ? nil : "\(name) takes one of \(options.joined(separator: ", "))"
        }
    }
}
