/// WireGuard's hash, MAC, HMAC and HKDF over BLAKE2s (whitepaper, section 5.4).
public enum WireGuardHash {
    /// HASH(input): BLAKE2s-256.
    public static func hash(_ parts: [UInt8]...) -> [UInt8] {
        var state = BLAKE2s()
        for part in parts { state.update(part) }
        return state.finalize()
    }

    /// MAC(key, input): keyed BLAKE2s-128, for mac1 and mac2.
    public static func mac(key: [UInt8], _ input: [UInt8]) -> [UInt8] {
        BLAKE2s.hash(input, outputLength: 16, key: key)
    }

    /// HMAC(key, input) with BLAKE2s-256 and its 64-byte block (RFC 2104).
    public static func hmac(key: [UInt8], _ input: [UInt8]) -> [UInt8] {
        var block = key.count > BLAKE2s.blockLength ? BLAKE2s.hash(key) : key
        block += [UInt8](repeating: 0, count: BLAKE2s.blockLength - block.count)
        var inner = BLAKE2s()
        inner.update(block.map { $0 ^ 0x36 })
        inner.update(input)
        var outer = BLAKE2s()
        outer.update(block.map { $0 ^ 0x5c })
        outer.update(inner.finalize())
        return outer.finalize()
    }

    /// KDF_n(key, input): n 32-byte outputs (n = 1...3), as WireGuard's HKDF.
    public static func kdf(_ n: Int, key: [UInt8], input: [UInt8]) -> [[UInt8]] {
        precondition((1...3).contains(n))
        let prk = hmac(key: key, input)
        var outputs: [[UInt8]] = []
        var previous: [UInt8] = []
        for i in 1...n {
            previous = hmac(key: prk, previous + [UInt8(i)])
            outputs.append(previous)
        }
        return outputs
    }
}
