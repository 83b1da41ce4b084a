import Foundation
import WGBenchCore
import WGBenchRemote
import WireGuardCrypto

/// Four hosts that run nothing but answer like a real testbed: they keep the interfaces,
/// addresses, routes and listening servers that commands add and remove, and give plausible
/// readings (NIC features, queues, interrupts, sysfs knobs, iperf3 results, /proc/stat).
/// `wgbench plan` drives the real engine against it to print what a run would do; unit tests
/// drive it to check the engine's logic, where teardown and residue checks mean something
/// because the state is real state.
public final class SimulatedTestbed: @unchecked Sendable {
    private let lock = NSLock()
    private var links: [HostRole: Set<String>] = [:]
    private var addresses: [HostRole: Set<String>] = [:]
    /// destination -> device ("" for routes via a gateway)
    private var routes: [HostRole: [String: String]] = [:]
    private var listening: Set<String> = []
    /// Files written by uploads, per host.
    private var files: [HostRole: [String: [UInt8]]] = [:]
    private var nextRule = 1
    public private(set) var hosts: [HostRole: FakeHost] = [:]

    /// CPUs per host, and so rx queues per NIC.
    public var cpus = 2
    /// The NICs whose queue interrupts /proc/interrupts lists.
    public var nics = ["eth1", "eth2"]
    /// What `ethtool -k` says of ntuple-filters.
    public var ntuple = NtupleSupport.unsupported
    /// Files under /sys/class/net/<wg>/ the kernel module offers.
    public var kernelKnobFiles = ["threaded", "addr_assign_type"]
    /// Commands containing this text fail with this stderr.
    public var failing: [String: String] = [:]
    /// Whether the traffic of the running point must go through tunnels (set when tunnels exist).
    private var tunnelsExpected: Bool { !(links[.gw1] ?? []).filter { $0.hasPrefix("wgb1-") }.isEmpty }
    /// Answers `cat` of iperf3 logs and the sampler, when set (tests use recorded output).
    public var iperfLog: ((_ client: Bool) -> String)?
    public var samplerOutput: String?

    /// The files of the paper's patched module (see paper.md), for planning kernel series.
    public static let patchedKernelKnobFiles = ["threaded", "inline_en", "encrypt_cpumask", "decrypt_cpumask", "peer_1"]

    public init() {
        for role in HostRole.allCases {
            hosts[role] = FakeHost(name: role.rawValue, address: "simulated-\(role)") { [unowned self] command in
                self.answer(role, command)
            }
        }
    }

    public var remoteHosts: [HostRole: RemoteHost] { hosts.mapValues { $0 as RemoteHost } }

    public func commands(_ role: HostRole) -> [String] { hosts[role]!.commands.map(\.description) }

    private func ok(_ out: String = "") -> CommandResult { CommandResult(status: 0, stdout: out, stderr: "") }

    private func answer(_ role: HostRole, _ command: Command) -> CommandResult {
        lock.lock()
        defer { lock.unlock() }
        let argv = command.argv
        let text = command.description
        for (pattern, stderr) in failing where text.contains(pattern) {
            return CommandResult(status: 1, stdout: "", stderr: stderr)
        }
        switch argv[0] {
        case "env" where argv.contains("wireguard-go"), _ where argv[0].hasSuffix("wireguard-swift") && argv.last?.hasPrefix("wgb") == true:
            links[role, default: []].insert(argv.last!)
            return ok()
        case "ip":
            return answerIP(role, argv)
        case "sh" where argv.count == 5 && argv[2].hasPrefix("mkdir -p"):
            files[role, default: [:]][argv[4]] = []
            return ok()
        case "sh" where argv.count == 5 && argv[2] == "cat >> \"$1\"":
            files[role, default: [:]][argv[4], default: []] += command.stdin ?? []
            return ok()
        case "sha256sum":
            return ok("\(SHA256.hex(files[role]?[argv[1]] ?? []))  \(argv[1])\n")
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
        case "cat" where argv[1].hasPrefix("/sys/class/net/"):
            let file = String(argv[1].split(separator: "/").last!)
            return kernelKnobFiles.contains(file) ? ok("0\n") : CommandResult(status: 1, stdout: "", stderr: "No such file")
        case "cat" where argv[1] == "/proc/interrupts":
            return ok(interrupts())
        case "cat" where argv[1].hasPrefix("/proc/irq/"):
            return ok("0-\(cpus - 1)\n")
        case "sh" where argv.count > 3 && argv[2] == "sampler":
            return ok(samplerOutput ?? sampler())
        case "ethtool" where argv[1] == "-k":
            let state = ntuple == .enabled ? "on" : (ntuple == .unsupported ? "off [fixed]" : "off")
            return ok("Features for \(argv[2]):\nntuple-filters: \(state)\n")
        case "ethtool" where argv[1] == "-i":
            return ok("driver: simulated\nbus-info: \n")
        case "ethtool" where argv[1] == "-N" && argv.contains("action"):
            defer { nextRule += 1 }
            return ok("Added rule with ID \(nextRule)\n")
        case "ls" where argv[1].hasSuffix("/queues"):
            return ok((0..<cpus).map { "rx-\($0)" }.joined(separator: "\n") + "\n" + (0..<cpus).map { "tx-\($0)" }.joined(separator: "\n"))
        case "ls" where argv[1].hasPrefix("/sys/class/net/wgb"):
            return ok(kernelKnobFiles.joined(separator: "\n"))
        case "nproc":
            return ok("\(cpus)\n")
        case "pgrep":
            return CommandResult(status: 1, stdout: "", stderr: "")
        default:
            return ok()
        }
    }

    private func answerIP(_ role: HostRole, _ argv: [String]) -> CommandResult {
        if argv.starts(with: ["ip", "link", "add"]) { links[role, default: []].insert(argv[3]) }
        if argv.starts(with: ["ip", "link", "del"]) {
            guard links[role, default: []].remove(argv[3]) != nil else {
                return CommandResult(status: 1, stdout: "", stderr: "Cannot find device \"\(argv[3])\"")
            }
            routes[role] = routes[role]?.filter { $0.value != argv[3] }  // the kernel drops routes through a deleted device
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
            for queue in 0..<cpus { lines.append(" \(200 + index * 100 + queue):  0  IR-PCI-MSI  edge  \(nic)-TxRx-\(queue)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func sampler() -> String {
        let stat = { (idle: Int) in "cpu  0 0 0 0 0 0 0 0 0 0\n" + (0..<self.cpus).map { "cpu\($0) 10 0 10 \(idle) 0 0 10 0 0 0" }.joined(separator: "\n") }
        return "@sample\n100.00 100.00\n\(stat(100))\n@sample\n101.00 101.00\n\(stat(150))\n@times\n0m0.000s 0m0.000s\n0m0.000s 0m0.000s\n"
    }
}
