import Testing
@testable import WGBenchCore

/// Issue #22, item 4: `testbed up` of a second local testbed (another prefix) whose management
/// network another testbed's bridge already holds is refused, naming what holds it.
struct LocalTestbedCollisionTests {
    /// `ip -o -4 addr show` on a machine with the default testbed up (and Docker's bridge).
    static let rootAddresses = """
    1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
    2: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global dynamic eth0\\       valid_lft 86000sec preferred_lft 86000sec
    5: wgb-mgmt    inet 198.18.250.1/24 scope global wgb-mgmt\\       valid_lft forever preferred_lft forever
    7: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\\       valid_lft forever preferred_lft forever
    """

    static func plan(prefix: String, management: String) throws -> LocalTestbedPlan {
        let yaml = validLocalTestbed.replacingOccurrences(of: "prefix: wgbt", with: "prefix: \(prefix)")
        var testbed = try TestbedLoader.parse(yaml: yaml, file: "t.yaml", home: "/h")
        testbed.local?.management = IPv4Interface(specText: management)!
        return LocalTestbedPlan(testbed: testbed)
    }

    @Test func anotherTestbedsBridgeInOurNetworkIsNamed() throws {
        #expect(try Self.plan(prefix: "wgbx", management: "198.18.250.1/24").managementCollisions(Self.rootAddresses) == ["wgb-mgmt (198.18.250.1/24)"])
        // A wider or a narrower network that meets ours collides too.
        #expect(try Self.plan(prefix: "wgbx", management: "198.18.250.129/25").managementCollisions(Self.rootAddresses).count == 1)
        #expect(try Self.plan(prefix: "wgbx", management: "198.18.0.1/16").managementCollisions(Self.rootAddresses).count == 1)
    }

    @Test func ourOwnBridgeAndOtherNetworksAreNot() throws {
        #expect(try Self.plan(prefix: "wgb", management: "198.18.250.1/24").managementCollisions(Self.rootAddresses).isEmpty)
        #expect(try Self.plan(prefix: "wgbx", management: "198.18.249.1/24").managementCollisions(Self.rootAddresses).isEmpty)
    }
}
