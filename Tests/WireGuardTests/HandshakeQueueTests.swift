import Foundation
import Testing
@testable import WireGuard

/// Handshake messages leave the data path: the batch path only checks and queues them, a bounded
/// queue (4096) drops the excess, the handshake thread answers them, and the device's load is the
/// queue's length (the kernel's receive.c and wireguard-go's RoutineHandshake).
struct HandshakeQueueTests {
    let timers = TimerTests()

    /// A batch of the given datagrams, all from `source`.
    static func batch(_ datagrams: [[UInt8]], from source: Endpoint) -> PacketBatch {
        let batch = PacketBatch(capacity: datagrams.count, slotSize: 256)
        for datagram in datagrams { datagram.withUnsafeBytes { _ = batch.appendDatagram($0, from: source) } }
        return batch
    }

    /// 148 bytes that look like an initiation (type, reserved bytes) and are not one.
    static let junkInitiation: [UInt8] = [1, 0, 0, 0] + (4..<148).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    @Test func theBatchPathQueuesHandshakesAndTheHandshakeThreadAnswersThem() throws {
        let (a, b) = (timers.a, timers.b)
        let initiation = try #require(a.outbound(timers.ping, now: 0).datagrams.first).payload
        b.prepareInbound(Self.batch([initiation, initiation], from: timers.aEndpoint), now: 0)
        // Nothing was verified or answered on the reading thread: both wait in the queue.
        #expect(b.handshakeQueue.count == 2 && b.drops == DropCounters())
        let answer = try #require(b.serviceHandshakes(timeout: 0))  // both, in one batch
        #expect(answer.datagrams.count == 1 && answer.datagrams.first?.payload[0] == 2 && answer.datagrams.first?.to == timers.aEndpoint)
        #expect(b.drops.replayed == 1)  // the copy is a replay
        #expect(b.serviceHandshakes(timeout: 0) == nil && b.handshakeQueue.count == 0)
    }

    @Test func theQueueHolds4096AndCountsWhatItDrops() {
        let b = timers.b
        for _ in 0..<79 { b.prepareInbound(Self.batch(Array(repeating: Self.junkInitiation, count: 64), from: timers.aEndpoint), now: 0) }
        #expect(b.handshakeQueue.count == 4096 && WireConstants.maxQueuedHandshakes == 4096)
        #expect(b.drops.handshakeQueueFull == 79 * 64 - 4096 && b.drops.unauthenticated == 0)
        while b.serviceHandshakes(timeout: 0) != nil {}
        #expect(b.drops.unauthenticated == 4096)  // mac1 does not verify: dropped by the handshake thread
    }

    @Test func malformedMessagesNeverReachTheQueue() {
        let b = timers.b
        var reserved = Self.junkInitiation
        reserved[2] = 1
        let shortTransport: [UInt8] = [4, 0, 0, 0] + Array(repeating: 0, count: 20)
        b.prepareInbound(Self.batch([Array(Self.junkInitiation.prefix(147)), reserved, [9, 0, 0, 0], shortTransport, [1]],
                                    from: timers.aEndpoint), now: 0)
        #expect(b.handshakeQueue.count == 0 && b.drops.malformed == 5)
    }

    @Test func aFullQueuePutsTheDeviceUnderLoadForASecond() throws {
        let (a, b) = (timers.a, timers.b)
        let initiation = try #require(a.outbound(timers.ping, now: 0).datagrams.first).payload
        // 600 junk initiations ahead of a real one: while they are served the queue holds more than
        // 512, so the real one (no mac2) gets a cookie reply instead of a response.
        var datagrams = Array(repeating: Self.junkInitiation, count: 600)
        datagrams.append(initiation)
        b.prepareInbound(Self.batch(datagrams, from: timers.aEndpoint), now: 0)
        var answers: [[UInt8]] = []
        while let output = b.serviceHandshakes(timeout: 0) { answers += output.datagrams.map(\.payload) }
        #expect(answers.count == 1 && answers.first?[0] == 3 && b.drops.cookieReplies == 1)
        // One second after the queue was long, the device is no longer under load.
        let later = try #require(a.tick(now: 5.2).datagrams.first).payload
        b.prepareInbound(Self.batch([later], from: timers.aEndpoint), now: 1.1)
        #expect(b.serviceHandshakes(timeout: 0)?.datagrams.first?.payload[0] == 2)
    }

    @Test func theEnginesHandshakeThreadSendsTheResponse() throws {
        let initiation = try #require(timers.a.outbound(timers.ping, now: 0).datagrams.first).payload
        let sinks = CollectingSinks()
        let engine = InlineEngine(device: timers.b, tun: sinks, udp: sinks)
        defer { engine.stop() }
        engine.inbound(now: 0) { batch in initiation.withUnsafeBytes { _ = batch.appendDatagram($0, from: timers.aEndpoint) } }
        try EngineTests().waitFor { sinks.count == 1 }
        #expect(sinks.take().datagrams.first?.0[0] == 2)
    }
}

/// The per-source rate limiter for handshakes under load, with ratelimiter.c's semantics.
struct RateLimiterTests {
    let one = Endpoint("198.18.2.1:1000")!, samePortElsewhere = Endpoint("198.18.2.1:2000")!, other = Endpoint("198.18.2.7:1000")!

    @Test func aBurstOfFiveThenTwentyASecond() {
        var limiter = RateLimiter()
        func allow(_ source: Endpoint, _ now: Double) -> Bool { limiter.allow(source, now: now) }
        #expect((0..<5).allSatisfy { _ in allow(one, 10) })
        #expect(!allow(samePortElsewhere, 10))  // by address, not port
        #expect(allow(other, 10))  // another source has its own bucket
        #expect(!allow(one, 10.025) && allow(one, 10.075) && !allow(one, 10.075))  // a token each 50 ms
        // Over five seconds after a rest: the burst, then 20 a second.
        let allowed = (1...1000).filter { allow(one, 11 + Double($0) * 0.005) }.count
        #expect((104...106).contains(allowed))
    }

    @Test func ipv6SourcesAreCountedByTheirSlash64() {
        var limiter = RateLimiter()
        func allow(_ source: Endpoint, _ now: Double) -> Bool { limiter.allow(source, now: now) }
        let a = Endpoint("[2001:2::1]:1000")!, sameNet = Endpoint("[2001:2::ffff:1]:1000")!, otherNet = Endpoint("[2001:2:0:1::1]:1000")!
        #expect((0..<3).allSatisfy { _ in allow(a, 0) } && (0..<2).allSatisfy { _ in allow(sameNet, 0) })
        #expect(!allow(sameNet, 0) && allow(otherNet, 0))
    }

    @Test func idleSourcesAreForgottenAndAFullTableDeniesNewOnes() {
        var limiter = RateLimiter(maximumEntries: 2)
        func allow(_ source: Endpoint, _ now: Double) -> Bool { limiter.allow(source, now: now) }
        #expect(allow(one, 0) && allow(other, 0))
        #expect(!allow(Endpoint("198.18.2.9:1")!, 0.5))
        #expect(allow(Endpoint("198.18.2.9:1")!, 1.5) && limiter.count == 1)
    }

    @Test func underLoadValidCookiesAreRateLimitedPerSource() throws {
        let timers = TimerTests()
        let (a, b) = (timers.a, timers.b)
        b.loadThreshold = 0  // always under load
        let first = try #require(a.outbound(timers.ping, now: 0).datagrams.first).payload
        let reply = try #require(b.inbound(first, from: timers.aEndpoint, now: 0).datagrams.first).payload
        _ = a.inbound(reply, from: timers.bEndpoint, now: 0.1)
        let withCookie = try #require(a.tick(now: 5.2).datagrams.first).payload  // carries mac2
        let answers = (0..<10).map { _ in b.inbound(withCookie, from: timers.aEndpoint, now: 5.2) }
        // The first five pass the limiter (one is answered, four are replays); five are rate limited.
        #expect(answers.filter { !$0.isEmpty }.count == 1 && b.drops.replayed == 4 && b.drops.rateLimited == 5)
        // Not under load, nothing is rate limited.
        b.loadThreshold = Int.max
        usleep(17_000)  // a newer initiation timestamp: the clock must pass one 2^24 ns step
        let fresh = try #require(a.tick(now: 10.4).datagrams.first).payload
        #expect(b.inbound(fresh, from: timers.aEndpoint, now: 20).datagrams.first?.payload[0] == 2 && b.drops.rateLimited == 5)
    }
}
