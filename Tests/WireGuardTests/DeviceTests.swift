import Foundation
import Testing
@testable import WireGuard
import WireGuardCrypto

/// Two devices wired to each other in memory, as wireguard-go's tests do with fake TUN and bind.
struct DeviceTests {
    let a = Device(), b = Device()
    let aEndpoint = Endpoint("198.18.2.1:51821")!, bEndpoint = Endpoint("198.18.2.2:51822")!

    init() {
        let aKey = Curve25519.generatePrivateKey(), bKey = Curve25519.generatePrivateKey()
        let psk = UAPI.hex(Curve25519.generatePrivateKey())
        let hex = { (key: [UInt8]) in UAPI.hex(Curve25519.publicKey(privateKey: key)) }
        _ = a.handleUAPI("set=1\nprivate_key=\(UAPI.hex(aKey))\nlisten_port=51821\npublic_key=\(hex(bKey))\npreshared_key=\(psk)\n"
                         + "endpoint=198.18.2.2:51822\nallowed_ip=198.19.0.2/32\n\n")
        _ = b.handleUAPI("set=1\nprivate_key=\(UAPI.hex(bKey))\nlisten_port=51822\npublic_key=\(hex(aKey))\npreshared_key=\(psk)\n"
                         + "allowed_ip=198.19.0.1/32\n\n")
    }

    static func ipv4(from source: [UInt8], to destination: [UInt8], payload: String) -> [UInt8] {
        let body = Array(payload.utf8)
        let total = 20 + body.count
        return [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 0, 0, 0, 64, 17, 0, 0] + source + destination + body
    }

    @Test func firstPacketWaitsForTheHandshakeThenBothWaysWork() throws {
        let ping = Self.ipv4(from: [198, 19, 0, 1], to: [198, 19, 0, 2], payload: "ping")
        let initiation = a.outbound(ping, now: 0)
        #expect(initiation.datagrams.count == 1 && initiation.datagrams[0].payload.count == 148 && initiation.datagrams[0].to == bEndpoint)
        let response = b.inbound(initiation.datagrams[0].payload, from: aEndpoint, now: 0.01)
        #expect(response.datagrams.count == 1 && response.datagrams[0].to == aEndpoint)  // b learned a's endpoint
        let data = a.inbound(response.datagrams[0].payload, from: bEndpoint, now: 0.02)
        #expect(data.datagrams.count == 1)  // the queued ping
        let delivered = b.inbound(data.datagrams[0].payload, from: aEndpoint, now: 0.03)
        #expect(delivered.packets == [ping])

        let pong = Self.ipv4(from: [198, 19, 0, 2], to: [198, 19, 0, 1], payload: "pong")
        let back = b.outbound(pong, now: 0.04)
        #expect(back.datagrams.count == 1 && back.datagrams[0].payload[0] == 4)  // straight onto the session
        #expect(a.inbound(back.datagrams[0].payload, from: bEndpoint, now: 0.05).packets == [pong])

        // A replayed transport message is dropped and counted.
        #expect(b.inbound(data.datagrams[0].payload, from: aEndpoint, now: 0.06).packets.isEmpty)
        #expect(b.drops.replayed == 1)
        // So is a packet whose inner source is not an allowed IP of the peer.
        let spoofed = a.outbound(Self.ipv4(from: [198, 19, 0, 9], to: [198, 19, 0, 2], payload: "x"), now: 0.07)
        #expect(b.inbound(spoofed.datagrams[0].payload, from: aEndpoint, now: 0.08).packets.isEmpty)
        #expect(b.drops.disallowedSource == 1)
        // wg show counters moved on both sides.
        let show = a.handleUAPI("get=1\n\n")
        #expect(show.contains("tx_bytes=") && !show.contains("tx_bytes=0\n") && !show.contains("rx_bytes=0\n"))
    }

    @Test func garbageIsDroppedAndCounted() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 4, 16, 31, 32, 92, 148, 200] {
            for type: UInt8 in [1, 2, 3, 4, 9] {
                var datagram = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                if !datagram.isEmpty { datagram[0] = type }
                #expect(b.inbound(datagram, from: aEndpoint, now: 1).packets.isEmpty)
            }
        }
        let drops = b.drops
        #expect(drops.malformed + drops.unauthenticated + drops.noPeer + drops.noSession + drops.replayed > 0)
        #expect(a.outbound([0x45], now: 1).datagrams.isEmpty)
        #expect(a.outbound(Self.ipv4(from: [198, 19, 0, 1], to: [8, 8, 8, 8], payload: "x"), now: 1).datagrams.isEmpty)
    }
}

/// IPv6 both as endpoints and inside the tunnel, between two devices in memory (addresses from
/// the IPv6 benchmarking prefix 2001:2::/48, RFC 5180; nothing is sent anywhere).
struct IPv6DeviceTests {
    let a = Device(), b = Device()
    let aEndpoint = Endpoint("[2001:2::1]:51821")!, bEndpoint = Endpoint("[2001:2::2]:51822")!
    static let aInner = IPPrefix.parse("2001:2:0:1::1")!, bInner = IPPrefix.parse("2001:2:0:1::2")!

    init() {
        let aKey = Curve25519.generatePrivateKey(), bKey = Curve25519.generatePrivateKey()
        let pub = { (key: [UInt8]) in UAPI.hex(Curve25519.publicKey(privateKey: key)) }
        _ = a.handleUAPI("set=1\nprivate_key=\(UAPI.hex(aKey))\npublic_key=\(pub(bKey))\nendpoint=[2001:2::2]:51822\n"
                         + "allowed_ip=2001:2:0:1::2/128\n\n")
        _ = b.handleUAPI("set=1\nprivate_key=\(UAPI.hex(bKey))\npublic_key=\(pub(aKey))\nallowed_ip=2001:2:0:1::1/128\n\n")
    }

    static func ipv6(from source: [UInt8], to destination: [UInt8], payload: String) -> [UInt8] {
        let body = Array(payload.utf8)
        return [0x60, 0, 0, 0, UInt8(body.count >> 8), UInt8(body.count & 0xff), 17, 64] + source + destination + body
    }

    @Test func ipv6EndpointsAndIPv6InsideTheTunnel() throws {
        let packet = Self.ipv6(from: Self.aInner, to: Self.bInner, payload: "over six")
        let initiation = try #require(a.outbound(packet, now: 0).datagrams.first)
        #expect(initiation.to == bEndpoint)
        let response = try #require(b.inbound(initiation.payload, from: aEndpoint, now: 0).datagrams.first)
        #expect(response.to == aEndpoint)  // b learned a's IPv6 endpoint
        let data = try #require(a.inbound(response.payload, from: bEndpoint, now: 0).datagrams.first)
        #expect(b.inbound(data.payload, from: aEndpoint, now: 0).packets == [packet])
        #expect(b.handleUAPI("get=1\n\n").contains("endpoint=[2001:2::1]:51821"))
        // Inner source outside the peer's allowed IPs: dropped.
        let spoofed = a.outbound(Self.ipv6(from: IPPrefix.parse("2001:2:0:9::1")!, to: Self.bInner, payload: "x"), now: 0)
        #expect(b.inbound(spoofed.datagrams[0].payload, from: aEndpoint, now: 0).packets.isEmpty && b.drops.disallowedSource == 1)
    }
}

extension DeviceTests {
    /// `wg setconf` (replace_peers, then every peer again) and a peer removed and added back in one
    /// request end the peer's sessions, as with the kernel and wireguard-go: the old session's
    /// messages are dropped and the next packet starts a handshake. Kept, the old session would
    /// outlive a configuration that removed it.
    @Test(arguments: ["replace_peers=true\n", "public_key=KEY\nremove=true\n"])
    func aPeerRemovedAndAddedBackStartsAfresh(removal: String) throws {
        let ping = Self.ipv4(from: [198, 19, 0, 1], to: [198, 19, 0, 2], payload: "ping")
        let initiation = a.outbound(ping, now: 0)
        let response = b.inbound(initiation.datagrams[0].payload, from: aEndpoint, now: 0)
        let queued = a.inbound(response.datagrams[0].payload, from: bEndpoint, now: 0)
        #expect(b.inbound(queued.datagrams[0].payload, from: aEndpoint, now: 0).packets == [ping])
        let pong = Self.ipv4(from: [198, 19, 0, 2], to: [198, 19, 0, 1], payload: "pong")
        #expect(b.outbound(pong, now: 0.1).datagrams.first?.payload.first == 4)  // on the session

        let show = b.handleUAPI("get=1\n\n").split(separator: "\n")
        let key = try #require(show.first { $0.hasPrefix("public_key=") }?.dropFirst(11))
        let psk = try #require(show.first { $0.hasPrefix("preshared_key=") })
        let request = "set=1\n" + removal.replacingOccurrences(of: "KEY", with: key)
            + "public_key=\(key)\n\(psk)\nendpoint=\(aEndpoint)\nallowed_ip=198.19.0.1/32\n\n"
        #expect(b.handleUAPI(request) == "errno=0\n\n")

        let stale = a.outbound(ping, now: 0.2)
        #expect(stale.datagrams.first?.payload.first == 4)  // a still has its session
        #expect(b.inbound(stale.datagrams[0].payload, from: aEndpoint, now: 0.2).packets.isEmpty)
        #expect(b.drops.noSession == 1)
        let fresh = b.outbound(pong, now: 0.3)  // b has no session: a handshake, the pong queued
        #expect(fresh.datagrams.count == 1 && fresh.datagrams[0].payload.count == 148)
    }
}
