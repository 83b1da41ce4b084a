/// TAI64N timestamps (12 bytes, big-endian) for handshake initiations: a responder accepts an
/// initiation only if its timestamp is newer than the last one from that peer (replay protection).
public struct TAI64N: Comparable, Sendable {
    public let seconds: UInt64
    public let nanoseconds: UInt32

    public init(seconds: UInt64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// From Unix time; TAI64 labels start at 2^62, plus the 10 s TAI-UTC offset of 1970.
    public init(unixSeconds: UInt64, nanoseconds: UInt32) {
        self.init(seconds: 0x4000_0000_0000_000A &+ unixSeconds, nanoseconds: nanoseconds)
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 12 else { return nil }
        seconds = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        nanoseconds = bytes[8..<12].reduce(0) { $0 << 8 | UInt32($1) }
    }

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: seconds >> (56 - 8 * UInt64($0))) }
            + (0..<4).map { UInt8(truncatingIfNeeded: nanoseconds >> (24 - 8 * UInt32($0))) }
    }

    public static func < (a: TAI64N, b: TAI64N) -> Bool { (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds) }
}
