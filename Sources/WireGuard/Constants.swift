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
    public static let cookieRefreshTime = 120.0
    /// Up to this much random jitter is added to each handshake retransmission.
    public static let rekeyTimeoutJitterMax = 0.333

    // The device's defences.
    /// At most this many initiations a second are accepted from one peer (INITIATIONS_PER_SECOND).
    public static let initiationsPerSecond = 50.0
    /// Packets a peer keeps while it waits for a session; the oldest go first (the kernel keeps 128).
    public static let maxStagedPackets = 64
}
