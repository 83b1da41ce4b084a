// Wire constants and message layouts of the WireGuard protocol (whitepaper section 5.4), as the
// kernel's messages.h; the timers and limits are in Constants.swift.

/// Message types (first byte, then three reserved zero bytes).
public enum MessageType: UInt8, Sendable {
    case initiation = 1
    case response = 2
    case cookieReply = 3
    case transport = 4
}

public enum WireConstants {
    public static let initiationLength = 148
    public static let responseLength = 92
    public static let cookieReplyLength = 64
    /// Header of a transport message: type, reserved, receiver index, 64-bit counter.
    public static let transportHeaderLength = 16
    public static let minimumTransportLength = transportHeaderLength + 16
    /// Plaintext is padded to a multiple of this.
    public static let paddingMultiple = 16

    public static let construction = Array("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s".utf8)
    public static let identifier = Array("WireGuard v1 zx2c4 Jason@zx2c4.com".utf8)
    public static let labelMAC1 = Array("mac1----".utf8)
    public static let labelCookie = Array("cookie--".utf8)
}

/// Byte offsets inside the handshake messages.
enum Layout {
    enum Initiation {
        static let sender = 4..<8
        static let ephemeral = 8..<40
        static let encryptedStatic = 40..<88
        static let encryptedTimestamp = 88..<116
        static let mac1 = 116..<132
        static let mac2 = 132..<148
    }

    enum Response {
        static let sender = 4..<8
        static let receiver = 8..<12
        static let ephemeral = 12..<44
        static let encryptedNothing = 44..<60
        static let mac1 = 60..<76
        static let mac2 = 76..<92
    }

    enum CookieReply {
        static let receiver = 4..<8
        static let nonce = 8..<32
        static let encryptedCookie = 32..<64
    }
}

extension Array where Element == UInt8 {
    func readUInt32LE(at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(self[offset + $1]) << (8 * UInt32($1)) }
    }

    func readUInt64LE(at offset: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(self[offset + $1]) << (8 * UInt64($1)) }
    }

    mutating func writeUInt32LE(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }
}
