import Foundation
import WireGuardCrypto

/// A 32-byte key that the test itself never holds in plain form: kept as `masked` XOR `mask` and
/// unmasked a byte at a time where it is written or compared, so that a scan of memory finds only
/// the copies the code under test made.
struct MaskedKey: Sendable {
    private let masked: [UInt8]
    private let mask: [UInt8]

    /// A random X25519 private key, clamped as WireGuard clamps them.
    static func privateKey() -> MaskedKey {
        while true {
            // The scan looks for the first byte with memchr: a zero there would stop at every zero
            // byte of memory and take seconds.
            let key = draw()
            if key[0] != 0 && key[1] != 0 { return key }
        }
    }

    private static func draw() -> MaskedKey {
        var random = SystemRandomNumberGenerator()
        let mask = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        var masked = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        masked[0] = ((masked[0] ^ mask[0]) & 248) ^ mask[0]
        masked[31] = (((masked[31] ^ mask[31]) & 127) | 64) ^ mask[31]
        return MaskedKey(masked: masked, mask: mask)
    }

    subscript(index: Int) -> UInt8 { masked[index] ^ mask[index] }

    func write(to bytes: UnsafeMutableRawBufferPointer) {
        for index in 0..<32 { bytes[index] = self[index] }
    }

    /// For `private_key=` in a UAPI request: hex digits, never the bytes.
    var hex: String {
        let digits = Array("0123456789abcdef")
        return String((0..<32).flatMap { index -> [Character] in [digits[Int(self[index] >> 4)], digits[Int(self[index] & 15)]] })
    }
}

/// This process's own memory, read as a debugger would: every readable and writable mapping in
/// /proc/self/maps (heap, stacks, anonymous maps, data segments), through pread on /proc/self/mem;
/// a mapping that cannot be read is skipped.
enum ProcessMemory {
    /// How many times `key` lies in memory now; nil if /proc cannot be read at all.
    static func occurrences(of key: MaskedKey) -> Int? {
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return nil }
        let fd = open("/proc/self/mem", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // Chunks overlap by 31 bytes so that a key across a boundary is seen, and only once: a
        // match must end inside the chunk it starts in.
        let chunk = 1 << 20, overlap = 31
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk + overlap, alignment: 16)
        defer {
            SecureMemory.wipe(buffer, count: chunk + overlap)  // it may hold a copy of what it found
            buffer.deallocate()
        }
        var found = 0
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[1].hasPrefix("rw") else { continue }
            let bounds = fields[0].split(separator: "-").compactMap { UInt64($0, radix: 16) }
            guard bounds.count == 2 else { continue }
            var offset = bounds[0]
            while offset < bounds[1] {
                let length = Int(min(UInt64(chunk + overlap), bounds[1] - offset))
                let read = pread(fd, buffer, length, off_t(offset))
                guard read > 0 else { break }
                found += matches(of: key, in: UnsafeRawBufferPointer(start: buffer, count: read))
                offset += UInt64(chunk)
            }
        }
        return found
    }

    private static func matches(of key: MaskedKey, in bytes: UnsafeRawBufferPointer) -> Int {
        guard bytes.count >= 32, let base = bytes.baseAddress else { return 0 }
        let end = base + bytes.count
        var from = base
        var count = 0
        while end - from >= 32, let hit = memchr(from, Int32(key[0]), end - from).map(UnsafeRawPointer.init) {
            if end - hit >= 32 && (1..<32).allSatisfy({ hit.load(fromByteOffset: $0, as: UInt8.self) == key[$0] }) { count += 1 }
            from = hit + 1
        }
        return count
    }
}
