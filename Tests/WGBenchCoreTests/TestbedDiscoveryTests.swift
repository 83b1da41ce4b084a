import Testing
@testable import WGBenchCore

/// Deciding the links from the hosts' addresses, and the file written for what cannot be decided.
struct TestbedDiscoveryTests {
    static func host(_ lines: [String]) -> String {
        lines.enumerated().map { "\($0.offset + 1): \($0.element) scope global" }.joined(separator: "\n")
    }

    @Test func sharedSubnetsMakeTheLinksAndTheManagementInterfaceIsLeftOut() throws {
        let addresses: [HostRole: [TestbedDiscovery.Address]] = [
            .source: TestbedDiscovery.addresses(Self.host(["lo    inet 127.0.0.1/8", "mgmt@if9    inet 198.18.251.11/24", "eth1@if4    inet 198.18.1.2/24"])),
            .gw1: TestbedDiscovery.addresses(Self.host(["mgmt    inet 198.18.251.12/24", "eth1    inet 198.18.1.1/24", "eth2    inet 198.18.2.1/24"])),
            .gw2: TestbedDiscovery.addresses(Self.host(["mgmt    inet 198.18.251.13/24", "eth2    inet 198.18.2.2/24", "eth1    inet 198.18.3.1/24"])),
            .drain: TestbedDiscovery.addresses(Self.host(["mgmt    inet 198.18.251.14/24", "eth1    inet 198.18.3.2/24"])),
        ]
        #expect(addresses[.source]?.map(\.interface) == ["mgmt", "eth1"])
        let ssh: [HostRole: String] = [.source: "198.18.251.11", .gw1: "198.18.251.12", .gw2: "198.18.251.13", .drain: "198.18.251.14"]
        let links = TestbedDiscovery.links(addresses, sshAddresses: ssh)
        #expect(links.map { "\($0.chosen!.upstream.interface)-\($0.chosen!.downstream.interface)" } == ["eth1-eth1", "eth2-eth2", "eth1-eth1"])
        #expect(links.allSatisfy { $0.alternatives.isEmpty })
        #expect(TestbedDiscovery.ping(links[1])?.description == "ping -c 1 -W 2 -I eth2 198.18.2.2")
        let yaml = TestbedDiscovery.yaml(name: "lab", sshAddresses: ssh, user: "root", identity: "~/.ssh/id", knownHosts: nil, links: links)
        let testbed = try TestbedLoader.parse(yaml: yaml, file: "lab.yaml", home: "/root")
        #expect(testbed.host(.gw2).interface(.egress).address.description == "198.18.3.1/24")
    }

    @Test func whatCannotBeDecidedIsATodoAndNothingOutsideTheRangeIsPinged() {
        let addresses: [HostRole: [TestbedDiscovery.Address]] = [
            .source: [.init(interface: "eno1", address: IPv4Interface(specText: "10.0.0.2/24")!)],
            .gw1: [.init(interface: "eno1", address: IPv4Interface(specText: "10.0.0.1/24")!)],
            .gw2: [], .drain: [],
        ]
        let links = TestbedDiscovery.links(addresses, sshAddresses: [:])
        #expect(links[0].chosen != nil && TestbedDiscovery.ping(links[0]) == nil)
        #expect(links[1].chosen == nil && links[1].note?.contains("no interface of gw1 shares a subnet") == true)
        let yaml = TestbedDiscovery.yaml(name: "lab", sshAddresses: [:], user: "root", identity: nil, knownHosts: nil, links: links)
        #expect(yaml.contains("# TODO underlay: no interface of gw1") && yaml.contains("# TODO egress"))
    }
}
