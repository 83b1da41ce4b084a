import Foundation
import Testing
@testable import WireGuard
import WireGuardCrypto

/// What handshake messages cost, counted on this thread (`OperationCounts`), as the kernel and
/// wireguard-go keep it down: the sender of an initiation is looked up right after its static key
/// is decrypted, before any second X25519, and the static-static DH is computed once per peer when
/// it is configured, not per message; mac1's keys (HASH(LABEL_MAC1 || public key)) and the cookie
/// keys are derived once per device and per peer, so a message costs only its MACs.
struct HandshakeCostTests {
    let timers = TimerTests()

    init() {
        // The protocol's constant initial chaining key and hash are derived on first use.
        _ = (Noise.initialChainingKey, Noise.initialHash)
    }

    /// What `body` costs on this thread.
    func cost(_ body: () throws -> Void) rethrows -> OperationCounts.Snapshot {
        let before = OperationCounts.current
        try body()
        return OperationCounts.current - before
    }

    @Test func anInitiationFromAnUnknownPeerCostsOneX25519() throws {
        let stranger = Device()
        _ = stranger.handleUAPI("set=1\nprivate_key=\(UAPI.hex(Curve25519.generatePrivateKey()))\n"
                                + "public_key=\(UAPI.hex(timers.b.identity!.publicKey))\nendpoint=\(timers.bEndpoint)\nallowed_ip=198.19.0.2/32\n\n")
        let initiation = try #require(stranger.outbound(timers.ping, now: 0).datagrams.first)
        let spent = cost { #expect(timers.b.inbound(initiation.payload, from: Endpoint("198.18.2.9:1")!, now: 0).isEmpty) }
        #expect(timers.b.drops.unauthenticated == 1)
        #expect(spent.x25519 == 1)  // DH(static, ephemeral) opens the sender's key; it is nobody's: nothing more
    }

    @Test func aKnownPeersInitiationUsesThePrecomputedStaticStaticDH() throws {
        let b = Device(jitter: { 0.1 })
        let configured = cost {
            _ = b.handleUAPI("set=1\nprivate_key=\(UAPI.hex(Curve25519.generatePrivateKey()))\n\n")
            _ = b.handleUAPI("set=1\npublic_key=\(UAPI.hex(timers.a.identity!.publicKey))\nallowed_ip=198.19.0.1/32\n\n")
        }
        #expect(configured.x25519 == 1)  // the peer's static-static DH, once
        _ = timers.a.handleUAPI("set=1\npublic_key=\(UAPI.hex(timers.b.identity!.publicKey))\nremove=true\n"
                                + "public_key=\(UAPI.hex(b.identity!.publicKey))\nendpoint=\(timers.bEndpoint)\nallowed_ip=198.19.0.2/32\n\n")
        let initiation = try #require(timers.a.outbound(timers.ping, now: 0).datagrams.first)
        var response: [UInt8] = []
        let spent = cost { response = b.inbound(initiation.payload, from: timers.aEndpoint, now: 0).datagrams.first?.payload ?? [] }
        #expect(response.first == 2)
        #expect(spent.x25519 == 3)  // es to open the initiation (ss is the peer's, precomputed), ee and se for the response
    }

    @Test func sendingAnInitiationCostsOneX25519AndMac1OneDigest() throws {
        var initiation: [UInt8] = []
        let spent = cost { initiation = timers.a.outbound(timers.ping, now: 0).datagrams.first?.payload ?? [] }
        #expect(initiation.count == WireConstants.initiationLength)
        #expect(spent.x25519 == 1)  // es; ss is precomputed for the peer
        // BLAKE2s digests of the Noise chain: h = HASH(h || S_r), KDF1 over E_i (two HMACs of two
        // digests), h = HASH(h || E_i), KDF2 over es (three HMACs), h = HASH(h || static), KDF2
        // over ss, h = HASH(h || timestamp). Then mac1: one keyed digest, its key being the peer's.
        let chain = 1 + 4 + 1 + 6 + 1 + 6 + 1
        #expect(spent.blake2s == chain + 1)
    }

    @Test func aBadMac1CostsOneDigestWithTheDevicesPrecomputedKey() throws {
        var initiation = try #require(timers.a.outbound(timers.ping, now: 0).datagrams.first).payload
        initiation[Layout.Initiation.mac1.lowerBound] ^= 1
        let spent = cost { #expect(timers.b.inbound(initiation, from: timers.aEndpoint, now: 0).isEmpty) }
        #expect(timers.b.drops.unauthenticated == 1)
        #expect(spent.blake2s == 1 && spent.x25519 == 0)
    }

    @Test func aCookieReplyIsOpenedWithThePeersPrecomputedKey() throws {
        timers.b.loadThreshold = 0
        let initiation = try #require(timers.a.outbound(timers.ping, now: 0).datagrams.first)
        let reply = try #require(timers.b.inbound(initiation.payload, from: timers.aEndpoint, now: 0).datagrams.first)
        #expect(reply.payload[0] == 3)
        let spent = cost { #expect(timers.a.inbound(reply.payload, from: timers.bEndpoint, now: 0.1).isEmpty) }
        #expect(timers.a.drops.unauthenticated == 0 && timers.a.peers[0].cookie != nil)
        #expect(spent.blake2s == 0)  // XChaCha20-Poly1305 under HASH(LABEL_COOKIE || b's key), derived once
    }
}
