// Handshakes per source address, as the kernel's ratelimiter.c: a token bucket per IPv4 address
// or IPv6 /64 that lets a burst of 5 through and then 20 a second. The device asks it only under
// load and only for messages that carry a valid cookie (mac2), so that a flood from one source
// cannot take all the handshake thread's time from the others. Entries idle for a second are
// forgotten; a full table denies new sources (the kernel's choice: memory stays bounded).

struct RateLimiter {
    /// The kernel's PACKETS_PER_SECOND and PACKETS_BURST.
    static let packetsPerSecond = WireConstants.handshakesPerSecondPerSource
    static let burst = WireConstants.handshakeBurstPerSource
    static let packetCost = 1 / packetsPerSecond
    static let tokenMax = packetCost * burst
    let maximumEntries: Int

    private struct Key: Hashable {
        let prefix: UInt64
        let isIPv6: Bool
    }
    private var entries: [Key: (tokens: Double, last: Double)] = [:]
    private var lastCollection = -Double.infinity

    init(maximumEntries: Int = WireConstants.maxRateLimiterEntries) {
        self.maximumEntries = maximumEntries
    }

    /// Whether one more handshake message from `source` may be processed at `now` (seconds).
    mutating func allow(_ source: Endpoint, now: Double) -> Bool {
        if now - lastCollection >= 1 { collect(now: now) }
        let key = Key(prefix: source.addressPrefix64, isIPv6: source.isIPv6)
        guard let entry = entries[key] else {
            guard entries.count < maximumEntries else { return false }
            entries[key] = (Self.tokenMax - Self.packetCost, now)
            return true
        }
        let tokens = min(Self.tokenMax, entry.tokens + max(0, now - entry.last))
        let allowed = tokens >= Self.packetCost
        entries[key] = (allowed ? tokens - Self.packetCost : tokens, now)
        return allowed
    }

    var count: Int { entries.count }

    /// Forgets sources not seen for a second (the kernel's garbage collection, every second).
    private mutating func collect(now: Double) {
        lastCollection = now
        entries = entries.filter { now - $0.value.last < 1 }
    }
}
