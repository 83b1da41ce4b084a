// WireGuard's hash, MAC, HMAC and HKDF over BLAKE2s (whitepaper, section 5.4).
//
// Two faces. Over arrays, for public values (the protocol's constants, mac1 and mac2, test
// vectors). Over `Secret`s, for the handshake's chaining keys, hashes and DH results: inputs are
// read and outputs written where they lie, and what the computation holds on the way (HMAC's
// padded key blocks, its inner digest, HKDF's pseudorandom key) sits in scratch memory that is
// wiped before the call returns, as the kernel's noise.c memzero_explicit()s its own.

import Foundation

/// HASH, MAC, HMAC and KDF_n as the whitepaper names them.
public enum WireGuardHash {
    /// HASH(input): BLAKE2s-256.
    public static func hash(_ parts: [UInt8]...) -> [UInt8] {
        var state = BLAKE2s()
        for part in parts { state.update(part) }
        return state.finalize()
    }

    /// HASH(parts...) written into `output` (which may be one of the parts: Noise's h = HASH(h || x)).
    public static func hash(into output: Secret, _ parts: any ContiguousBytes...) {
        precondition(output.count == 32)
        var state = BLAKE2s()
        for part in parts { part.withUnsafeBytes { state.update($0) } }
        state.finalize(into: output.bytes)
    }

    /// MAC(key, input): keyed BLAKE2s-128, for mac1 and mac2.
    public static func mac(key: [UInt8], _ input: [UInt8]) -> [UInt8] {
        BLAKE2s.hash(input, outputLength: 16, key: key)
    }

    /// MAC(key, input) with a secret key (the responder's cookie secret).
    public static func mac(key: Secret, _ input: [UInt8]) -> [UInt8] {
        var state = BLAKE2s(outputLength: 16, key: UnsafeRawBufferPointer(start: key.bytes, count: key.count))
        state.update(input)
        return state.finalize()
    }

    /// HMAC(key, input) with BLAKE2s-256 and its 64-byte block (RFC 2104).
    public static func hmac(key: [UInt8], _ input: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        key.withUnsafeBytes { key in
            input.withUnsafeBytes { input in
                out.withUnsafeMutableBytes { hmac(key: key, input, nil, into: $0.baseAddress!) }
            }
        }
        return out
    }

    /// KDF_n(key, input): n 32-byte outputs (n = 1...3), as WireGuard's HKDF.
    public static func kdf(_ n: Int, key: [UInt8], input: [UInt8]) -> [[UInt8]] {
        let outputs = (0..<n).map { _ in Secret() }
        kdf(key: Secret(copying: key), input: input, into: outputs)
        return outputs.map { $0.withUnsafeBytes { Array($0) } }
    }

    /// KDF_n(key, input) into the n given secrets (1...3); the first may be `key` itself (Noise's
    /// ck = KDF(ck, x)), which is read in full before it is written.
    public static func kdf(key: Secret, input: some ContiguousBytes, into outputs: Secret...) {
        kdf(key: key, input: input, into: outputs)
    }

    static func kdf(key: Secret, input: some ContiguousBytes, into outputs: [Secret]) {
        precondition((1...3).contains(outputs.count) && outputs.allSatisfy { $0.count == 32 })
        withScratch(32) { prk in
            input.withUnsafeBytes { hmac(key: UnsafeRawBufferPointer(start: key.bytes, count: key.count), $0, nil, into: prk) }
            let prkBytes = UnsafeRawBufferPointer(start: prk, count: 32)
            // T(i) = HMAC(prk, T(i-1) || i), T(0) empty.
            var previous = UnsafeRawBufferPointer(start: nil, count: 0)
            for (index, output) in outputs.enumerated() {
                var counter = UInt8(index + 1)
                withUnsafeBytes(of: &counter) { hmac(key: prkBytes, previous, $0, into: output.bytes) }
                previous = UnsafeRawBufferPointer(start: output.bytes, count: 32)
            }
        }
    }

    /// HMAC-BLAKE2s(key, first || second) into 32 bytes at `output` (which may alias the key).
    static func hmac(key: UnsafeRawBufferPointer, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer?,
                     into output: UnsafeMutableRawPointer) {
        let blockLength = BLAKE2s.blockLength
        withScratch(blockLength + 32) { scratch in
            let block = scratch.assumingMemoryBound(to: UInt8.self), inner = scratch + blockLength
            if key.count > blockLength {
                var state = BLAKE2s()
                state.update(key)
                state.finalize(into: scratch)
            } else if !key.isEmpty {
                scratch.copyMemory(from: key.baseAddress!, byteCount: key.count)
            }
            for i in 0..<blockLength { block[i] ^= 0x36 }
            var innerState = BLAKE2s()
            innerState.update(UnsafeRawBufferPointer(start: scratch, count: blockLength))
            innerState.update(first)
            if let second { innerState.update(second) }
            innerState.finalize(into: inner)
            for i in 0..<blockLength { block[i] ^= 0x36 ^ 0x5c }
            var outerState = BLAKE2s()
            outerState.update(UnsafeRawBufferPointer(start: scratch, count: blockLength + 32))
            outerState.finalize(into: output)
        }
    }

    /// `count` zeroed bytes for intermediate key material, wiped when `body` returns.
    static func withScratch<R>(_ count: Int, _ body: (UnsafeMutableRawPointer) -> R) -> R {
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 16)
        scratch.initializeMemory(as: UInt8.self, repeating: 0, count: count)
        defer {
            SecureMemory.wipe(scratch, count: count)
            scratch.deallocate()
        }
        return body(scratch)
    }
}
