import Foundation
import WGBenchCore
import WGBenchRemote

/// Looks on every host for anything a run makes: tunnel interfaces and their daemons, flow
/// addresses and routes, iperf3 processes, scratch directories. Empty means clean.
enum ResidueCheck {
    /// iperf3, and tunnel daemons of wgbench's interfaces.
    static func isOurs(_ args: String) -> Bool {
        let words = args.split(separator: " ")
        guard let program = words.first.map({ String($0.split(separator: "/").last ?? $0) }) else { return false }
        if program == "iperf3" { return true }
        guard program == "wireguard-go" || program == "wireguard-swift", let last = words.last else { return false }
        return last.hasPrefix("wg1-") || last.hasPrefix("wg2-")
    }

    static func check(hosts: [HostRole: RemoteHost], testbed: Testbed) -> [String] {
        let results = onEachHost(HostRole.allCases) { role -> [String] in
            guard let host = hosts[role] else { return [] }
            var found: [String] = []
            let links = IPLinkParser.names(try host.check(Command("ip", "-o", "link", "show")))
            found += links.filter { $0.hasPrefix("wg1-") || $0.hasPrefix("wg2-") }.map { "\(role): interface \($0)" }
            // Zombies are dead already; this machine's init may reap them late.
            found += ProcessListParser.living(try host.check(ProcessListParser.command))
                .filter { ResidueCheck.isOurs($0) }.map { "\(role): process \($0)" }
            let flowNetworks = [testbed.host(.source).interface(.ingress).address.network,
                                testbed.host(.drain).interface(.egress).address.network]
            let isFlowAddress = { (text: Substring) -> Bool in
                guard let address = IPv4Address(specText: String(text.split(separator: "/")[0])) else { return false }
                return flowNetworks.contains { network in
                    network.contains(address) && address.value - network.address.value >= UInt32(TrafficPlan.flowAddressOffset)
                }
            }
            let routes = try host.check(Command("ip", "-4", "route", "show"))
            found += routes.split(separator: "\n").filter { line in line.split(separator: " ").first.map(isFlowAddress) ?? false }
                .map { "\(role): route \($0)" }
            let addresses = try host.check(Command("ip", "-o", "-4", "addr", "show"))
            for line in addresses.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if let index = fields.firstIndex(of: "inet"), index + 1 < fields.count, isFlowAddress(fields[index + 1]) {
                    found.append("\(role): address \(fields[index + 1])")
                }
            }
            return found
        }
        return results.flatMap { result -> [String] in
            switch result {
            case .success(let found): return found
            case .failure(let error): return ["residue check failed: \(error)"]
            }
        }
    }
}
