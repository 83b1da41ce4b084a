import Foundation
import Testing
@testable import WireGuard
import WireGuardCrypto

/// The userspace API against what the real tools say: `wg setconf`'s request and wireguard-go's
/// answer to `get=1` for the same configuration, recorded under Fixtures/.
struct UAPITests {
    static func fixture(_ name: String) throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test func wgsRequestGivesWhatWireGuardGoReports() throws {
        var configuration = DeviceConfiguration()
        #expect(UAPI.handle(try Self.fixture("uapi-set-from-wg.txt"), configuration: &configuration) == "errno=0\n\n")
        #expect(configuration.listenPort == 51820 && configuration.fwmark == 66 && configuration.peers.count == 2)
        // wireguard-go had sent one handshake initiation (148 bytes) to each peer when recorded.
        for index in configuration.peers.indices { configuration.peers[index].txBytes = 148 }
        let expected = try Self.fixture("uapi-get-from-wireguard-go.txt")
        #expect(UAPI.handle("get=1\n\n", configuration: &configuration) == expected)
    }

    /// (request body after set=1, expected errno): wireguard-go answers -22 to each bad one.
    @Test(arguments: [
        ("listen_port=notanumber", UAPI.invalid),
        ("bogus_key=1", UAPI.invalid),
        ("public_key=zz", UAPI.invalid),
        ("public_key=\(String(repeating: "ab", count: 32))\nendpoint=198.18.2.2", UAPI.invalid),
        ("public_key=\(String(repeating: "ab", count: 32))\nallowed_ip=198.18.0.0", UAPI.invalid),
        ("public_key=\(String(repeating: "ab", count: 32))\nprotocol_version=2", UAPI.invalid),
        ("listen_port=1\npublic_key=\(String(repeating: "ab", count: 32))\nlisten_port=2", UAPI.invalid),
        ("public_key=\(String(repeating: "ab", count: 32))\nendpoint=[fd00::2]:51820\nallowed_ip=fd00::/64", Int32(0)),
    ])
    func malformedRequestsAreRefusedWhole(_ body: String, _ errno: Int32) {
        var configuration = DeviceConfiguration()
        configuration.listenPort = 7
        let before = configuration
        #expect(UAPI.handle("set=1\n\(body)\n\n", configuration: &configuration) == "errno=\(errno)\n\n")
        if errno != 0 { #expect(configuration == before) }  // all or nothing
    }

    @Test func removeUpdateOnlyAndReplace() {
        var configuration = DeviceConfiguration()
        let a = String(repeating: "aa", count: 32), b = String(repeating: "bb", count: 32)
        _ = UAPI.handle("set=1\npublic_key=\(a)\nallowed_ip=198.18.1.0/24\npublic_key=\(b)\n\n", configuration: &configuration)
        #expect(configuration.peers.count == 2)
        _ = UAPI.handle("set=1\npublic_key=\(a)\nremove=true\nallowed_ip=198.18.9.0/24\npublic_key=\(b)\npersistent_keepalive_interval=5\n\n",
                        configuration: &configuration)
        #expect(configuration.peers.map { UAPI.hex($0.publicKey) } == [b] && configuration.peers[0].persistentKeepalive == 5)
        _ = UAPI.handle("set=1\npublic_key=\(a)\nupdate_only=true\nallowed_ip=198.18.1.0/24\n\n", configuration: &configuration)
        #expect(configuration.peers.count == 1)
        _ = UAPI.handle("set=1\nreplace_peers=true\nprivate_key=\(String(repeating: "00", count: 32))\n\n", configuration: &configuration)
        #expect(configuration.peers.isEmpty && configuration.privateKey == nil)
        #expect(UAPI.handle("bogus=1\n\n", configuration: &configuration) == "errno=-71\n\n")
    }

    @Test func endpoints() {
        #expect(Endpoint("198.18.2.2:51820")?.description == "198.18.2.2:51820")
        #expect(Endpoint("[fd00::2]:1")?.description == "[fd00::2]:1")
        #expect(Endpoint("fd00::2:1") == nil && Endpoint("[198.18.2.2]:1") == nil && Endpoint("198.18.2.2:0") == nil)
    }
}

/// Endpoints are stored inline; IPv4, IPv6 and v4-mapped addresses round-trip.
struct EndpointTests {
    @Test func parsesAndPrintsBothFamilies() throws {
        let v4 = try #require(Endpoint("198.18.2.1:51820"))
        #expect(!v4.isIPv6 && v4.address == [198, 18, 2, 1] && v4.port == 51820 && v4.description == "198.18.2.1:51820")
        let v6 = try #require(Endpoint("[2001:2::1]:51820"))
        #expect(v6.isIPv6 && v6.address.count == 16 && v6.description == "[2001:2::1]:51820")
        #expect(Endpoint("[198.18.2.1]:1") == nil && Endpoint("2001:2::1:5") == nil && Endpoint("198.18.2.1:0") == nil)
        // A v4-mapped address from a dual-stack socket is the IPv4 endpoint.
        let mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 2, 1]
        #expect(mapped.withUnsafeBytes { Endpoint(ipv6: $0, port: 51820) } == v4)
        #expect(v4.ipv4NetworkOrder == UInt32(bigEndian: 0xc612_0201))
    }

    /// No input crashes the daemon: each of these once trapped or was taken; all give errno=-22.
    @Test(arguments: [
        "public_key=\(String(repeating: "ab", count: 32))\nallowed_ip=/",
        "public_key=\(String(repeating: "ab", count: 32))\nallowed_ip=/24",
        "public_key=\(String(repeating: "ab", count: 32))\nallowed_ip=198.18.0.0/",
        "public_key=\(String(repeating: "ab", count: 32))\nallowed_ip=198.18.0.0/+8",
        "public_key=\(String(repeating: "ab", count: 31))a\u{e9}",       // non-ASCII, 64 bytes of UTF-8
        "public_key=+f\(String(repeating: "ab", count: 31))",              // a sign where a digit goes
        "private_key=\(String(repeating: "ab", count: 31))-1",
        "listen_port=65536",
        "fwmark=4294967296",
        "public_key=\(String(repeating: "ab", count: 32))\npersistent_keepalive_interval=65536",
        // inet_pton stops at a NUL, and Swift's integer parser takes a sign: both were accepted.
        "public_key=\(String(repeating: "ab", count: 32))\nendpoint=1.2.3.4\u{0}junk:5",
        "public_key=\(String(repeating: "ab", count: 32))\nendpoint=[2001:2::1\u{0}junk]:5",
        "public_key=\(String(repeating: "ab", count: 32))\nallowed_ip=198.18.0.0\u{0}junk/16",
        "public_key=\(String(repeating: "ab", count: 32))\nendpoint=198.18.2.2:+5",
        "public_key=\(String(repeating: "ab", count: 32))\npersistent_keepalive_interval=+5",
        "listen_port=+5",
        "fwmark=+5",
        "listen_port= 5",
    ])
    func hostileInputIsRefusedNotFatal(_ body: String) {
        var configuration = DeviceConfiguration()
        #expect(UAPI.handle("set=1\n\(body)\n\n", configuration: &configuration) == "errno=\(UAPI.invalid)\n\n")
        #expect(configuration == DeviceConfiguration())
    }

    /// A peer with the device's own public key is ignored (the kernel's and wireguard-go's rule).
    @Test func aPeerWithTheDevicesOwnKeyIsIgnored() {
        let privateKey = [UInt8](repeating: 0x41, count: 32)
        let own = Curve25519.publicKey(privateKey: privateKey)
        var configuration = DeviceConfiguration()
        let request = "set=1\nprivate_key=\(UAPI.hex(privateKey))\npublic_key=\(UAPI.hex(own))\nallowed_ip=198.18.9.0/24\n"
            + "public_key=\(String(repeating: "ab", count: 32))\nallowed_ip=198.18.8.0/24\n\n"
        #expect(UAPI.handle(request, configuration: &configuration) == "errno=0\n\n")
        #expect(configuration.peers.map(\.publicKey) == [[UInt8](repeating: 0xab, count: 32)])
    }
}

/// A set of 20,000 allowed IPs (wg's for a big site) once held the device's lock for half a second,
/// de-duplicating each line against every line before it. Now linear: ten times the lines take
/// about ten times as long, not a hundred (each size timed three times, the fastest kept).
struct UAPIScalingTests {
    static func request(_ count: Int) -> String {
        var lines = ["set=1", "public_key=\(String(repeating: "ab", count: 32))"]
        for index in 0..<count { lines.append("allowed_ip=198.\(18 + index >> 16).\(index >> 8 & 255).\(index & 255)/32") }
        lines.append("allowed_ip=198.18.0.0/32")  // a duplicate, kept once
        return lines.joined(separator: "\n") + "\n\n"
    }

    static func fastest(_ request: String) -> Double {
        (0..<3).map { _ in
            let device = Device()
            let start = DispatchTime.now().uptimeNanoseconds
            #expect(device.handleUAPI(request) == "errno=0\n\n")
            return Double(DispatchTime.now().uptimeNanoseconds - start)
        }.min()!
    }

    @Test func twentyThousandAllowedIPsTakeLinearTime() {
        let small = Self.request(2_000), large = Self.request(20_000)
        _ = Self.fastest(small)  // warm up
        let ratio = Self.fastest(large) / Self.fastest(small)
        #expect(ratio < 30, "20,000 lines took \(ratio) times as long as 2,000 (linear: about 10, quadratic: about 100)")
        var configuration = DeviceConfiguration()
        _ = UAPI.handle(large, configuration: &configuration)
        #expect(configuration.peers.first?.allowedIPs.count == 20_000)
    }
}
