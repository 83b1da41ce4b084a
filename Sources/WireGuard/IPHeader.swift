// Where the addresses and the length lie in an IPv4 or IPv6 header: the crypto-routing lookups
// (destination on send, source on receive) and the padding the receiver strips.

extension Device {

    /// Where the destination address lies in an IPv4 or IPv6 packet, and its length.
    static func destinationField(_ packet: UnsafeRawBufferPointer) -> (offset: Int, count: Int)? {
        guard let first = packet.first else { return nil }
        if first >> 4 == 4, packet.count >= 20 { return (16, 4) }
        if first >> 4 == 6, packet.count >= 40 { return (24, 16) }
        return nil
    }

    static func sourceField(_ packet: UnsafeRawBufferPointer) -> (offset: Int, count: Int)? {
        guard let first = packet.first else { return nil }
        if first >> 4 == 4, packet.count >= 20 { return (12, 4) }
        if first >> 4 == 6, packet.count >= 40 { return (8, 16) }
        return nil
    }

    /// The packet's length by its IP header (the rest of the plaintext is padding); nil if it does not fit.
    static func ipLength(_ plaintext: UnsafeRawBufferPointer) -> Int? {
        guard let first = plaintext.first else { return nil }
        let length: Int
        if first >> 4 == 4, plaintext.count >= 20 { length = Int(plaintext[2]) << 8 | Int(plaintext[3]) }
        else if first >> 4 == 6, plaintext.count >= 40 { length = 40 + (Int(plaintext[4]) << 8 | Int(plaintext[5])) }
        else { return nil }
        return length <= plaintext.count && length >= 20 ? length : nil
    }
}
