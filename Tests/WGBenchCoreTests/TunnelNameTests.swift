import Testing
@testable import WGBenchCore

/// Issue #22, item 4: every local testbed shares this machine's /var/run/wireguard, where a
/// userspace daemon's socket is named after its interface. Tunnel names were `wgb1-N`/`wgb2-N`
/// whatever the testbed, so a second testbed's daemon took over the first's socket. Names now
/// come from a local testbed's own prefix, except on the default local testbed and on real
/// machines, which keep `wgb1-N` (and with them the golden plans and old runs' names).
struct TunnelNameTests {
    static func local(_ prefix: String) throws -> Testbed {
        try TestbedLoader.parse(yaml: validLocalTestbed.replacingOccurrences(of: "prefix: wgbt", with: "prefix: \(prefix)"), file: "t.yaml", home: "/h")
    }

    static func paper() throws -> Testbed {
        try TestbedLoader.parse(yaml: String(contentsOf: Fixture.repositoryRoot.appendingPathComponent("testbeds/paper-cloudlab.yaml"), encoding: .utf8),
                                file: "testbeds/paper-cloudlab.yaml", home: "/root")
    }

    @Test func theDefaultAndRealMachinesKeepTheirNames() throws {
        for testbed in [try Self.local(LocalTestbedPlan.defaultPrefix), try Self.paper()] {
            #expect(TrafficPlan.interfaceName(.gw1, tunnel: 1, testbed: testbed) == "wgb1-1")
            #expect(TrafficPlan.interfaceName(.gw2, tunnel: 32, testbed: testbed) == "wgb2-32")
        }
        let shipped = try TestbedLoader.parse(yaml: String(contentsOf: Fixture.repositoryRoot.appendingPathComponent("testbeds/local.yaml"), encoding: .utf8),
                                              file: "testbeds/local.yaml", home: "/root")
        #expect(TrafficPlan.interfacePrefix(.gw1, testbed: shipped) == "wgb1-")
    }

    @Test func anotherLocalTestbedNamesItsTunnelsAfterItsPrefix() throws {
        let testbed = try Self.local("wgbf")
        #expect(TrafficPlan.interfaceName(.gw1, tunnel: 1, testbed: testbed) == "wgbf1-1")
        #expect(TrafficPlan.interfaceName(.gw2, tunnel: 7, testbed: testbed) == "wgbf2-7")
        let plan = try TrafficPlan(testbed: testbed, traffic: TrafficSpec(protocol: .tcp, durationSeconds: 1, omitSeconds: 0, bitrate: 0, basePort: 5201,
                                                                          clientCPUs: [], serverCPUs: []),
                                   tunnels: 2, flows: 2, target: .wireguardGo)
        #expect(plan.tunnels.map(\.gw1Interface) == ["wgbf1-1", "wgbf1-2"] && plan.tunnels.map(\.gw2Interface) == ["wgbf2-1", "wgbf2-2"])
        #expect(RoutingCommands.route(plan.flows[1], on: .gw1, testbed: testbed).argv.suffix(2) == ["dev", "wgbf1-2"])
    }

    /// The longest prefix at the most tunnels still makes an interface name (15 bytes), and no
    /// two prefixes' names meet: neither testbed's teardown takes the other's tunnels for its own.
    @Test(arguments: [("abcdef", "wgb"), ("wgb1", "wgb"), ("a", "a1"), ("wgbf", "wgbit"), ("x", "wgb")])
    func namesOfTwoPrefixesNeverMeet(_ a: String, _ b: String) throws {
        let one = try Self.local(a), two = try Self.local(b)
        for role in [HostRole.gw1, .gw2] {
            for tunnel in [1, 9, 10, 1024] {
                let name = TrafficPlan.interfaceName(role, tunnel: tunnel, testbed: one)
                #expect(InterfaceName(specText: name) != nil, "\(name)")
                #expect(![HostRole.gw1, .gw2].contains { name.hasPrefix(TrafficPlan.interfacePrefix($0, testbed: two)) }, "\(name) looks like \(b)'s")
                let other = TrafficPlan.interfaceName(role, tunnel: tunnel, testbed: two)
                #expect(![HostRole.gw1, .gw2].contains { other.hasPrefix(TrafficPlan.interfacePrefix($0, testbed: one)) }, "\(other) looks like \(a)'s")
            }
        }
    }
}
