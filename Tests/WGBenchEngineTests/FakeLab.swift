import Foundation
import WGBenchCore
import WGBenchRemote

/// Four fake hosts that keep just enough state to answer like a real testbed: interfaces,
/// addresses and routes that were added and not removed, listening iperf3 servers, and recorded
/// tool output for reads. Residue checks against it therefore prove real teardown logic.
final class FakeLab: @unchecked Sendable {
    private let lock = NSLock()
    private var links: [HostRole: Set<String>] = [:]
    private var addresses: [HostRole: Set<String>] = [:]
    private var routes: [HostRole: Set<String>] = [:]
    private var listening: Set<String> = []
    /// Programs whose every run fails, with this stderr (e.g. "wireguard-go").
    var failing: [String: String] = [:]
    /// Files under /sys/class/net/<wg>/ the kernel module offers.
    var kernelKnobFiles = ["threaded", "addr_assign_type"]
    var hosts: [HostRole: FakeHost] = [:]

    static func fixture(_ name: String) -> String {
        let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!
        return try! String(contentsOf: url, encoding: .utf8)
    }

    init() {
        for role in HostRole.allCases {
            hosts[role] = FakeHost(name: role.rawValue, address: "fake-\(role)") { [unowned self] command in
                self.answer(role, command)
            }
        }
    }

    var remoteHosts: [HostRole: RemoteHost] { hosts.mapValues { $0 as RemoteHost } }

    func commands(_ role: HostRole) -> [String] { hosts[role]!.commands.map(\.description) }

    private func ok(_ out: String = "") -> CommandResult { CommandResult(status: 0, stdout: out, stderr: "") }

    private func answer(_ role: HostRole, _ command: Command) -> CommandResult {
        lock.lock()
        defer { lock.unlock() }
        let argv = command.argv
        let text = command.description
        for (program, stderr) in failing where argv.contains(program) {
            return CommandResult(status: 1, stdout: "", stderr: stderr)
        }
        switch argv[0] {
        case "env" where argv.contains("wireguard-go"), "wireguard-swift":
            links[role, default: []].insert(argv.last!)
            return ok()
        case "ip":
            if argv.starts(with: ["ip", "link", "add"]) { links[role, default: []].insert(argv[3]) }
            if argv.starts(with: ["ip", "link", "del"]) {
                guard links[role, default: []].remove(argv[3]) != nil else {
                    return CommandResult(status: 1, stdout: "", stderr: "Cannot find device \"\(argv[3])\"")
                }
            }
            if argv.starts(with: ["ip", "addr", "replace"]) && argv[3].hasSuffix("/32") { addresses[role, default: []].insert(argv[3]) }
            if argv.starts(with: ["ip", "addr", "del"]) { addresses[role, default: []].remove(argv[3]) }
            if argv.starts(with: ["ip", "route", "replace"]) { routes[role, default: []].insert(argv[3]) }
            if argv.starts(with: ["ip", "route", "del"]) { routes[role, default: []].remove(argv[3]) }
            if argv == ["ip", "-o", "link", "show"] {
                return ok((["lo", "eth1"] + (links[role] ?? []).sorted()).enumerated().map { "\($0.offset + 1): \($0.element): <UP> mtu 1500" }.joined(separator: "\n"))
            }
            if argv == ["ip", "-4", "route", "show"] {
                return ok((routes[role] ?? []).sorted().map { "\($0.replacingOccurrences(of: "/32", with: "")) via 198.18.1.1 dev eth1" }.joined(separator: "\n"))
            }
            if argv == ["ip", "-o", "-4", "addr", "show"] {
                return ok((addresses[role] ?? []).sorted().map { "2: eth1    inet \($0) scope global eth1" }.joined(separator: "\n"))
            }
            return ok()
        case "iperf3" where argv.contains("-s"):
            let address = argv[argv.firstIndex(of: "-B")! + 1], port = argv[argv.firstIndex(of: "-p")! + 1]
            listening.insert("\(address):\(port)")
            return ok()
        case "ss":
            return ok(listening.sorted().map { "LISTEN 0 5 \($0) 0.0.0.0:*" }.joined(separator: "\n"))
        case "xargs":
            listening = []  // one-off servers end with their client
            return ok()
        case "cat" where argv[1].hasSuffix(".json"):
            return ok(Self.fixture(argv[1].contains("/client-") ? "iperf3-tcp-client.json" : "iperf3-tcp-server.json"))
        case "cat" where argv[1].hasPrefix("/sys/class/net/"):
            let file = String(argv[1].split(separator: "/").last!)
            return kernelKnobFiles.contains(file) ? ok("0\n") : CommandResult(status: 1, stdout: "", stderr: "No such file")
        case "sh" where argv.count > 3 && argv[2] == "sampler":
            return ok(Self.fixture("sampler-output.txt"))
        case "ethtool" where argv[1] == "-k":
            return ok(Self.fixture("ethtool-k-veth.txt"))
        case "ethtool" where argv[1] == "-i":
            return ok("driver: veth\nbus-info: \n")
        case "ls" where argv[1].hasSuffix("/queues"):
            return ok("rx-0\ntx-0\n")
        case "ls" where argv[1].hasPrefix("/sys/class/net/wg"):
            return ok(kernelKnobFiles.joined(separator: "\n"))
        case "nproc":
            return ok("2\n")
        case "pgrep":
            return CommandResult(status: 1, stdout: "", stderr: "")
        default:
            _ = text
            return ok()
        }
    }
}
