import Testing
@testable import WireGuard

/// TUN offloads: a TCP super-packet as the kernel hands it over (virtio header, one IP/TCP
/// header, 64 KiB of payload, the checksum left partial) is cut into segments whose headers and
/// checksums are right, and the segments coalesce back into one super-packet with the header the
/// kernel needs to cut it again.
struct OffloadTests {
    static let source: [UInt8] = [198, 19, 0, 1], destination: [UInt8] = [198, 19, 0, 2]

    /// An IPv4/TCP packet with `payload` bytes, valid checksums, TCP timestamps option.
    static func tcp(sequence: UInt32, payload: [UInt8], flags: UInt8 = 0x10, id: UInt16 = 7) -> [UInt8] {
        let tcpLength = 32
        let total = 20 + tcpLength + payload.count
        var packet = [UInt8](repeating: 0, count: total)
        packet[0] = 0x45
        packet[2] = UInt8(total >> 8); packet[3] = UInt8(total & 0xff)
        packet[4] = UInt8(id >> 8); packet[5] = UInt8(id & 0xff)
        packet[6] = 0x40  // DF
        packet[8] = 64; packet[9] = 6
        packet.replaceSubrange(12..<16, with: source)
        packet.replaceSubrange(16..<20, with: destination)
        packet[20] = 0x13; packet[21] = 0x88  // 5000
        packet[22] = 0xc3; packet[23] = 0x50  // 50000
        for i in 0..<4 { packet[24 + i] = UInt8(truncatingIfNeeded: sequence >> (24 - 8 * UInt32(i))) }
        packet[28 + 3] = 1  // ack
        packet[32] = UInt8(tcpLength / 4) << 4
        packet[33] = flags
        packet[34] = 0xff; packet[35] = 0xff  // window
        packet[40] = 1; packet[41] = 1; packet[42] = 8; packet[43] = 10  // NOP NOP timestamps
        packet.replaceSubrange(52..<total, with: payload)
        packet.withUnsafeMutableBytes { raw in
            Checksum.setIPv4Header(raw.baseAddress!, headerLength: 20)
            let sum = Checksum.sum(raw.baseAddress! + 20, count: total - 20,
                                   initial: Checksum.pseudoHeader(raw.baseAddress!, isIPv6: false, protocol: 6, length: total - 20))
            raw.storeBytes(of: Checksum.finish(sum).bigEndian, toByteOffset: 36, as: UInt16.self)
        }
        return packet
    }

    /// `packet` behind the virtio header a TUN read gives (IPv4/TCP with a 32-byte TCP header).
    static func asReadFromTUN(_ packet: [UInt8], gso: VirtioNetHeader.GSOType, mss: Int, needsChecksum: Bool) -> [UInt8] {
        var header = VirtioNetHeader()
        header.flags = needsChecksum ? VirtioNetHeader.needsChecksum : 0
        header.gsoType = gso.rawValue
        header.headerLength = gso == .none ? 0 : 52
        header.gsoSize = UInt16(mss)
        header.checksumStart = 20
        header.checksumOffset = 16
        var buffer = [UInt8](repeating: 0, count: VirtioNetHeader.size) + packet
        buffer.withUnsafeMutableBytes { header.write(to: $0.baseAddress!) }
        return buffer
    }

    static func checksumsVerify(_ packet: UnsafeMutableRawBufferPointer) -> Bool {
        let base = packet.baseAddress!
        let ip = Checksum.fold(Checksum.sum(base, count: 20)) == 0xffff
        let tcp = Checksum.fold(Checksum.sum(base + 20, count: packet.count - 20,
                                             initial: Checksum.pseudoHeader(base, isIPv6: false, protocol: 6, length: packet.count - 20))) == 0xffff
        return ip && tcp
    }

    @Test func aSuperPacketIsCutIntoSegmentsAndCoalescedBack() throws {
        let mss = 1368, payload = (0..<(mss * 3 + 100)).map { UInt8(truncatingIfNeeded: $0 * 7) }
        var whole = Self.tcp(sequence: 1000, payload: payload, flags: 0x18)  // PSH on the super-packet
        // As the kernel hands it over: CHECKSUM_PARTIAL, the TCP field holding the pseudo-header sum.
        let wholeLength = whole.count
        whole.withUnsafeMutableBytes { raw in
            let pseudo = Checksum.pseudoHeader(raw.baseAddress!, isIPv6: false, protocol: 6, length: wholeLength - 20)
            raw.storeBytes(of: Checksum.fold(pseudo).bigEndian, toByteOffset: 36, as: UInt16.self)
        }
        var buffer = Self.asReadFromTUN(whole, gso: .tcpv4, mss: mss, needsChecksum: true)

        let batch = PacketBatch(capacity: 8)
        let result = buffer.withUnsafeMutableBytes { Segmentation.split($0.baseAddress!, length: $0.count, into: batch) }
        #expect(result == .done(4))
        var reassembled: [UInt8] = []
        for index in 0..<4 {
            let segment = batch.packet(index)
            #expect(Self.checksumsVerify(segment), "segment \(index)")
            #expect(segment.count == 52 + (index < 3 ? mss : 100))
            let sequence = UInt32(bigEndian: segment.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
            #expect(sequence == 1000 + UInt32(index * mss))
            #expect(segment[33] == (index == 3 ? 0x18 : 0x10))  // PSH only on the last
            #expect(UInt16(bigEndian: segment.loadUnaligned(fromByteOffset: 4, as: UInt16.self)) == 7 + UInt16(index))
            reassembled += segment[52...]
        }
        #expect(reassembled == payload)

        // Coalesced back: one group, headed by the first segment, with the header to cut it again.
        let coalescer = Coalescer(capacity: 8)
        coalescer.plan(batch)
        #expect(heads(coalescer) == [0] && coalescer.isGroup(0))
        var members: [Int] = []
        coalescer.members(of: 0) { members.append($0) }
        #expect(members == [0, 1, 2, 3])
        let out = coalescer.header(of: 0)
        #expect(out.type == .tcpv4 && out.gsoSize == UInt16(mss) && out.headerLength == 52 && out.checksumStart == 20 && out.checksumOffset == 16)
        let head = batch.packet(0)
        #expect(Int(UInt16(bigEndian: head.loadUnaligned(fromByteOffset: 2, as: UInt16.self))) == whole.count)
        #expect(Checksum.fold(Checksum.sum(head.baseAddress!, count: 20)) == 0xffff)
        #expect(head[33] == 0x18)
        #expect(Array(head[36..<38]) == Array(whole[36..<38]))  // the pseudo-header sum, as the kernel gave it
    }

    @Test func aSuperPacketLargerThanABatchContinuesInTheNext() throws {
        let mss = 1000, payload = (0..<(mss * 4)).map { UInt8(truncatingIfNeeded: $0) }
        var buffer = Self.asReadFromTUN(Self.tcp(sequence: 0, payload: payload), gso: .tcpv4, mss: mss, needsChecksum: false)
        let first = PacketBatch(capacity: 3), second = PacketBatch(capacity: 3)
        #expect(buffer.withUnsafeMutableBytes { Segmentation.split($0.baseAddress!, length: $0.count, into: first) } == .more(from: 3))
        #expect(buffer.withUnsafeMutableBytes { Segmentation.split($0.baseAddress!, length: $0.count, into: second, from: 3) } == .done(1))
        #expect(first.count == 3 && second.count == 1)
        let fourth = second.packet(0)
        #expect(UInt32(bigEndian: fourth.loadUnaligned(fromByteOffset: 24, as: UInt32.self)) == 3000 && Self.checksumsVerify(fourth))
        // A full batch takes nothing, not even a plain packet.
        var plain = [UInt8](repeating: 0, count: 10) + Self.tcp(sequence: 9, payload: [1])
        #expect(plain.withUnsafeMutableBytes { Segmentation.split($0.baseAddress!, length: $0.count, into: first) } == .more(from: 0))
    }

    @Test func onlyWhatCanBeJoinedIsJoined() {
        let mss = 1000
        let chunk = [UInt8](repeating: 1, count: mss)
        let packets = [
            Self.tcp(sequence: 0, payload: chunk),
            Self.tcp(sequence: 1000, payload: chunk),
            Self.tcp(sequence: 5000, payload: chunk),  // a gap: starts a new group
            Self.tcp(sequence: 6000, payload: chunk, flags: 0x11),  // FIN: alone
            Self.tcp(sequence: 7000, payload: []),  // a pure ACK: alone
        ]
        var corrupt = Self.tcp(sequence: 2000, payload: chunk)
        corrupt[100] ^= 1  // a bad checksum is never hidden inside a group
        let batch = PacketBatch(capacity: 8)
        for packet in packets + [corrupt] { packet.withUnsafeBytes { _ = batch.appendPacket($0) } }
        let coalescer = Coalescer(capacity: 8)
        coalescer.plan(batch)
        #expect(heads(coalescer) == [0, 2, 3, 4, 5])
        #expect(coalescer.isGroup(0) && !coalescer.isGroup(2) && !coalescer.isGroup(5))
        var members: [Int] = []
        coalescer.members(of: 0) { members.append($0) }
        #expect(members == [0, 1])
        #expect(coalescer.header(of: 2) == VirtioNetHeader())  // written as it is
    }

    @Test func aDuplicateAckIsNeverSwallowedByAGroup() {
        let chunk = [UInt8](repeating: 1, count: 1000)
        let batch = PacketBatch(capacity: 4)
        for packet in [Self.tcp(sequence: 0, payload: chunk), Self.tcp(sequence: 1000, payload: [])] {
            packet.withUnsafeBytes { _ = batch.appendPacket($0) }
        }
        let coalescer = Coalescer(capacity: 4)
        coalescer.plan(batch)
        #expect(heads(coalescer) == [0, 1] && !coalescer.isGroup(0))
    }

    @Test func aPacketWithItsChecksumLeftToUsGetsIt() {
        var packet = Self.tcp(sequence: 9, payload: Array(repeating: 3, count: 300))
        let good = Array(packet[36..<38])
        let length = packet.count
        packet.withUnsafeMutableBytes { raw in
            let pseudo = Checksum.pseudoHeader(raw.baseAddress!, isIPv6: false, protocol: 6, length: length - 20)
            raw.storeBytes(of: Checksum.fold(pseudo).bigEndian, toByteOffset: 36, as: UInt16.self)
        }
        var buffer = Self.asReadFromTUN(packet, gso: .none, mss: 0, needsChecksum: true)
        let batch = PacketBatch(capacity: 2)
        #expect(buffer.withUnsafeMutableBytes { Segmentation.split($0.baseAddress!, length: $0.count, into: batch) } == .done(1))
        #expect(Array(batch.packet(0)[36..<38]) == good)
    }

    func heads(_ coalescer: Coalescer) -> [Int] { (0..<coalescer.headCount).map(coalescer.head) }

    /// The vectorised sum against RFC 1071's definition (16-bit network-order words, a last odd byte
    /// padded with zero), on every length to 200, at odd and even addresses, and with an initial sum.
    @Test func checksumMatchesTheWordByWordDefinition() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for start in [0, 1, 3] {
            for length in 0...200 {
                var reference: UInt64 = 0x1234
                for index in stride(from: 0, to: length, by: 2) {
                    let high = UInt64(bytes[start + index]), low = index + 1 < length ? UInt64(bytes[start + index + 1]) : 0
                    reference += high << 8 | low
                }
                let ours = bytes.withUnsafeBytes { Checksum.sum($0.baseAddress! + start, count: length, initial: 0x1234) }
                #expect(Checksum.fold(ours) == Checksum.fold(reference), "start \(start), length \(length)")
            }
        }
    }
}
