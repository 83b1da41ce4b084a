// The Internet checksum (RFC 1071) over raw bytes, and the TCP/UDP pseudo-header sums, for the
// TUN offloads: segments cut from a super-packet need their checksums, and so do packets the
// kernel hands over with the checksum left to us (VIRTIO_NET_HDR_F_NEEDS_CSUM).

public enum Checksum {
    /// The one's-complement sum of `count` bytes at `bytes` (as 16-bit words in network order),
    /// added to `initial`, not folded.
    ///
    /// Summed as the host's 32-bit words into four 64-bit accumulators (no carry to propagate, and
    /// the compiler vectorises it), folded, and byte-swapped once at the end: the one's-complement
    /// sum is independent of byte order (RFC 1071, 2.B). Segmenting and coalescing TCP checksum
    /// every segment, so this runs over every byte the tunnel carries.
    public static func sum(_ bytes: UnsafeRawPointer, count: Int, initial: UInt64 = 0) -> UInt64 {
        var a: UInt64 = 0, b: UInt64 = 0, c: UInt64 = 0, d: UInt64 = 0
        var offset = 0
        while offset + 16 <= count {
            a &+= UInt64(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            b &+= UInt64(bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
            c &+= UInt64(bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
            d &+= UInt64(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            offset += 16
        }
        while offset + 4 <= count {
            a &+= UInt64(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            offset += 4
        }
        if offset + 2 <= count {
            b &+= UInt64(bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            offset += 2
        }
        // A last odd byte is the first (network-order high) byte of a 16-bit word: in memory order, its low byte.
        if offset < count { c &+= UInt64(UInt16(bytes.load(fromByteOffset: offset, as: UInt8.self)).littleEndian) }
        // Each accumulator is below 2^49 for 64 KiB, so their sum cannot overflow.
        let folded = fold(a &+ b &+ c &+ d)
        return initial &+ UInt64(UInt16(bigEndian: folded))
    }

    /// Folds a sum to 16 bits (not complemented).
    public static func fold(_ sum: UInt64) -> UInt16 {
        var value = sum
        while value > 0xffff { value = (value & 0xffff) + (value >> 16) }
        return UInt16(value)
    }

    /// The checksum to store: the complement of the folded sum.
    public static func finish(_ sum: UInt64) -> UInt16 { ~fold(sum) }

    /// The sum of the pseudo-header of a TCP or UDP segment of `length` bytes (header included) in
    /// the IPv4 or IPv6 `packet`.
    public static func pseudoHeader(_ packet: UnsafeRawPointer, isIPv6: Bool, protocol number: UInt8, length: Int) -> UInt64 {
        let addresses = isIPv6 ? sum(packet + 8, count: 32) : sum(packet + 12, count: 8)
        return addresses &+ UInt64(number) &+ UInt64(length)
    }

    /// Computes and stores the IPv4 header checksum.
    public static func setIPv4Header(_ packet: UnsafeMutableRawPointer, headerLength: Int) {
        packet.storeBytes(of: 0, toByteOffset: 10, as: UInt16.self)
        packet.storeBytes(of: finish(sum(packet, count: headerLength)).bigEndian, toByteOffset: 10, as: UInt16.self)
    }
}
