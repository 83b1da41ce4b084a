import Foundation
import Testing
@testable import WireGuard

/// The device's log under a junk flood, with a manual clock: 10,208 junk datagrams once gave
/// 6,423 lines. Now, as the kernel's net_ratelimit, at most 10 lines each 5 s, and one line telling
/// how many were held back. Whether a datagram reaches the device by the array API or by the
/// datapath's batches and the handshake thread, the bound is the same.
struct LogRateLimitTests {
    let timers = TimerTests()

    /// The lines a device writes.
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        var all: [String] { lock.withLock { lines } }
        func append(_ line: String) { lock.withLock { lines.append(line) } }
    }

    /// Junk of each kind the flood had: forged handshake messages (each once logged), cookie
    /// replies for no handshake of ours, garbage.
    static func junk(_ index: Int) -> [UInt8] {
        let body = (0..<200).map { UInt8(truncatingIfNeeded: ($0 &+ index) &* 31) }
        switch index % 4 {
        case 0: return [1, 0, 0, 0] + body.prefix(144)
        case 1: return [2, 0, 0, 0] + body.prefix(88)
        case 2: return [3, 0, 0, 0] + body.prefix(60)
        default: return [UInt8(truncatingIfNeeded: index), 7] + body.prefix(index % 100)
        }
    }

    /// The suppressed counts the lines tell, summed.
    static func suppressed(_ lines: [String]) -> Int {
        lines.compactMap { line in line.hasSuffix(" messages suppressed") ? Int(line.split(separator: " ")[0]) : nil }.reduce(0, +)
    }

    @Test func aJunkFloodThroughTheArrayAPILeavesABoundedLog() {
        let b = timers.b, lines = Lines()
        b.log = { lines.append($0) }
        // 10,208 datagrams over 10 s, with the timers ticking every 100 ms as the daemon's do.
        for index in 0..<10_208 {
            let now = Double(index) * 10 / 10_208
            _ = b.inbound(Self.junk(index), from: timers.aEndpoint, now: now)
            if index % 102 == 0 { _ = b.tick(now: now) }
        }
        _ = b.tick(now: 15.1)
        let written = lines.all, counts = written.filter { $0.hasSuffix(" messages suppressed") }
        // Two intervals of junk (from 0 s and from 5 s): 10 lines each, and a count of what each held back.
        #expect(written.count == 2 * 10 + 2, "\(written.count) lines")
        #expect(counts.count == 2)
        #expect(Self.suppressed(written) + 20 == 3 * 10_208 / 4)  // each forged handshake message: a line, or counted
    }

    @Test func aJunkFloodThroughTheHandshakeThreadLeavesABoundedLog() {
        let b = timers.b, lines = Lines()
        b.log = { lines.append($0) }
        for round in 0..<100 {
            let now = Double(round) * 0.1
            b.prepareInbound(HandshakeQueueTests.batch(Array(repeating: HandshakeQueueTests.junkInitiation, count: 64), from: timers.aEndpoint), now: now)
            while b.serviceHandshakes(timeout: 0) != nil {}
            _ = b.tick(now: now)
        }
        _ = b.tick(now: 10)
        let written = lines.all
        #expect(b.drops.unauthenticated == 6400)
        #expect(written.count <= 3 * 10 + 3, "\(written.count) lines")
        #expect(Self.suppressed(written) + written.count - written.filter { $0.hasSuffix(" messages suppressed") }.count == 6400)
    }

    /// The limiter alone: a burst of 10, the rest counted, the count told when the interval ends.
    @Test func theLimiterLetsABurstThroughAndCountsTheRest() {
        var limiter = LogRateLimiter()
        let first = (0..<25).map { limiter.admit(now: 1 + Double($0) * 0.1) }
        #expect(first.filter(\.allowed).count == 10 && first.allSatisfy { $0.suppressed == 0 })
        #expect(limiter.expire(now: 5.9) == 0)  // the interval (from 1 s) is not over
        #expect(limiter.admit(now: 6.0) == (allowed: true, suppressed: 15))
        #expect(limiter.expire(now: 11.0) == 0)  // nothing held back since
    }
}
