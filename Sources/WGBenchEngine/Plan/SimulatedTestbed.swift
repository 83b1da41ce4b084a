import Foundation
import WGBenchCore
import WGBenchRemote
import WGBenchSodium

/// Four hosts that run nothing but answer like a real testbed: they keep the interfaces,
/// addresses, routes, listening servers and WireGuard sysfs files that commands add, change and
/// remove, and give plausible readings (topology, NIC features, queues, interrupts, iperf3
/// results, /proc/stat). The kernel module is modelled with its real defaults (the paper's
/// patched module: a new device has `inline_en` 1 and both masks on every CPU; a peer's TX worker
/// is unset and reads the CPU count, and every `wg setconf` makes the peer anew with the next
/// global id), so a plan shows exactly what a run changes. A command it does not know fails.
/// `wgbench plan` drives the real engine against it; unit tests drive it to check the engine's
/// logic, where teardown and residue checks mean something because the state is real state.
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

    private let lock = NSLock()
    private var links: [HostRole: Set<String>] = [:]
    private var addresses: [HostRole: Set<String>] = [:]
    /// destination -> device ("" for routes via a gateway)
    private var routes: [HostRole: [String: String]] = [:]
    private var listening: Set<String> = []
    /// Files written by uploads, per host.
    private var files: [HostRole: [String: [UInt8]]] = [:]
    /// Kernel WireGuard interfaces' sysfs files, `<interface>/<file>` (peers: `<interface>/peer_<id>/serial_work_cpu`).
    private var sysfs: [HostRole: [String: String]] = [:]
    /// Peer ids count per kernel, across all its devices.
    private var lastPeerID: [HostRole: Int] = [:]
    private var nextRule = 1
    public private(set) var hosts: [HostRole: FakeHost] = [:]
    /// Each host's lease line (`LeaseCommands`), and its clock for them.
    private var leases: [HostRole: String] = [:]
    public var leaseClock = 1_800_000_000
    /// Run folders on each host (which the host marked as its own), and what is in them.
    private var runFolders: [HostRole: Set<String>] = [:]
    /// Tunnel interfaces whose daemon was killed (their interfaces go with them, as a real TUN does).
    private var killed: [HostRole: Set<String>] = [:]
    /// Tunnel sides that have completed a handshake.
    private var handshaken: [HostRole: Set<String>] = [:]
    /// Tunnel sides a wireguard-swift daemon serves: they have a stats file (no drops here).
    private var swiftDaemons: [HostRole: Set<String>] = [:]
    /// Hosts that no longer answer: every command to them fails as an unreachable host does.
    public var lost: Set<HostRole> = []
    /// Called with each command before it is answered (tests inject faults there: a daemon that
    /// dies during traffic, a command that times out).
    public var before: (@Sendable (HostRole, Command) throws -> Void)?

    /// CPUs per host.
    public var cpus = 2
    /// Rx queues per NIC (and their interrupts); nil: one per CPU.
    public var rxQueues: Int?
    private var queueCount: Int { rxQueues ?? cpus }
    /// NUMA nodes per host, equal blocks of CPUs (node 0 first); every NIC on node 0.
    public var numaNodes = 1
    /// The NICs whose queue interrupts /proc/interrupts lists.
    public var nics = ["eth1", "eth2"]
    /// What `ethtool -k` says of ntuple-filters.
    public var ntuple = NtupleSupport.unsupported
    public var kernelModule = KernelModule.upstream
    /// What a new device's `threaded` reads (the host's default, which wgbench must not inherit).
    public var threadedDefault = false
    /// Commands containing this text fail with this stderr.
    public var failing: [String: String] = [:]
    /// Knob files (by name, e.g. `inline_en`) that accept writes but keep their value, like a module
    /// that ignores a setting.
    public var ignoredWrites: Set<String> = []
    /// Whether the traffic of the running point must go through tunnels (set when tunnels exist).
    private var tunnelsExpected: Bool { !(links[.gw1] ?? []).filter { $0.hasPrefix("wgb1-") }.isEmpty }
    /// Answers `cat` of iperf3 logs and the sampler, when set (tests use recorded output).
    public var iperfLog: ((_ client: Bool) -> String)?
    public var samplerOutput: String?
    /// What the quiet-machine check reads; by default a quiet host (no cpufreq, nothing busy).
    public var preflightOutput = "@governor\n@no_turbo\n@boost\n@idle\n@irqbalance\nstopped\n@stat\ncpu  100 0 100 800 0 0 0 0 0 0\ncpu  110 0 110 980 0 0 0 0 0 0\n@busiest\n"

    public init() {
        for role in HostRole.allCases {
            hosts[role] = FakeHost(name: role.rawValue, address: "simulated-\(role)") { [unowned self] command in
                if self.isLost(role) {
                    throw RemoteError.unreachable(host: role.rawValue, address: "simulated-\(role)", port: 22, reason: "connection refused")
                }
                try self.before?(role, command)
                return self.answer(role, command)
            }
        }
    }

    public var remoteHosts: [HostRole: RemoteHost] { hosts.mapValues { $0 as RemoteHost } }

    public func commands(_ role: HostRole) -> [String] { hosts[role]!.commands.map(\.description) }

    /// A WireGuard sysfs file's value now, e.g. `sysfsValue(.gw2, "wgb2-1/inline_en")`.
    public func sysfsValue(_ role: HostRole, _ file: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return sysfs[role]?[file]
    }

    private func isLost(_ role: HostRole) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return lost.contains(role)
    }

    /// Kills the daemon of a tunnel interface: the interface, and the routes through it, go with it.
    public func killDaemon(_ role: HostRole, _ interface: String) {
        lock.lock()
        defer { lock.unlock() }
        killed[role, default: []].insert(interface)
        _ = answerIP(role, ["ip", "link", "del", interface])
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

    private func ok(_ out: String = "") -> CommandResult { CommandResult(status: 0, stdout: out, stderr: "") }
    private func fail(_ stderr: String, status: Int32 = 1) -> CommandResult { CommandResult(status: status, stdout: "", stderr: stderr) }

    private var topology: HostTopology { HostTopology.uniform(cpus: cpus, nodes: numaNodes, nics: nics, rxQueues: queueCount) }

    private func answer(_ role: HostRole, _ command: Command) -> CommandResult {
        lock.lock()
        defer { lock.unlock() }
        let argv = command.argv
        let text = command.description
        for (pattern, stderr) in failing where text.contains(pattern) {
            return fail(stderr)
        }
        if argv.count >= 4, argv[0] == "sh", argv[1] == "-c", let answer = answerScript(role, argv[3], Array(argv.dropFirst(4)), command) {
            return answer
        }
        switch argv[0] {
        // (Any build of either daemon, as the `binary` knob may name one: wireguard-go-<rev>, a path.)
        case "env" where argv.contains { $0.split(separator: "/").last?.hasPrefix("wireguard-go") == true },
             _ where argv[0].split(separator: "/").last?.hasPrefix("wireguard-swift") == true && argv.last?.hasPrefix("wgb") == true:
            links[role, default: []].insert(argv.last!)
            if !argv[0].hasPrefix("env") { swiftDaemons[role, default: []].insert(argv.last!) }
            return ok()
        case _ where (argv[0].hasSuffix("wireguard-swift") || argv[0].hasSuffix("wireguard-go")) && argv.count == 2 && argv[1] == "--version":
            return ok("\(argv[0]) v0.0.0 (simulated)\n")
        case "ip":
            return answerIP(role, argv)
        case "wg" where argv.count == 2 && argv[1] == "--version":
            return ok("wireguard-tools v1.0.20210914 (simulated)\n")
        case "wg" where argv.count == 4 && argv[1] == "setconf":
            guard links[role]?.contains(argv[2]) == true else { return fail("Unable to modify interface: No such device") }
            if sysfs[role]?["\(argv[2])/threaded"] != nil {
                // A kernel device: setconf replaces its peers, and a new peer gets the next id.
                sysfs[role] = sysfs[role]?.filter { !$0.key.hasPrefix("\(argv[2])/peer_") }
                let id = (lastPeerID[role] ?? 0) + 1
                lastPeerID[role] = id
                if kernelModule != .upstream { sysfs[role, default: [:]]["\(argv[2])/peer_\(id)/serial_work_cpu"] = String(cpus) }
            }
            return ok()
        case "wg" where argv.count == 7 && argv[1] == "set" && argv[3] == "peer" && argv[5] == "allowed-ips":
            return links[role]?.contains(argv[2]) == true ? ok() : fail("Unable to modify interface: No such device")
        case "tee" where argv.count == 2 && argv[1].hasPrefix("/sys/class/net/wgb"):
            let file = String(argv[1].dropFirst("/sys/class/net/".count))
            guard sysfs[role]?[file] != nil else { return fail("tee: \(argv[1]): No such file or directory") }
            let value = String(decoding: command.stdin ?? [], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if ignoredWrites.contains(String(file.split(separator: "/").last!)) { return ok(value + "\n") }
            // Masks read back padded to 32-bit groups, as the kernel prints them.
            sysfs[role]![file] = file.hasSuffix("cpumask") ? CPUList.parseHexMask(value).map(Self.kernelMask) ?? value : value
            return ok(value + "\n")
        case "tee" where argv.count == 2 && argv[1].hasPrefix("/proc/irq/") && argv[1].hasSuffix("/smp_affinity_list"):
            return ok(String(decoding: command.stdin ?? [], as: UTF8.self))
        case "cat" where argv.count == 2 && argv[1].hasPrefix("/sys/class/net/wgb"):
            let file = String(argv[1].dropFirst("/sys/class/net/".count))
            return sysfs[role]?[file].map { ok($0 + "\n") } ?? fail("cat: \(argv[1]): No such file or directory")
        case "ls" where argv.count == 2 && argv[1].hasPrefix("/sys/class/net/wgb"):
            let interface = String(argv[1].dropFirst("/sys/class/net/".count))
            guard links[role]?.contains(interface) == true else { return fail("ls: cannot access '\(argv[1])': No such file or directory") }
            let entries = Set((sysfs[role] ?? [:]).keys.filter { $0.hasPrefix(interface + "/") }
                .map { String($0.dropFirst(interface.count + 1).split(separator: "/")[0]) })
            return ok((["addr_assign_type", "mtu", "operstate"] + entries).sorted().joined(separator: "\n") + "\n")
        case "sh" where argv.count == 4 && argv[3] == "preflight":
            return ok(preflightOutput)
        case "sh" where argv.count >= 4 && argv[3] == "topology":
            return ok(topologyOutput(nics: Array(argv.dropFirst(3))))
        case "sh" where argv.count == 5 && argv[2].hasPrefix("mkdir -p"):
            files[role, default: [:]][argv[4]] = []
            return ok()
        case "sh" where argv.count == 5 && argv[2] == "cat >> \"$1\"":
            files[role, default: [:]][argv[4], default: []] += command.stdin ?? []
            return ok()
        case "sha256sum":
            return ok("\(SHA256Digest.hex(files[role]?[argv[1]] ?? []))  \(argv[1])\n")
        case "sh" where argv.count == 6 && argv[2].hasPrefix("chmod 755"):
            let content = files[role]?.removeValue(forKey: argv[4])
            files[role]?[argv[5]] = content
            return ok()
        case "sh" where argv.count == 5 && argv[2].hasPrefix("ip link del"):
            // A userspace tunnel's deletion, waiting for its daemon: the link goes, as with `ip link del`.
            return answerIP(role, ["ip", "link", "del", argv[4]])
        case "iperf3" where argv.contains("-s"):
            listening.insert("\(argv[argv.firstIndex(of: "-B")! + 1]):\(argv[argv.firstIndex(of: "-p")! + 1])")
            return ok()
        case "ss":
            return ok(listening.sorted().map { "LISTEN 0 5 \($0) 0.0.0.0:*" }.joined(separator: "\n"))
        case "xargs":
            listening = []  // one-off servers end with their client
            // A client whose destination gw1 does not route through a tunnel would bypass it:
            // fail loudly, so a provisioning bug cannot pass as a measurement.
            let words = String(decoding: command.stdin ?? [], as: UTF8.self).split(separator: "\0").map(String.init)
            for (index, word) in words.enumerated() where word == "-c" && index + 1 < words.count {
                let destination = words[index + 1] + "/32"
                if tunnelsExpected, routes[.gw1]?[destination]?.hasPrefix("wgb") != true {
                    return CommandResult(status: 123, stdout: "", stderr: "simulation: gw1 has no tunnel route for \(destination)")
                }
            }
            return ok()
        case "cat" where argv[1].hasSuffix(".json"):
            let client = argv[1].contains("/client-")
            return ok(iperfLog?(client) ?? "{\"start\":{\"test_start\":{\"protocol\":\"TCP\"}},\"end\":{\"sum_received\":{\"bits_per_second\":1e9,\"seconds\":1},\"sum_sent\":{\"bits_per_second\":1e9,\"retransmits\":0}}}")
        case "cat" where argv[1] == "/proc/interrupts":
            return ok(interrupts())
        case "cat" where argv[1].hasPrefix("/proc/irq/"):
            return ok("0-\(cpus - 1)\n")
        case "sh" where argv.count > 3 && argv[3] == "sampler":
            return ok(samplerOutput ?? sampler(samples: argv.count > 4 ? Int(argv[4]) ?? 2 : 2, interval: argv.count > 5 ? Double(argv[5]) ?? 1 : 1))
        case "ethtool" where argv.count == 3 && argv[1] == "-k":
            let state = ntuple == .enabled ? "on" : (ntuple == .unsupported ? "off [fixed]" : "off")
            return ok("Features for \(argv[2]):\nntuple-filters: \(state)\n")
        case "ethtool" where argv.count == 3 && argv[1] == "-i":
            return ok("driver: simulated\nbus-info: \n")
        case "ethtool" where argv.count == 5 && argv[1] == "-K" && argv[3] == "ntuple":
            return ntuple == .unsupported ? fail("Cannot change ntuple-filters") : ok()
        case "ethtool" where argv[1] == "-N" && argv.contains("action"):
            guard ntuple == .enabled || ntuple == .disabled else { return fail("rxclass: Cannot insert RX class rule: Operation not supported") }
            defer { nextRule += 1 }
            return ok("Added rule with ID \(nextRule)\n")
        case "ethtool" where argv.count == 5 && argv[1] == "-N" && argv[3] == "delete":
            return ok()
        case "ethtool" where argv.count == 3 && ["-l", "-g", "-n"].contains(argv[1]):
            return ok("simulated: \(argv[1]) \(argv[2])\n")
        case "ls" where argv.count == 2 && argv[1].hasSuffix("/queues"):
            return ok((0..<queueCount).map { "rx-\($0)" }.joined(separator: "\n") + "\n" + (0..<queueCount).map { "tx-\($0)" }.joined(separator: "\n"))
        case "pgrep" where argv.count == 3 && ["-x", "-a"].contains(argv[1]) && argv[2] == "irqbalance":
            return fail("")
        case "sh" where argv.count == 6 && argv[3] == "pin":
            // taskset on the daemons of an interface: they run if their interface exists.
            return links[role]?.contains { argv[4].hasSuffix(" \($0)$") || argv[4].hasSuffix("\($0)$") } == true ? ok() : fail("", status: 3)
        case "sh" where argv.count == 5 && argv[4].hasPrefix("^([^ ]*/)?wireguard-(go|swift)"):
            return ok()  // waiting for daemons to exit: the simulated ones go with their interface
        case "ps", "kill":
            return ok()
        case "sh" where argv == NamespaceProcessParser.command.argv:
            return ok("@netns 4026531840\n")  // no process runs in a simulation
        case "rm" where argv.count == 3 && argv[1] == "-rf":
            runFolders[role]?.remove(argv[2])
            return ok()
        case "pkill", "mkdir", "rm":
            return ok()
        case "sh" where argv.count >= 4 && argv[3] == "kill-servers":
            return ok()
        case "uname", "lscpu", "iperf3", "ethtool", "modinfo":
            return ok("\(argv[0]) (simulated)\n")
        case "cat" where argv.count == 2 && ["/proc/sys/kernel/random/boot_id", "/proc/cmdline"].contains(argv[1]):
            return ok("simulated-\(argv[1].split(separator: "/").last!)\n")
        case "sh" where argv.count == 3 && (argv[2].contains("/sys/devices/system/node/") || argv[2].contains("smp_affinity_list")
                                           || argv[2].contains("/sys/module/wireguard/version")):
            return ok("simulated\n")
        default:
            return fail("simulation: unknown command: \(text)", status: 127)
        }
    }

    /// The harness's own scripts (`sh -c <script> <name> <arguments>`), by their name; nil for others.
    private func answerScript(_ role: HostRole, _ name: String, _ arguments: [String], _ command: Command) -> CommandResult? {
        switch name {
        case "wgbench-lease" where arguments.count == 4:
            return answerLease(role, operation: arguments[0], token: arguments[1], line: arguments[2], expected: arguments[3])
        case "prepare" where arguments.count == 1:
            runFolders[role, default: []].insert(arguments[0])
            return ok()
        case "run-folders" where arguments.count == 1:
            let folders = (runFolders[role] ?? []).sorted()
            if arguments[0] == "remove" {
                // The local testbed's hosts share one /run: a folder goes for every host that marked it.
                for other in HostRole.allCases { runFolders[other]?.subtract(folders) }
            }
            return ok(folders.map { $0 + "\n" }.joined())
        case "fresh" where arguments.count == 1:
            return ok()
        case "daemon" where arguments.count >= 3:
            // A userspace daemon started with its log: its interface appears.
            guard let interface = arguments.last, interface.hasPrefix("wgb") else { return nil }
            guard links[role, default: []].insert(interface).inserted else { return fail("interface \(interface) exists", status: 1) }
            killed[role]?.remove(interface)
            if arguments.contains(where: { $0.split(separator: "/").last?.hasPrefix("wireguard-swift") == true }) {
                swiftDaemons[role, default: []].insert(interface)
            }
            return ok()
        case "daemon-drops" where arguments.count >= 1:
            let live = arguments.dropFirst().filter { links[role]?.contains($0) == true && swiftDaemons[role]?.contains($0) == true }
            return ok(live.map { "\($0) malformed=0\n\($0) replayed=0\n\($0) no_session=0\n" }.joined())
        case "tunnel-health" where arguments.count >= 1:
            let daemon = arguments[0]
            return ok(arguments.dropFirst().map { interface -> String in
                let present = links[role]?.contains(interface) == true
                let running = daemon == "-" ? "-" : (present && killed[role]?.contains(interface) != true ? "running" : "dead")
                let handshake = handshaken[role]?.contains(interface) == true && present ? leaseClock : 0
                return "\(interface) \(present ? "up" : "gone") \(running) \(handshake)\n"
            }.joined())
        case "handshake":
            // A ping through the tunnels: every tunnel whose two sides exist handshakes.
            // (The simulation serves testbeds of the default stem: wgb1-t pairs with wgb2-t.)
            for interface in links[.gw1] ?? [] where interface.hasPrefix("wgb1-") {
                let peer = "wgb2-" + interface.dropFirst("wgb1-".count)
                if links[.gw2]?.contains(peer) == true {
                    handshaken[.gw1, default: []].insert(interface)
                    handshaken[.gw2, default: []].insert(peer)
                }
            }
            return ok()
        case "log-tail" where arguments.count == 2:
            return ok("simulated log of \(arguments[0])\nINFO: (\(role)) last line\n")
        default:
            return nil
        }
    }

    /// The lease script (`LeaseCommands`), with the lease line held in memory.
    private func answerLease(_ role: HostRole, operation: String, token: String, line: String, expected: String) -> CommandResult {
        let now = leaseClock
        let current = leases[role]
        let ours = { (token: String) in current?.contains(" token=\(token) ") == true }
        let held = CommandResult(status: LeaseCommands.heldStatus, stdout: "held \(now)\n\(current ?? "")\n", stderr: "")
        switch operation {
        case "acquire":
            if current != nil { return held }
        case "takeover":
            if current != nil, expected != "*", !ours(expected) { return held }
        case "renew":
            guard ours(token) else { return CommandResult(status: LeaseCommands.lostStatus, stdout: "lost \(now)\n\(current ?? "")\n", stderr: "") }
        case "release":
            if ours(token) { leases[role] = nil }
            return ok("free \(now)\n")
        case "show":
            return current == nil ? ok("free \(now)\n") : ok("held \(now)\n\(current!)\n")
        default:
            return fail("unknown lease operation", status: 2)
        }
        leases[role] = "\(line) renewed=\(now)"
        return ok("free \(now)\n")
    }

    /// `0000ffff`: 32-bit groups, zero-padded, as the kernel prints a cpumask.
    private static func kernelMask(_ cpus: [Int]) -> String {
        CPUList.hexMask(cpus).split(separator: ",").map { String(repeating: "0", count: 8 - $0.count) + $0 }.joined(separator: ",")
    }

    private func topologyOutput(nics wanted: [String]) -> String {
        let topology = self.topology
        return "0-\(cpus - 1)\n"
            + topology.nodes.map { "/sys/devices/system/node/node\($0.id)/cpulist:\($0.cpuList)\n" }.joined()
            + wanted.map { "@nic \($0) \(numaNodes > 1 ? "0" : "-1") \(queueCount)\n" }.joined()
    }

    /// A new kernel device's sysfs files, with the module's defaults.
    private func addKernelDevice(_ role: HostRole, _ name: String) {
        var files = ["threaded": threadedDefault ? "1" : "0"]
        let all = Self.kernelMask(Array(0..<cpus))
        switch kernelModule {
        case .upstream: break
        case .patched: files.merge(["inline_en": "1", "encrypt_cpumask": all, "decrypt_cpumask": all]) { $1 }
        case .patchedSingleMask: files.merge(["inline_en": "1", "cpumask": all]) { $1 }
        }
        for (file, value) in files { sysfs[role, default: [:]]["\(name)/\(file)"] = value }
    }

    private func answerIP(_ role: HostRole, _ argv: [String]) -> CommandResult {
        if argv.starts(with: ["ip", "link", "add"]) {
            guard links[role, default: []].insert(argv[3]).inserted else { return fail("RTNETLINK answers: File exists", status: 2) }
            if argv.last == "wireguard" { addKernelDevice(role, argv[3]) }
        }
        if argv.starts(with: ["ip", "link", "del"]) {
            guard links[role, default: []].remove(argv[3]) != nil else {
                return CommandResult(status: 1, stdout: "", stderr: "Cannot find device \"\(argv[3])\"")
            }
            routes[role] = routes[role]?.filter { $0.value != argv[3] }  // the kernel drops routes through a deleted device
            handshaken[role]?.remove(argv[3])
            sysfs[role] = sysfs[role]?.filter { !$0.key.hasPrefix(argv[3] + "/") }
        }
        if argv.starts(with: ["ip", "addr", "replace"]) && argv[3].hasSuffix("/32") { addresses[role, default: []].insert(argv[3]) }
        if argv.starts(with: ["ip", "addr", "del"]) { addresses[role, default: []].remove(argv[3]) }
        if argv.starts(with: ["ip", "route", "replace"]) {
            routes[role, default: [:]][argv[3]] = argv.firstIndex(of: "dev").map { argv[$0 + 1] } ?? ""
        }
        if argv.starts(with: ["ip", "route", "del"]) { routes[role]?[argv[3]] = nil }
        if argv == ["ip", "-o", "link", "show"] {
            return ok((["lo", "eth1"] + (links[role] ?? []).sorted()).enumerated()
                .map { "\($0.offset + 1): \($0.element): <UP> mtu 1500" }.joined(separator: "\n"))
        }
        if argv == ["ip", "-4", "route", "show"] {
            return ok((routes[role] ?? [:]).keys.sorted().map { "\($0.replacingOccurrences(of: "/32", with: "")) via 198.18.1.1 dev eth1" }
                .joined(separator: "\n"))
        }
        if argv == ["ip", "-o", "-4", "addr", "show"] {
            return ok((addresses[role] ?? []).sorted().map { "2: eth1    inet \($0) scope global eth1" }.joined(separator: "\n"))
        }
        return ok()
    }

    /// Queue interrupts named the Intel way, `<nic>-TxRx-<q>`, for each of `nics`.
    private func interrupts() -> String {
        var lines = ["           " + (0..<cpus).map { "CPU\($0)" }.joined(separator: "  ")]
        for (index, nic) in nics.enumerated() {
            for queue in 0..<queueCount { lines.append(" \(200 + index * 100 + queue):  0  IR-PCI-MSI  edge  \(nic)-TxRx-\(queue)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// As many samples as the sampler was asked for, `interval` seconds apart, every core half busy.
    private func sampler(samples: Int, interval: Double) -> String {
        let load = (0..<cpus).map { CoreUsage(cpu: $0, user: 25, system: 0, irq: 0, softirq: 25, idle: 50) }
        var series = [CPUSample.start(cores: cpus, uptime: 100)]
        while series.count < max(2, min(samples, 3600)) { series.append(series.last!.advanced(by: interval, usage: load)) }
        return SamplerCommand.output(series)
    }
}
