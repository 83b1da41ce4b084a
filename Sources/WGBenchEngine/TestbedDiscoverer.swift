import Foundation
import WGBenchCore
import WGBenchRemote

/// `wgbench testbed discover`: reads the four hosts' IPv4 addresses over SSH, decides which
/// interfaces connect which pair of roles (a shared subnet), confirms each link with one ping from
/// its upstream end where the peer's address is in the benchmarking range, and writes the testbed
/// file (`TestbedDiscovery.yaml`).
public enum TestbedDiscoverer {
    public struct Outcome: Sendable {
        public var yaml: String
        public var links: [TestbedDiscovery.Link]
    }

    public static func discover(hosts: [HostRole: RemoteHost], sshAddresses: [HostRole: String], name: String, user: String,
                                identity: String?, knownHosts: String?) throws -> Outcome {
        let read = try onEachHostOrThrow(HostRole.allCases) { role -> (HostRole, [TestbedDiscovery.Address]) in
            (role, TestbedDiscovery.addresses(try hosts[role]!.check(.read(.ipv4Addresses))))
        }
        var links = TestbedDiscovery.links(Dictionary(uniqueKeysWithValues: read), sshAddresses: sshAddresses)
        for index in links.indices {
            guard let ping = TestbedDiscovery.ping(links[index]) else {
                if links[index].chosen != nil { links[index].note = "its address is outside 198.18.0.0/15, where wgbench sends nothing" }
                continue
            }
            links[index].confirmed = try hosts[links[index].role.ends.upstream]!.perform(ping).succeeded
        }
        return Outcome(yaml: TestbedDiscovery.yaml(name: name, sshAddresses: sshAddresses, user: user, identity: identity,
                                                    knownHosts: knownHosts, links: links), links: links)
    }
}
