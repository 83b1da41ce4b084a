// Reading from a TUN device with offloads (IFF_VNET_HDR + TSO): the kernel hands over TCP
// super-packets of up to 64 KiB with one header, to be cut into MSS-sized segments, each with its
// own IP length, IPv4 id, TCP sequence number, flags and checksums (what the NIC does for
// TSO, and what wireguard-go's tun offload does). A packet may also come whole but with its
// checksum left to us. Pure: bytes in, packets appended to a batch.

public enum Segmentation {
    public enum Result: Equatable {
        /// Every (remaining) packet was appended: this many.
        case done(Int)
        /// The batch filled up: submit it and call again with an empty one, from this segment.
        case more(from: Int)
        /// Malformed or of a kind we did not ask for: drop it.
        case malformed
    }

    /// Splits what one read returned (`VirtioNetHeader` then the packet) into plain IP packets in
    /// `batch`, from segment `first` on (a super-packet may need more than one batch).
    public static func split(_ buffer: UnsafeMutableRawPointer, length: Int, into batch: PacketBatch, from first: Int = 0) -> Result {
        guard length > VirtioNetHeader.size else { return .malformed }
        let header = VirtioNetHeader(buffer)
        let packet = buffer + VirtioNetHeader.size
        let packetLength = length - VirtioNetHeader.size
        switch header.type {
        case .none?:
            guard batch.count < batch.capacity else { return .more(from: 0) }
            if header.flags & VirtioNetHeader.needsChecksum != 0 {
                let start = Int(header.checksumStart), field = start + Int(header.checksumOffset)
                guard field + 2 <= packetLength else { return .malformed }
                let sum = Checksum.sum(packet + start, count: packetLength - start)
                packet.storeBytes(of: Checksum.finish(sum).bigEndian, toByteOffset: field, as: UInt16.self)
            }
            guard batch.appendPacket(UnsafeRawBufferPointer(start: packet, count: packetLength)) else { return .malformed }
            return .done(1)
        case .tcpv4?, .tcpv6?:
            return splitTCP(packet, length: packetLength, header: header, into: batch, from: first)
        default:
            return .malformed
        }
    }

    private static func splitTCP(_ packet: UnsafeMutableRawPointer, length: Int, header: VirtioNetHeader, into batch: PacketBatch,
                                 from first: Int) -> Result {
        let isIPv6 = header.type == .tcpv6
        let l4 = Int(header.checksumStart)
        guard l4 >= (isIPv6 ? 40 : 20), l4 + 20 <= length else { return .malformed }
        let tcpHeaderLength = Int(packet.load(fromByteOffset: l4 + 12, as: UInt8.self) >> 4) * 4
        let headers = l4 + tcpHeaderLength
        let mss = Int(header.gsoSize)
        guard tcpHeaderLength >= 20, headers <= length, mss > 0, headers + mss <= batch.maximumPacketLength else { return .malformed }
        let payload = length - headers
        let segments = max(1, (payload + mss - 1) / mss)
        guard first < segments else { return .malformed }
        let last = min(segments, first + batch.capacity - batch.count)
        guard last > first else { return .more(from: first) }
        let ipID = UInt16(bigEndian: packet.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        let sequence = UInt32(bigEndian: packet.loadUnaligned(fromByteOffset: l4 + 4, as: UInt32.self))
        let flags = packet.load(fromByteOffset: l4 + 13, as: UInt8.self)
        for index in first..<last {
            let offset = index * mss
            let chunk = min(mss, payload - offset)
            let total = headers + chunk
            let slot = batch.packetArea(batch.count)
            let out = slot.baseAddress!
            out.copyMemory(from: packet, byteCount: headers)
            (out + headers).copyMemory(from: packet + headers + offset, byteCount: chunk)
            if isIPv6 {
                out.storeBytes(of: UInt16(total - 40).bigEndian, toByteOffset: 4, as: UInt16.self)
            } else {
                out.storeBytes(of: UInt16(total).bigEndian, toByteOffset: 2, as: UInt16.self)
                out.storeBytes(of: (ipID &+ UInt16(truncatingIfNeeded: index)).bigEndian, toByteOffset: 4, as: UInt16.self)
                Checksum.setIPv4Header(out, headerLength: Int(out.load(as: UInt8.self) & 0x0f) * 4)
            }
            out.storeBytes(of: (sequence &+ UInt32(truncatingIfNeeded: offset)).bigEndian, toByteOffset: l4 + 4, as: UInt32.self)
            var segmentFlags = flags
            if index != segments - 1 { segmentFlags &= ~UInt8(0x09) }  // FIN and PSH only on the last
            if index != 0 { segmentFlags &= ~UInt8(0x80) }  // CWR only on the first
            out.storeBytes(of: segmentFlags, toByteOffset: l4 + 13, as: UInt8.self)
            out.storeBytes(of: 0, toByteOffset: l4 + 16, as: UInt16.self)
            let sum = Checksum.sum(out + l4, count: total - l4,
                                   initial: Checksum.pseudoHeader(out, isIPv6: isIPv6, protocol: 6, length: total - l4))
            out.storeBytes(of: Checksum.finish(sum).bigEndian, toByteOffset: l4 + 16, as: UInt16.self)
            batch.lengths[batch.count] = total
            batch.count += 1
        }
        return last == segments ? .done(last - first) : .more(from: last)
    }
}
