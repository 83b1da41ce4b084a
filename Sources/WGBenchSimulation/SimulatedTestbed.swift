import Foundation
import WGBenchCore
import WGBenchRemote

/// Four hosts that run nothing but answer like a real testbed: they keep the interfaces,
/// addresses, routes, listening servers and WireGuard sysfs files that commands add, change and
/// remove, and give plausible readings (topology, NIC features, queues, interrupts, iperf3
/// results, /proc/stat). The kernel module is modelled with its real defaults (the paper's
/// patched module: a new device has `inline_en` 1 and both masks on every CPU; a peer's TX worker
/// is unset and reads the CPU count, and every `wg setconf` makes the peer anew with the next
/// global id), so a plan shows exactly what a run changes. It interprets host operations, never
/// command text: a command that is not an operation fails, and a new operation does not compile
/// until `answer` models it. `wgbench plan` drives the real engine against it; unit tests drive it
/// to check the engine's logic, where teardown and residue checks mean something because the
/// state is real state.
public final class SimulatedTestbed: @unchecked Sendable {
    /// The WireGuard module on the gateways.
    public enum KernelModule: Sendable {
        /// Upstream: only the netdev's own `threaded`.
        case upstream
        /// The paper's patched module: `inline_en`, `encrypt_cpumask`, `decrypt_cpumask`, `peer_<id>/serial_work_cpu`.
        case patched
        /// An older build of the patch: one `cpumask` for both pools.
        case patchedSingleMask
    }

    let lock = NSLock()
    var links: [HostRole: Set<String>] = [:]
    /// Address (with its prefix) -> device.
    var addresses: [HostRole: [String: String]] = [:]
    /// destination -> device ("" for routes via a gateway)
    var routes: [HostRole: [String: String]] = [:]
    var listening: Set<String> = []
    /// Log files of the iperf3 servers waiting for their client, on drain.
    var serverLogs: [String] = []
    /// Files written by uploads and iperf3, per host.
    var files: [HostRole: [String: [UInt8]]] = [:]
    /// Kernel WireGuard interfaces' sysfs files, `<interface>/<file>` (peers: `<interface>/peer_<id>/serial_work_cpu`).
    var sysfs: [HostRole: [String: String]] = [:]
    /// Peer ids count per kernel, across all its devices.
    var lastPeerID: [HostRole: Int] = [:]
    var nextRule = 1
    public private(set) var hosts: [HostRole: SimulatedHost] = [:]
    /// Each host's lease line (`LeaseCommands`), and its clock for them.
    var leases: [HostRole: String] = [:]
    public var leaseClock = 1_800_000_000
    /// Run folders on each host (which the host marked as its own), and what is in them.
    var runFolders: [HostRole: Set<String>] = [:]
    /// Tunnel interfaces whose daemon was killed (their interfaces go with them, as a real TUN does).
    var killed: [HostRole: Set<String>] = [:]
    /// Tunnel sides that have completed a handshake.
    var handshaken: [HostRole: Set<String>] = [:]
    /// Userspace daemons by interface: the target each is (wireguard-swift's have a stats file, no drops here).
    var daemons: [HostRole: [String: TargetKind]] = [:]
    /// The CPUs each daemon's threads were pinned to.
    var pinned: [HostRole: [String: [Int]]] = [:]
    /// Hosts that no longer answer: every command to them fails as an unreachable host does.
    public var lost: Set<HostRole> = []
    /// Called with each operation before it is answered (tests inject faults there: a daemon that
    /// dies during traffic, a command that times out).
    public var before: (@Sendable (HostRole, HostOperation) throws -> Void)?

    /// CPUs per host.
    public var cpus = 2
    /// Rx queues per NIC (and their interrupts); nil: one per CPU.
    public var rxQueues: Int?
    var queueCount: Int { rxQueues ?? cpus }
    /// NUMA nodes per host, equal blocks of CPUs (node 0 first); every NIC on node 0.
    public var numaNodes = 1
    /// The NICs whose queue interrupts /proc/interrupts lists.
    public var nics = ["eth1", "eth2"]
    /// What `ethtool -k` says of ntuple-filters.
    public var ntuple = NtupleSupport.unsupported
    public var kernelModule = KernelModule.upstream
    /// What a new device's `threaded` reads (the host's default, which wgbench must not inherit).
    public var threadedDefault = false
    /// Fault injection: an operation for which this returns a text fails with it as its stderr.
    public var failing: (@Sendable (HostRole, HostOperation) -> String?)?
    /// Knob files (by name, e.g. `inline_en`) that accept writes but keep their value, like a module
    /// that ignores a setting; `taskset`: a pin that succeeds and moves no thread.
    public var ignoredWrites: Set<String> = []
    /// Whether the traffic of the running point must go through tunnels (set when tunnels exist).
    var tunnelsExpected: Bool { !(links[.gw1] ?? []).filter { $0.hasPrefix("wgb1-") }.isEmpty }
    /// What iperf3 writes to its logs and what the sampler prints, when set (tests use recorded output).
    public var iperfLog: ((_ client: Bool) -> String)?
    public var samplerOutput: String?
    /// What the quiet-machine check reads; by default a quiet host (no cpufreq, nothing busy).
    public var preflightOutput = "@governor\n@no_turbo\n@boost\n@idle\n@irqbalance\nstopped\n@stat\ncpu  100 0 100 800 0 0 0 0 0 0\ncpu  110 0 110 980 0 0 0 0 0 0\n@busiest\n"

    public init() {
        for role in HostRole.allCases { hosts[role] = SimulatedHost(role: role, testbed: self) }
    }

    public var remoteHosts: [HostRole: RemoteHost] { hosts.mapValues { $0 as RemoteHost } }

    /// What each host was asked, in order, as the commands a run would type.
    public func commands(_ role: HostRole) -> [String] { hosts[role]!.commands.map(\.description) }

    /// A WireGuard sysfs file's value now, e.g. `sysfsValue(.gw2, "wgb2-1/inline_en")`.
    public func sysfsValue(_ role: HostRole, _ file: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return sysfs[role]?[file]
    }

    func isLost(_ role: HostRole) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return lost.contains(role)
    }

    /// Kills the daemon of a tunnel interface: the interface, and the routes through it, go with it.
    public func killDaemon(_ role: HostRole, _ interface: String) {
        lock.lock()
        defer { lock.unlock() }
        killed[role, default: []].insert(interface)
        _ = deleteLink(role, interface)
    }

    /// The lease line on a host now, if any.
    public func lease(_ role: HostRole) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return leases[role]
    }

    /// Puts a lease on a host as another holder would.
    public func setLease(_ role: HostRole, _ line: String?) {
        lock.lock()
        defer { lock.unlock() }
        leases[role] = line
    }

    /// The run folders a host has now.
    public func folders(_ role: HostRole) -> Set<String> {
        lock.lock()
        defer { lock.unlock() }
        return runFolders[role] ?? []
    }
}

/// One simulated host: it records what it is asked (for transcripts and tests) and lets the
/// testbed answer. A plain command, one that is not an operation, is refused.
public final class SimulatedHost: RemoteHost, @unchecked Sendable {
    /// What a host was asked: an operation, or a command that is none.
    public enum Asked: Sendable {
        case operation(HostOperation)
        case command(Command)

        public var command: Command {
            switch self {
            case .operation(let operation): return ShellRenderer.command(operation)
            case .command(let command): return command
            }
        }
    }

    public let role: HostRole
    public var name: String { role.rawValue }
    public var address: String { "simulated-\(role)" }
    private unowned let testbed: SimulatedTestbed
    private let lock = NSLock()
    private var log: [Asked] = []

    init(role: HostRole, testbed: SimulatedTestbed) {
        self.role = role
        self.testbed = testbed
    }

    public func perform(_ operation: HostOperation) throws -> CommandResult {
        record(.operation(operation))
        if testbed.isLost(role) {
            throw RemoteError.unreachable(host: name, address: address, port: 22, reason: "connection refused")
        }
        try testbed.before?(role, operation)
        return testbed.answer(role, operation)
    }

    public func run(_ command: Command) throws -> CommandResult {
        record(.command(command))
        return CommandResult(status: 127, stdout: "", stderr: "simulation: `\(command)` is not a host operation; the simulated testbed models operations only")
    }

    private func record(_ entry: Asked) {
        lock.lock()
        log.append(entry)
        lock.unlock()
    }

    /// Everything asked so far, in order.
    public var asked: [Asked] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    /// Everything asked so far, as the commands it renders to.
    public var commands: [Command] { asked.map(\.command) }
}
