import Foundation
import Testing
@testable import WireGuard
import WireGuardCrypto

/// Cookies under load (whitepaper 5.4.7) between two devices: the responder answers an
/// initiation without a valid mac2 with a cookie reply, the initiator's retry carries mac2 from
/// that cookie and is processed.
struct CookieTests {
    let timers = TimerTests()

    @Test func underLoadAnInitiationGetsACookieAndTheRetryWithMac2GetsThrough() throws {
        let (a, b) = (timers.a, timers.b)
        b.loadThreshold = 0  // every handshake message counts as load
        let initiation = try #require(a.outbound(timers.ping, now: 0).datagrams.first)
        #expect(initiation.payload.count == 148 && initiation.payload[132...].allSatisfy { $0 == 0 })  // no cookie yet: no mac2
        let answer = b.inbound(initiation.payload, from: timers.aEndpoint, now: 0)
        let reply = try #require(answer.datagrams.first)
        #expect(reply.payload.count == 64 && reply.payload[0] == 3 && reply.to == timers.aEndpoint)
        #expect(Array(reply.payload[4..<8]) == Array(initiation.payload[4..<8]))  // to the initiation's sender index
        #expect(b.drops.cookieReplies == 1)

        // A reply that does not open (tampered) is dropped; the real one is kept.
        var tampered = reply.payload
        tampered[40] ^= 1
        #expect(a.inbound(tampered, from: timers.bEndpoint, now: 0.1).isEmpty)
        #expect(a.drops.unauthenticated == 1)
        #expect(a.inbound(reply.payload, from: timers.bEndpoint, now: 0.1).isEmpty)

        // The retransmission after REKEY_TIMEOUT (+ 0.1 s jitter) carries mac2 and is answered.
        let retry = try #require(a.tick(now: 5.2).datagrams.first)
        #expect(retry.payload[0] == 1 && !retry.payload[132...].allSatisfy { $0 == 0 })
        let response = try #require(b.inbound(retry.payload, from: timers.aEndpoint, now: 5.2).datagrams.first)
        #expect(response.payload[0] == 2)
        let data = try #require(a.inbound(response.payload, from: timers.bEndpoint, now: 5.3).datagrams.first)
        #expect(b.inbound(data.payload, from: timers.aEndpoint, now: 5.3).packets == [timers.ping])
        // A cookie is for one address: the same message from elsewhere is turned away again.
        #expect(b.inbound(retry.payload, from: Endpoint("198.18.2.9:51821")!, now: 5.4).datagrams.first?.payload.count == 64)
    }

    @Test func notUnderLoadNoMac2IsNeeded() throws {
        let initiation = try #require(timers.a.outbound(timers.ping, now: 0).datagrams.first)
        #expect(timers.b.inbound(initiation.payload, from: timers.aEndpoint, now: 0).datagrams.first?.payload[0] == 2)
        #expect(timers.b.drops.cookieReplies == 0)
    }

    @Test func sessionKeysAreReleasedAndWipedAtRejectAfterTime() throws {
        try timers.connect(at: 0)
        weak var keypair = timers.a.peers.first?.current
        #expect(keypair != nil)
        _ = timers.a.tick(now: WireConstants.rejectAfterTime)
        #expect(keypair == nil)  // no reference is left: its deinit has wiped the keys
    }
}

/// TAI64N replay and flood protection on the responder.
struct InitiationReplayTests {
    let timers = TimerTests()

    @Test func aReplayedOrTooFrequentInitiationIsNotAnswered() throws {
        let first = try #require(timers.a.outbound(timers.ping, now: 0).datagrams.first)
        #expect(timers.b.inbound(first.payload, from: timers.aEndpoint, now: 0).datagrams.count == 1)
        #expect(timers.b.inbound(first.payload, from: timers.aEndpoint, now: 1).datagrams.isEmpty)  // the same timestamp again
        // A fresh initiation 10 ms later: newer timestamp, but faster than 50 a second.
        let second = try #require(timers.a.tick(now: 5.2).datagrams.first)
        #expect(timers.b.inbound(second.payload, from: timers.aEndpoint, now: 0.01).datagrams.isEmpty)
        #expect(timers.b.drops.replayed == 2)
        // Timestamps are the wall clock rounded down to 2^24 ns: the third is newer than the first
        // only once that much real time has passed, however fast the handshakes before it ran.
        Thread.sleep(forTimeInterval: Double(1 << 24) / 1e9 + 0.002)
        let third = try #require(timers.a.tick(now: 10.4).datagrams.first)
        #expect(timers.b.inbound(third.payload, from: timers.aEndpoint, now: 0.1).datagrams.first?.payload[0] == 2)
    }
}

/// Protocol details as the kernel has them.
struct ProtocolDetailTests {
    let timers = TimerTests()

    @Test func initiationTimestampsAreRoundedDownTo2To24Nanoseconds() {
        let stamp = Device.initiationTimestamp(1_800_000_000.987654321)
        #expect(stamp.nanoseconds % (1 << 24) == 0 && stamp.nanoseconds <= 987_654_321 && 987_654_321 - stamp.nanoseconds < 1 << 24)
        #expect(Device.initiationTimestamp(1_800_000_000.01).nanoseconds == 0)
    }

    @Test func aCookieReplyIsTakenOnceAndAReplayOfItIsDropped() throws {
        let (a, b) = (timers.a, timers.b)
        b.loadThreshold = 0
        let initiation = try #require(a.outbound(timers.ping, now: 0).datagrams.first)
        let reply = try #require(b.inbound(initiation.payload, from: timers.aEndpoint, now: 0).datagrams.first)
        #expect(a.inbound(reply.payload, from: timers.bEndpoint, now: 0.1).isEmpty && a.drops.unauthenticated == 0)
        #expect(a.inbound(reply.payload, from: timers.bEndpoint, now: 0.2).isEmpty)
        #expect(a.drops.unauthenticated == 1)
    }

    @Test func handshakeMessagesWithReservedBytesSetAreDropped() throws {
        let (a, b) = (timers.a, timers.b)
        var initiation = try #require(a.outbound(timers.ping, now: 0).datagrams.first).payload
        initiation[1] = 1
        #expect(b.inbound(initiation, from: timers.aEndpoint, now: 0).isEmpty)
        #expect(b.drops.malformed == 1)
    }
}
