/// BLAKE2s (RFC 7693) in Swift: libsodium has only BLAKE2b, and WireGuard hashes with BLAKE2s.
/// Keyed or not, digests of 1 to 32 bytes, incremental.
///
/// The state holds keys (a keyed hash's first block is the key; HMAC's blocks are the key XOR a
/// pad) and what is derived from them, so all of it, the compression's working words included,
/// lives in one allocation of its own that is wiped when the state goes: `~Copyable`, so there is
/// exactly one. Secret digests are written straight into the caller's memory (`finalize(into:)`).
public struct BLAKE2s: ~Copyable {
    public static let blockLength = 64
    public static let maxOutputLength = 32

    static let iv: [UInt32] = [0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A, 0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19]
    static let sigma: [[Int]] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
        [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
        [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
        [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
        [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
        [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
        [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
        [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
        [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    ]

    // The allocation: the chaining value h (8 words), the working vector v (16), the message
    // words m (16), then the 64-byte input block.
    private static let stateBytes = (8 + 16 + 16) * 4 + 64
    private let h: UnsafeMutablePointer<UInt32>
    private var v: UnsafeMutablePointer<UInt32> { h + 8 }
    private var m: UnsafeMutablePointer<UInt32> { h + 24 }
    private var block: UnsafeMutableRawPointer { UnsafeMutableRawPointer(h + 40) }
    private var t: UInt64 = 0
    private var buffered = 0
    public let outputLength: Int

    /// A hash of `outputLength` bytes (1...32), keyed with up to 32 bytes when `key` is not empty.
    public init(outputLength: Int = 32, key: [UInt8] = []) {
        self.init(outputLength: outputLength, keyLength: key.count)
        let block = self.block
        key.withUnsafeBytes { if !$0.isEmpty { block.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
    }

    /// Keyed with bytes read where they lie (a secret).
    init(outputLength: Int = 32, key: UnsafeRawBufferPointer) {
        self.init(outputLength: outputLength, keyLength: key.count)
        if !key.isEmpty { block.copyMemory(from: key.baseAddress!, byteCount: key.count) }
    }

    private init(outputLength: Int, keyLength: Int) {
        precondition((1...32).contains(outputLength) && keyLength <= 32, "BLAKE2s: digest 1-32 bytes, key up to 32")
        self.outputLength = outputLength
        let raw = UnsafeMutableRawPointer.allocate(byteCount: Self.stateBytes, alignment: 16)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: Self.stateBytes)
        h = raw.assumingMemoryBound(to: UInt32.self)
        for i in 0..<8 { h[i] = Self.iv[i] }
        h[0] ^= 0x0101_0000 ^ (UInt32(keyLength) << 8) ^ UInt32(outputLength)
        // The key, padded with zeros, is the first block; the caller copies it in.
        if keyLength > 0 { buffered = 64 }
    }

    deinit {
        SecureMemory.wipe(UnsafeMutableRawPointer(h), count: Self.stateBytes)
        h.deallocate()
    }

    public mutating func update<Bytes: Collection>(_ input: Bytes) where Bytes.Element == UInt8 {
        if input.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) != nil { return }
        for byte in input { withUnsafeBytes(of: byte) { update($0) } }
    }

    /// Input read where it lies (a secret, part of a message).
    public mutating func update(_ input: UnsafeRawBufferPointer) {
        guard var next = input.baseAddress else { return }
        var left = input.count
        while left > 0 {
            if buffered == 64 {
                t &+= 64
                compress(last: false)
                buffered = 0
            }
            let take = min(64 - buffered, left)
            (block + buffered).copyMemory(from: next, byteCount: take)
            buffered += take
            next += take
            left -= take
        }
    }

    public consuming func finalize() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: outputLength) { bytes, count in
            finalize(into: UnsafeMutableRawPointer(bytes.baseAddress!))
            count = outputLength
        }
    }

    /// Writes the `outputLength`-byte digest at `output`.
    public mutating func finalize(into output: UnsafeMutableRawPointer) {
        OperationCounts.countBLAKE2s()
        t &+= UInt64(buffered)
        (block + buffered).initializeMemory(as: UInt8.self, repeating: 0, count: 64 - buffered)
        compress(last: true)
        for i in 0..<outputLength { output.storeBytes(of: UInt8(truncatingIfNeeded: h[i / 4] >> UInt32(8 * (i % 4))), toByteOffset: i, as: UInt8.self) }
    }

    /// One-shot hash.
    public static func hash<Bytes: Collection>(_ input: Bytes, outputLength: Int = 32, key: [UInt8] = []) -> [UInt8] where Bytes.Element == UInt8 {
        var state = BLAKE2s(outputLength: outputLength, key: key)
        state.update(input)
        return state.finalize()
    }

    private func compress(last: Bool) {
        let v = self.v, m = self.m, block = self.block
        for i in 0..<16 { m[i] = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        for i in 0..<8 {
            v[i] = h[i]
            v[i + 8] = Self.iv[i]
        }
        v[12] ^= UInt32(truncatingIfNeeded: t)
        v[13] ^= UInt32(truncatingIfNeeded: t >> 32)
        if last { v[14] = ~v[14] }
        @inline(__always) func g(_ a: Int, _ b: Int, _ c: Int, _ d: Int, _ x: UInt32, _ y: UInt32) {
            v[a] = v[a] &+ v[b] &+ x; v[d] = (v[d] ^ v[a]).rotatedRight(16)
            v[c] = v[c] &+ v[d]; v[b] = (v[b] ^ v[c]).rotatedRight(12)
            v[a] = v[a] &+ v[b] &+ y; v[d] = (v[d] ^ v[a]).rotatedRight(8)
            v[c] = v[c] &+ v[d]; v[b] = (v[b] ^ v[c]).rotatedRight(7)
        }
        for round in 0..<10 {
            let s = Self.sigma[round]
            g(0, 4, 8, 12, m[s[0]], m[s[1]])
            g(1, 5, 9, 13, m[s[2]], m[s[3]])
            g(2, 6, 10, 14, m[s[4]], m[s[5]])
            g(3, 7, 11, 15, m[s[6]], m[s[7]])
            g(0, 5, 10, 15, m[s[8]], m[s[9]])
            g(1, 6, 11, 12, m[s[10]], m[s[11]])
            g(2, 7, 8, 13, m[s[12]], m[s[13]])
            g(3, 4, 9, 14, m[s[14]], m[s[15]])
        }
        for i in 0..<8 { h[i] ^= v[i] ^ v[i + 8] }
    }
}

extension UInt32 {
    @inline(__always) func rotatedRight(_ n: UInt32) -> UInt32 { (self >> n) | (self << (32 - n)) }
}
