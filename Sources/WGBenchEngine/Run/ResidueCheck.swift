import Foundation
import WGBenchCore
import WGBenchRemote

/// Finds on the hosts everything a run makes (tunnel interfaces and daemons, flow addresses and
/// routes, iperf3 processes, run folders), to prove a teardown (`check`) or to perform one by
/// discovery (`sweep`), which also works when the run's own bookkeeping was lost: cut short by a
/// signal, or by a controller killed outright before it could clean up. Processes are looked for
/// in each host's own network namespace only, so a sweep on the local testbed never touches
/// another testbed's traffic on the same machine.
public enum ResidueCheck {
    struct Leftovers {
        var interfaces: [String] = []
        var processes: [NamespaceProcessParser.Entry] = []
        var routes: [String] = []
        /// (address/32, device)
        var addresses: [(String, String)] = []
        var folders: [String] = []

        func describe(_ role: HostRole) -> [String] {
            interfaces.map { "\(role): interface \($0)" } + processes.map { "\(role): process \($0.args)" }
                + routes.map { "\(role): route \($0)" } + addresses.map { "\(role): address \($0.0) on \($0.1)" }
                + folders.map { "\(role): run folder \($0)" }
        }
    }

    /// What a sweep removed, the removals a host refused, and the hosts it could not sweep.
    public struct SweepReport: @unchecked Sendable {
        public var removed: [String] = []
        public var refused: [String] = []
        public var failures: [(HostRole, Error)] = []

        public var problems: [String] { refused + failures.map { "could not sweep \($0.0): \($0.1)" } }
    }

    /// iperf3, and tunnel daemons of wgbench's interfaces.
    static func isOurs(_ args: String, testbed: Testbed) -> Bool {
        let words = args.split(separator: " ")
        guard let program = program(args) else { return false }
        if program == "iperf3" { return true }
        // (Builds named by the `binary` knob may carry a suffix: wireguard-go-<rev>.)
        guard program.hasPrefix("wireguard-go") || program.hasPrefix("wireguard-swift"), let last = words.last else { return false }
        return HostRole.allCases.filter(\.isGateway).contains { last.hasPrefix(TrafficPlan.interfacePrefix($0, testbed: testbed)) }
    }

    /// The program's name in a process's arguments, without its directory.
    static func program(_ args: String) -> String? {
        args.split(separator: " ").first.map { String($0.split(separator: "/").last ?? $0) }
    }

    static func find(_ host: RemoteHost, role: HostRole, testbed: Testbed, folders: Bool) throws -> Leftovers {
        var found = Leftovers()
        let prefixes = [TrafficPlan.interfacePrefix(.gw1, testbed: testbed), TrafficPlan.interfacePrefix(.gw2, testbed: testbed)]
        found.interfaces = try host.read(.links)
            .filter { name in prefixes.contains { name.hasPrefix($0) } }
        // Zombies are dead already; this machine's init may reap them late.
        found.processes = try host.read(.namespaceProcesses).filter { isOurs($0.args, testbed: testbed) }
        let flowNetworks = [testbed.host(.source).interface(.ingress).address.network,
                            testbed.host(.drain).interface(.egress).address.network]
        let isFlowAddress = { (text: String) -> Bool in
            guard let address = IPv4Address(specText: String(text.split(separator: "/")[0])) else { return false }
            return flowNetworks.contains { $0.contains(address) && address.value - $0.address.value >= UInt32(TrafficPlan.flowAddressOffset) }
        }
        found.routes = try host.read(.routeDestinations).filter(isFlowAddress)
        found.addresses = try host.read(.addresses).filter { isFlowAddress($0.address) }.map { ($0.address, $0.device) }
        if folders {
            found.folders = try host.check(HostFolders.sweep(remove: false)).split(separator: "\n").map(String.init)
        }
        return found
    }

    /// What is left on every host; empty means clean. `folders` includes the hosts' run folders.
    public static func check(hosts: [HostRole: RemoteHost], testbed: Testbed, folders: Bool = true) -> [String] {
        collect(onEachHost(HostRole.allCases) { role -> [String] in
            guard let host = hosts[role] else { return [] }
            return try find(host, role: role, testbed: testbed, folders: folders).describe(role)
        })
    }

    /// Removes everything `find` sees: kills our traffic and daemons, deletes tunnel interfaces,
    /// flow routes and flow addresses, and with `folders` every run folder of the hosts. Between
    /// attempts the run's own folder (its uploaded programs) stays; before a run and at its end it goes.
    public static func sweep(hosts: [HostRole: RemoteHost], testbed: Testbed, folders: Bool = false) -> SweepReport {
        let results = onEachHost(HostRole.allCases) { role -> (removed: [String], refused: [String]) in
            guard let host = hosts[role] else { return ([], []) }
            let found = try find(host, role: role, testbed: testbed, folders: false)
            var refused: [String] = []
            // A tunnel interface that will not go stays with the run's traffic routed into it: say why.
            let remove = { (operation: HostOperation) throws -> Bool in
                let result = try host.perform(operation)
                if !result.succeeded {
                    refused.append("\(role): `\(operation)` exited \(result.status)\(result.stderrTail.isEmpty ? "" : ": " + result.stderrTail)")
                }
                return result.succeeded
            }
            let iperf = found.processes.filter { program($0.args) == "iperf3" }.map(\.pid)
            if !iperf.isEmpty { _ = try host.perform(.kill(pids: iperf)) }
            var removed = found
            removed.interfaces = try found.interfaces.filter { try remove(.deleteLink(interface: $0, waitForDaemon: false)) }
            if found.processes.contains(where: { program($0.args) != "iperf3" }) {  // tunnel daemons
                _ = try host.perform(daemonsGone(testbed: testbed))
            }
            // (A flow route through a deleted interface went with it: its delete failing says nothing.)
            for route in found.routes { _ = try host.perform(.deleteRoute(destination: route.contains("/") ? route : route + "/32")) }
            for (address, device) in found.addresses { _ = try host.perform(.deleteAddress(address, device: device)) }
            if folders {
                removed.folders = try host.check(HostFolders.sweep(remove: true)).split(separator: "\n").map(String.init)
            }
            return (removed.describe(role), refused)
        }
        var report = SweepReport()
        for (role, result) in zip(HostRole.allCases, results) {
            switch result {
            case .success(let done):
                report.removed += done.removed
                report.refused += done.refused
            case .failure(let error): report.failures.append((role, error))
            }
        }
        return report
    }

    /// Tunnel daemons exit when their interface goes, some after a few hundred milliseconds (the
    /// parallel engine joins its threads): wait up to 5 s, then terminate what is left, in this
    /// host's network namespace only.
    static func daemonsGone(testbed: Testbed) -> HostOperation {
        let pattern = "^([^ ]*/)?wireguard-(go|swift)( .*)? (" + [HostRole.gw1, .gw2].map { TrafficPlan.interfacePrefix($0, testbed: testbed) }.joined(separator: "|") + ")[0-9]+$"
        return .stopDaemons(pattern: pattern)
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
