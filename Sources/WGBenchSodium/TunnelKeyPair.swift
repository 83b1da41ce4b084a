import CSodium
import Foundation

/// An X25519 key pair for one end of a tunnel, base64 as `wg genkey` and `wg pubkey` print it:
/// the harness writes keys into `wg setconf` input, never into the datapath's memory, so it has
/// its own libsodium calls instead of linking the datapath's crypto.
public struct TunnelKeyPair: Sendable, Equatable {
    public let privateKey: String
    public let publicKey: String

    static let keyLength = 32

    /// A new pair: a private key from libsodium's CSPRNG, clamped as `wg genkey` clamps it.
    public static func generate() -> TunnelKeyPair {
        var key = [UInt8](repeating: 0, count: keyLength)
        Sodium.ready()
        key.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, keyLength) }
        key[0] &= 248
        key[31] = (key[31] & 127) | 64
        defer { key.withUnsafeMutableBytes { sodium_memzero($0.baseAddress!, keyLength) } }
        return TunnelKeyPair(privateKey: Data(key).base64EncodedString(), publicKey: Data(publicKey(of: key)).base64EncodedString())
    }

    /// The public key of a base64 private key, as `wg pubkey` derives it; nil for anything but 32 bytes of base64.
    public static func publicKey(ofPrivateKey base64: String) -> String? {
        guard let data = Data(base64Encoded: base64), data.count == keyLength else { return nil }
        return Data(publicKey(of: [UInt8](data))).base64EncodedString()
    }

    /// Wraps crypto_scalarmult_curve25519_base (which clamps its own copy of the scalar).
    private static func publicKey(of privateKey: [UInt8]) -> [UInt8] {
        Sodium.ready()
        var point = [UInt8](repeating: 0, count: keyLength)
        let rc = point.withUnsafeMutableBufferPointer { out in
            privateKey.withUnsafeBufferPointer { crypto_scalarmult_curve25519_base(out.baseAddress!, $0.baseAddress!) }
        }
        precondition(rc == 0, "crypto_scalarmult_curve25519_base failed")
        return point
    }
}
