import CSodium

private let sodiumReady: Bool = sodium_init() >= 0

/// X25519 keys as WireGuard uses them (RFC 7748), through libsodium.
public enum Curve25519 {
    public static let keyLength = 32

    /// A new private key from the system's CSPRNG, clamped as WireGuard clamps it.
    public static func generatePrivateKey() -> [UInt8] {
        precondition(sodiumReady, "libsodium failed to initialise")
        var key = [UInt8](repeating: 0, count: keyLength)
        key.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, keyLength) }
        key[0] &= 248
        key[31] = (key[31] & 127) | 64
        return key
    }

    /// Writes a new private key from the system's CSPRNG, clamped, into `key`.
    public static func generatePrivateKey(into key: Secret) {
        precondition(sodiumReady, "libsodium failed to initialise")
        key.withUnsafeMutableBytes { bytes in
            randombytes_buf(bytes.baseAddress!, keyLength)
            bytes[0] &= 248
            bytes[31] = (bytes[31] & 127) | 64
        }
    }

    /// The public key of a private key (scalar multiplication by the base point).
    public static func publicKey(privateKey: [UInt8]) -> [UInt8] {
        precondition(sodiumReady, "libsodium failed to initialise")
        precondition(privateKey.count == keyLength, "X25519 keys are 32 bytes")
        var key = [UInt8](repeating: 0, count: keyLength)
        let rc = key.withUnsafeMutableBufferPointer { out in
            privateKey.withUnsafeBufferPointer { crypto_scalarmult_curve25519_base(out.baseAddress!, $0.baseAddress!) }
        }
        precondition(rc == 0, "crypto_scalarmult_curve25519_base failed")
        return key
    }

    /// The shared secret of a private and a public key; nil when the result is all zeros (a low-order point).
    public static func sharedSecret(privateKey: [UInt8], publicKey: [UInt8]) -> [UInt8]? {
        precondition(sodiumReady, "libsodium failed to initialise")
        precondition(privateKey.count == keyLength && publicKey.count == keyLength, "X25519 keys are 32 bytes")
        OperationCounts.countX25519()
        var secret = [UInt8](repeating: 0, count: keyLength)
        let rc = secret.withUnsafeMutableBufferPointer { out in
            privateKey.withUnsafeBufferPointer { priv in
                publicKey.withUnsafeBufferPointer { crypto_scalarmult_curve25519(out.baseAddress!, priv.baseAddress!, $0.baseAddress!) }
            }
        }
        return rc == 0 ? secret : nil
    }
}
