import Foundation
import WGBenchCore
import WGBenchRemote

/// Finds on the hosts everything a run makes (tunnel interfaces and daemons, flow addresses and
/// routes, iperf3 processes), to prove a teardown (`check`) or to perform one by discovery
/// (`sweep`), which also works when the run's own bookkeeping was cut short by a signal.
public enum ResidueCheck {
    struct Leftovers {
        var interfaces: [String] = []
        var processes: [String] = []
        var routes: [String] = []
        /// (address/32, device)
        var addresses: [(String, String)] = []

        func describe(_ role: HostRole) -> [String] {
            interfaces.map { "\(role): interface \($0)" } + processes.map { "\(role): process \($0)" }
                + routes.map { "\(role): route \($0)" } + addresses.map { "\(role): address \($0.0) on \($0.1)" }
        }
    }

    /// iperf3, and tunnel daemons of wgbench's interfaces.
    static func isOurs(_ args: String) -> Bool {
        let words = args.split(separator: " ")
        guard let program = program(args) else { return false }
        if program == "iperf3" { return true }
        // (Builds named by the `binary` knob may carry a suffix: wireguard-go-<rev>.)
        guard program.hasPrefix("wireguard-go") || program.hasPrefix("wireguard-swift"), let last = words.last else { return false }
        return HostRole.allCases.filter(\.isGateway).contains { last.hasPrefix(TrafficPlan.interfacePrefix($0)) }
    }

    /// The program's name in a process's arguments, without its directory.
    static func program(_ args: String) -> String? {
        args.split(separator: " ").first.map { String($0.split(separator: "/").last ?? $0) }
    }

    static func find(_ host: RemoteHost, role: HostRole, testbed: Testbed) throws -> Leftovers {
        var found = Leftovers()
        let prefixes = [TrafficPlan.interfacePrefix(.gw1), TrafficPlan.interfacePrefix(.gw2)]
        found.interfaces = IPLinkParser.names(try host.check(Command("ip", "-o", "link", "show")))
            .filter { name in prefixes.contains { name.hasPrefix($0) } }
        // Zombies are dead already; this machine's init may reap them late.
        found.processes = ProcessListParser.living(try host.check(ProcessListParser.command)).filter(isOurs)
        let flowNetworks = [testbed.host(.source).interface(.ingress).address.network,
                            testbed.host(.drain).interface(.egress).address.network]
        let isFlowAddress = { (text: Substring) -> Bool in
            guard let address = IPv4Address(specText: String(text.split(separator: "/")[0])) else { return false }
            return flowNetworks.contains { $0.contains(address) && address.value - $0.address.value >= UInt32(TrafficPlan.flowAddressOffset) }
        }
        found.routes = try host.check(Command("ip", "-4", "route", "show")).split(separator: "\n")
            .compactMap { line in line.split(separator: " ").first.flatMap { isFlowAddress($0) ? String($0) : nil } }
        for line in try host.check(Command("ip", "-o", "-4", "addr", "show")).split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 1, let index = fields.firstIndex(of: "inet"), index + 1 < fields.count, isFlowAddress(fields[index + 1]) {
                found.addresses.append((String(fields[index + 1]), String(fields[1])))
            }
        }
        return found
    }

    /// What is left on every host; empty means clean.
    public static func check(hosts: [HostRole: RemoteHost], testbed: Testbed) -> [String] {
        collect(onEachHost(HostRole.allCases) { role -> [String] in
            guard let host = hosts[role] else { return [] }
            return try find(host, role: role, testbed: testbed).describe(role)
        })
    }

    /// Removes everything `find` sees: kills our traffic and daemons, deletes tunnel interfaces,
    /// flow routes and flow addresses. Returns what it could not remove.
    public static func sweep(hosts: [HostRole: RemoteHost], testbed: Testbed) -> [String] {
        collect(onEachHost(HostRole.allCases) { role -> [String] in
            guard let host = hosts[role] else { return [] }
            let found = try find(host, role: role, testbed: testbed)
            if !found.processes.isEmpty {
                _ = try host.run(Command("pkill", "-x", "iperf3"))
            }
            for interface in found.interfaces { _ = try host.run(Command("ip", "link", "del", interface)) }
            if found.processes.contains(where: { program($0) != "iperf3" }) {  // tunnel daemons
                _ = try host.run(daemonsGone)
            }
            for route in found.routes { _ = try host.run(Command("ip", "route", "del", route.contains("/") ? route : route + "/32")) }
            for (address, device) in found.addresses { _ = try host.run(Command("ip", "addr", "del", address, "dev", device)) }
            return []
        })
    }

    /// Tunnel daemons exit when their interface goes, some after a few hundred milliseconds (the
    /// parallel engine joins its threads): wait up to 5 s, then terminate what is left.
    static var daemonsGone: Command {
        let pattern = "^([^ ]*/)?wireguard-(go|swift)( .*)? (" + [HostRole.gw1, .gw2].map { TrafficPlan.interfacePrefix($0) }.joined(separator: "|") + ")[0-9]+$"
        // A constant script; the pattern arrives as an argument.
        return Command("sh", "-c", """
            for i in $(seq 50); do pgrep -f "$1" >/dev/null || exit 0; sleep 0.1; done
            pkill -TERM -f "$1"; sleep 0.5; exit 0
            """, "sh", pattern)
    }

    private static func collect(_ results: [Result<[String], Error>]) -> [String] {
        results.flatMap { result -> [String] in
            switch result {
            case .success(let found): return found
            case .failure(let error): return ["could not check: \(error)"]
            }
        }
    }
}
