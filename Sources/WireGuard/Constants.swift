// Every timer and limit in one place, as wireguard-go's constants.go and the kernel's messages.h:
// the protocol's (whitepaper section 6) and the device's own defences against floods.

extension WireConstants {
    // The protocol's timers and limits (section 6).
    public static let rekeyAfterMessages: UInt64 = 1 << 60
    public static let rejectAfterMessages: UInt64 = UInt64.max - (1 << 13)
    public static let rekeyAfterTime = 120.0
    public static let rejectAfterTime = 180.0
    public static let rekeyAttemptTime = 90.0
    public static let rekeyTimeout = 5.0
    public static let keepaliveTimeout = 10.0
    /// Data sent and nothing authenticated received for this long: the session is taken for dead
    /// and a new handshake starts (the kernel's new_handshake timer, KEEPALIVE_TIMEOUT + REKEY_TIMEOUT).
    public static let newHandshakeTimeout = keepaliveTimeout + rekeyTimeout
    public static let cookieRefreshTime = 120.0
    /// Up to this much random jitter is added to each handshake retransmission.
    public static let rekeyTimeoutJitterMax = 0.333

    // The device's defences.
    /// At most this many initiations a second are accepted from one peer (INITIATIONS_PER_SECOND).
    public static let initiationsPerSecond = 50.0
    /// Handshake messages waiting for the handshake thread; more are dropped (MAX_QUEUED_INCOMING_HANDSHAKES).
    public static let maxQueuedHandshakes = 4096
    /// The device is under load while this many wait, and for `underLoadAfterTime` after.
    public static let underLoadQueueLength = maxQueuedHandshakes / 8
    public static let underLoadAfterTime = 1.0
    /// Under load, handshake messages with a valid cookie per source address (IPv4, IPv6 /64):
    /// a burst, then a rate (ratelimiter.c's PACKETS_BURST, PACKETS_PER_SECOND).
    public static let handshakeBurstPerSource = 5.0
    public static let handshakesPerSecondPerSource = 20.0
    /// Sources the rate limiter remembers at once; new ones are denied beyond.
    public static let maxRateLimiterEntries = 65536
    /// Log lines the network can cause: at most this many each `logInterval` seconds, the rest
    /// counted and told as suppressed (the kernel's net_ratelimit: DEFAULT_RATELIMIT_BURST per
    /// DEFAULT_RATELIMIT_INTERVAL).
    public static let logBurst = 10
    public static let logInterval = 5.0
    /// Packets a peer keeps while it waits for a session; the oldest go first (the kernel keeps 128).
    public static let maxStagedPackets = 64
}
