import Testing
@testable import WGBenchCore

struct LocalTestbedPlanTests {
    let plan = LocalTestbedPlan(testbed: try! TestbedLoader.parse(yaml: validLocalTestbed, file: "t.yaml", home: "/h"))

    @Test func namesArePrefixedAndFit() {
        #expect(plan.namespaces == ["wgbt-source", "wgbt-gw1", "wgbt-gw2", "wgbt-drain"])
        #expect(plan.bridge == "wgbt-mgmt")
        for role in HostRole.allCases { #expect(plan.managementVeth(role).utf8.count <= 15) }
    }

    @Test func routesGoThroughBothGateways() {
        #expect(plan.routes.map { "\($0.host) \($0.destination) via \($0.via)" } == [
            "source 198.18.3.0/24 via 198.18.1.1",
            "gw1 198.18.3.0/24 via 198.18.2.2",
            "gw2 198.18.1.0/24 via 198.18.2.1",
            "drain 198.18.1.0/24 via 198.18.3.1",
        ])
    }

    @Test func networkCommandsCreateEachLinkBetweenItsEnds() {
        let text = plan.networkCommands.map(\.description)
        #expect(text.contains("ip link add eth2 netns wgbt-gw1 type veth peer name eth2 netns wgbt-gw2"))
        #expect(text.contains("ip -n wgbt-drain addr add 198.18.3.2/24 dev eth1"))
        #expect(text.contains("ip netns exec wgbt-gw1 sysctl -qw net.ipv4.ip_forward=1"))
        #expect(!text.contains("ip netns exec wgbt-source sysctl -qw net.ipv4.ip_forward=1"))
        #expect(text.contains("ip -n wgbt-gw2 addr add 198.18.251.13/24 dev mgmt0"))
        // Namespaces exist before anything is put in them.
        let firstLink = text.firstIndex { $0.hasPrefix("ip link add") }!
        #expect(text[..<firstLink].filter { $0.hasPrefix("ip netns add") }.count == 4)
    }

    @Test func sshdListensOnlyOnTheManagementAddressWithKeysOnly() {
        let config = plan.sshdConfig(.gw2)
        #expect(config.contains("ListenAddress 198.18.251.13\n"))
        #expect(config.contains("HostKey /run/wgbench/t/gw2/ssh_host_ed25519_key\n"))
        #expect(config.contains("PasswordAuthentication no\n"))
        #expect(plan.sshdCommand(.gw2).argv == ["ip", "netns", "exec", "wgbt-gw2", "/usr/sbin/sshd",
                                               "-f", "/run/wgbench/t/gw2/sshd_config", "-E", "/run/wgbench/t/gw2/sshd.log"])
    }

    @Test func teardownCoversEverythingNamed() {
        #expect(plan.namespaceTeardownCommands.map { $0.argv.last! } == plan.namespaces)
        #expect(plan.linkTeardownCommands.map { $0.argv.last! }.first == "wgbt-mgmt")
    }
}
