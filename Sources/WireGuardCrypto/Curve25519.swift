import CSodium

private let sodiumReady: Bool = sodium_init() >= 0

/// X25519 keys as WireGuard uses them (RFC 7748), through libsodium.
///
/// Two faces. Over `Secret`s, for the protocol: private keys and shared secrets are read and
/// written where they lie (libsodium clamps its copy of the scalar in the output buffer, which
/// the result then overwrites). Over arrays, for the harness, which generates keys to write them
/// into configuration files, and for test vectors.
public enum Curve25519 {
    public static let keyLength = 32

    /// Writes a new private key from the system's CSPRNG, clamped, into `key`.
    public static func generatePrivateKey(into key: Secret) {
        precondition(sodiumReady, "libsodium failed to initialise")
        precondition(key.count == keyLength, "X25519 keys are 32 bytes")
        randombytes_buf(key.bytes, keyLength)
        let bytes = key.bytes.assumingMemoryBound(to: UInt8.self)
        bytes[0] &= 248
        bytes[31] = (bytes[31] & 127) | 64
    }

    /// A new private key in memory of its own.
    public static func newPrivateKey() -> Secret {
        let key = Secret(count: keyLength)
        generatePrivateKey(into: key)
        return key
    }

    /// The public key of a private key (scalar multiplication by the base point).
    public static func publicKey(of privateKey: Secret) -> [UInt8] {
        precondition(sodiumReady, "libsodium failed to initialise")
        precondition(privateKey.count == keyLength, "X25519 keys are 32 bytes")
        var key = [UInt8](repeating: 0, count: keyLength)
        // libsodium clamps a copy of the scalar in `key` before it writes the point there.
        let rc = key.withUnsafeMutableBufferPointer {
            crypto_scalarmult_curve25519_base($0.baseAddress!, privateKey.bytes.assumingMemoryBound(to: UInt8.self))
        }
        precondition(rc == 0, "crypto_scalarmult_curve25519_base failed")
        return key
    }

    /// DH(privateKey, publicKey) into `output`; false when the result is all zeros (a low-order
    /// point), and `output` is then zeros too.
    public static func sharedSecret(privateKey: Secret, publicKey: [UInt8], into output: Secret) -> Bool {
        precondition(sodiumReady, "libsodium failed to initialise")
        precondition(privateKey.count == keyLength && publicKey.count == keyLength && output.count == keyLength, "X25519 keys are 32 bytes")
        OperationCounts.countX25519()
        let rc = crypto_scalarmult_curve25519(output.bytes.assumingMemoryBound(to: UInt8.self),
                                              privateKey.bytes.assumingMemoryBound(to: UInt8.self), publicKey)
        return rc == 0
    }

    /// A new private key from the system's CSPRNG, clamped as WireGuard clamps it.
    public static func generatePrivateKey() -> [UInt8] {
        let key = newPrivateKey()
        return key.withUnsafeBytes { Array($0) }
    }

    /// The public key of a private key.
    public static func publicKey(privateKey: [UInt8]) -> [UInt8] {
        publicKey(of: Secret(copying: privateKey))
    }

    /// The shared secret of a private and a public key; nil when the result is all zeros (a low-order point).
    public static func sharedSecret(privateKey: [UInt8], publicKey: [UInt8]) -> [UInt8]? {
        let output = Secret(count: keyLength)
        guard sharedSecret(privateKey: Secret(copying: privateKey), publicKey: publicKey, into: output) else { return nil }
        return output.withUnsafeBytes { Array($0) }
    }
}
