// The Internet checksum (RFC 1071) over raw bytes, and the TCP/UDP pseudo-header sums, for the
// TUN offloads: segments cut from a super-packet need their checksums, and so do packets the
// kernel hands over with the checksum left to us (VIRTIO_NET_HDR_F_NEEDS_CSUM).

public enum Checksum {
    /// The one's-complement sum of `count` bytes at `bytes`, added to `initial`, not folded.
    public static func sum(_ bytes: UnsafeRawPointer, count: Int, initial: UInt64 = 0) -> UInt64 {
        var total = initial
        var offset = 0
        // 32-bit words into a 64-bit accumulator: no carry can be lost before folding.
        while offset + 4 <= count {
            total &+= UInt64(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            offset += 4
        }
        if offset + 2 <= count {
            total &+= UInt64(UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
            offset += 2
        }
        if offset < count { total &+= UInt64(bytes.load(fromByteOffset: offset, as: UInt8.self)) << 8 }
        return total
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
