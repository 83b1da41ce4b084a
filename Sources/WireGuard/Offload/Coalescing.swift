// Writing to a TUN device with offloads: consecutive TCP segments of one flow are written as one
// super-packet with a virtio header asking the kernel to cut them again (GSO), so that one write
// and one pass through the stack carry up to 64 KiB (what GRO does on a NIC, and wireguard-go's
// tun offload). Segments join a group only when nothing is lost by it: same flow and header
// options, contiguous sequence numbers, only ACK (PSH allowed on the last), a valid checksum, and
// every segment but the last of full size. Everything else is written alone, unchanged, in order.
// Its per-slot state lives in memory allocated once (no arrays to copy or reference-count per batch).

import Foundation

public final class Coalescer {
    public let capacity: Int
    /// Per slot: the next member of its group, or -1.
    private let next: UnsafeMutablePointer<Int>
    /// Per slot: whether it heads a group (written with its members) or is a member (skipped).
    private let role: UnsafeMutablePointer<Role>
    /// Per slot: the head of its group; per head: the group's payload bytes.
    private let headOf: UnsafeMutablePointer<Int>
    private let payloadOf: UnsafeMutablePointer<Int>
    /// Per group head: the virtio header to write in front of it.
    private let headers: UnsafeMutablePointer<VirtioNetHeader>
    /// The slots that head a group (or are alone), in order: `heads[0 ..< headCount]`.
    private let heads: UnsafeMutablePointer<Int>
    public private(set) var headCount = 0
    /// Open groups, by the slot of their last member (at most `openLimit`, newest last).
    private let open: UnsafeMutablePointer<Int>
    private var openCount = 0
    private static let openLimit = 8

    enum Role { case alone, head, member }

    public init(capacity: Int) {
        self.capacity = capacity
        next = .allocate(capacity: capacity)
        next.initialize(repeating: -1, count: capacity)
        role = .allocate(capacity: capacity)
        role.initialize(repeating: .alone, count: capacity)
        headOf = .allocate(capacity: capacity)
        headOf.initialize(repeating: 0, count: capacity)
        payloadOf = .allocate(capacity: capacity)
        payloadOf.initialize(repeating: 0, count: capacity)
        headers = .allocate(capacity: capacity)
        headers.initialize(repeating: VirtioNetHeader(), count: capacity)
        heads = .allocate(capacity: capacity)
        heads.initialize(repeating: 0, count: capacity)
        open = .allocate(capacity: Self.openLimit + 1)
        open.initialize(repeating: 0, count: Self.openLimit + 1)
    }

    deinit {
        for pointer in [next, headOf, payloadOf, heads, open] { pointer.deallocate() }
        role.deallocate()
        headers.deallocate()
    }

    /// The `number`th slot to write (0 ..< headCount): a group's head or a packet alone.
    public func head(_ number: Int) -> Int { heads[number] }

    /// The member after `slot` in its group, or -1.
    public func next(of slot: Int) -> Int { next[slot] }

    /// The virtio header to write in front of `head`.
    public func header(of head: Int) -> VirtioNetHeader { headers[head] }

    /// The slots of group `head`, in order (the head first).
    public func members(of head: Int, _ body: (Int) -> Void) {
        var index = head
        while index >= 0 {
            body(index)
            index = next[index]
        }
    }

    /// Plans the writes for `batch`'s packets (length 0: skipped) and rewrites each group's first
    /// header in place for the super-packet. Afterwards `heads` lists what to write.
    public func plan(_ batch: PacketBatch) {
        precondition(batch.count <= capacity)
        headCount = 0
        openCount = 0
        for index in 0..<batch.count {
            next[index] = -1
            role[index] = .alone
            headers[index] = VirtioNetHeader()
            guard batch.lengths[index] > 0 else { continue }
            heads[headCount] = index
            headCount += 1
            headOf[index] = index
            guard let segment = TCPSegment(batch.packet(index)) else { continue }
            payloadOf[index] = segment.payloadLength
            if let position = openGroup(of: segment, in: batch) {
                let last = open[position]
                let lastSegment = TCPSegment(batch.packet(last))!
                let head = headOf[last]
                let mss = TCPSegment(batch.packet(head))!.payloadLength
                if lastSegment.canBeFollowed(by: segment, groupPayload: payloadOf[head], mss: mss) {
                    next[last] = index
                    role[index] = .member
                    headOf[index] = head
                    payloadOf[head] += segment.payloadLength
                    headCount -= 1
                    role[head] = .head
                    open[position] = index
                    continue
                }
                removeOpen(at: position)  // a newer group of the flow starts here: the old one closes
            }
            if segment.canStartGroup {
                open[openCount] = index
                openCount += 1
                if openCount > Self.openLimit { removeOpen(at: 0) }
            }
        }
        for number in 0..<headCount where role[heads[number]] == .head { finish(heads[number], batch) }
    }

    /// The newest open group of the segment's flow, by its position in `open`.
    private func openGroup(of segment: TCPSegment, in batch: PacketBatch) -> Int? {
        var position = openCount - 1
        while position >= 0 {
            if TCPSegment(batch.packet(open[position]))!.sameFlow(as: segment) { return position }
            position -= 1
        }
        return nil
    }

    private func removeOpen(at position: Int) {
        for later in position..<(openCount - 1) { open[later] = open[later + 1] }
        openCount -= 1
    }

    /// Rewrites the head's headers for the whole group and fills its virtio header.
    private func finish(_ head: Int, _ batch: PacketBatch) {
        let first = TCPSegment(batch.packet(head))!
        var payload = 0
        var push = false
        members(of: head) { member in
            let segment = TCPSegment(batch.packet(member))!
            payload += segment.payloadLength
            push = push || segment.flags & 0x08 != 0
        }
        let packet = batch.packet(head).baseAddress!
        let total = first.headersLength + payload
        if first.isIPv6 {
            packet.storeBytes(of: UInt16(total - 40).bigEndian, toByteOffset: 4, as: UInt16.self)
        } else {
            packet.storeBytes(of: UInt16(total).bigEndian, toByteOffset: 2, as: UInt16.self)
            Checksum.setIPv4Header(packet, headerLength: first.l4)
        }
        if push { packet.storeBytes(of: first.flags | 0x08, toByteOffset: first.l4 + 13, as: UInt8.self) }
        // CHECKSUM_PARTIAL: the field holds the pseudo-header sum; the kernel completes each segment's.
        let pseudo = Checksum.pseudoHeader(packet, isIPv6: first.isIPv6, protocol: 6, length: total - first.l4)
        packet.storeBytes(of: Checksum.fold(pseudo).bigEndian, toByteOffset: first.l4 + 16, as: UInt16.self)
        var header = VirtioNetHeader()
        header.flags = VirtioNetHeader.needsChecksum
        header.gsoType = first.isIPv6 ? VirtioNetHeader.GSOType.tcpv6.rawValue : VirtioNetHeader.GSOType.tcpv4.rawValue
        header.headerLength = UInt16(first.headersLength)
        header.gsoSize = UInt16(first.payloadLength)
        header.checksumStart = UInt16(first.l4)
        header.checksumOffset = 16
        headers[head] = header
    }

    public func isGroup(_ head: Int) -> Bool { role[head] == .head }
}

/// A TCP segment's fields, read where it lies (IPv4 without options, or IPv6 without extension headers).
struct TCPSegment {
    let bytes: UnsafeMutableRawBufferPointer
    let isIPv6: Bool
    let l4: Int
    let headersLength: Int
    let payloadLength: Int
    let sequence: UInt32
    let flags: UInt8

    init?(_ packet: UnsafeMutableRawBufferPointer) {
        guard packet.count >= 40, let first = packet.first else { return nil }
        if first == 0x45 {
            // Not a fragment, protocol TCP.
            guard packet[9] == 6, UInt16(bigEndian: packet.loadUnaligned(fromByteOffset: 6, as: UInt16.self)) & 0x3fff == 0 else { return nil }
            isIPv6 = false
            l4 = 20
        } else if first >> 4 == 6 {
            guard packet.count >= 60, packet[6] == 6 else { return nil }
            isIPv6 = true
            l4 = 40
        } else {
            return nil
        }
        let tcpLength = Int(packet[l4 + 12] >> 4) * 4
        guard tcpLength >= 20, l4 + tcpLength <= packet.count else { return nil }
        bytes = packet
        headersLength = l4 + tcpLength
        payloadLength = packet.count - headersLength
        sequence = UInt32(bigEndian: packet.loadUnaligned(fromByteOffset: l4 + 4, as: UInt32.self))
        flags = packet[l4 + 13]
    }

    /// Only ACK, or ACK and PSH, with data and a checksum that verifies.
    var canStartGroup: Bool {
        payloadLength > 0 && (flags == 0x10 || flags == 0x18) && checksumVerifies
    }

    var checksumVerifies: Bool {
        let base = bytes.baseAddress!
        let sum = Checksum.sum(base + l4, count: bytes.count - l4,
                               initial: Checksum.pseudoHeader(base, isIPv6: isIPv6, protocol: 6, length: bytes.count - l4))
        return Checksum.fold(sum) == 0xffff
    }

    /// Same addresses, ports, and IP fields that must agree (TOS/traffic class, TTL/hop limit, DF).
    func sameFlow(as other: TCPSegment) -> Bool {
        guard isIPv6 == other.isIPv6 else { return false }
        let a = UnsafeRawBufferPointer(bytes), b = UnsafeRawBufferPointer(other.bytes)
        if isIPv6 {
            return memoryEqual(a, b, 8, 32) && memoryEqual(a, b, 40, 4) && a[0] == b[0] && a[1] & 0xf0 == b[1] & 0xf0 && a[7] == b[7]
        }
        return memoryEqual(a, b, 12, 8) && memoryEqual(a, b, 20, 4) && a[1] == b[1] && a[8] == b[8] && a[6] & 0x40 == b[6] & 0x40
    }

    /// Whether `segment` may join the group that ends with this segment.
    func canBeFollowed(by segment: TCPSegment, groupPayload: Int, mss: Int) -> Bool {
        flags & 0x08 == 0  // a PSH closes the group
            && payloadLength == mss  // and so does a short segment
            && segment.payloadLength > 0 && segment.payloadLength <= mss  // a pure ACK (a duplicate ACK, say) stays alone
            && (segment.flags == 0x10 || segment.flags == 0x18)
            && segment.sequence == sequence &+ UInt32(payloadLength)
            && segment.headersLength == headersLength
            && memoryEqual(UnsafeRawBufferPointer(bytes), UnsafeRawBufferPointer(segment.bytes), l4 + 8, 4)  // ACK number
            && memoryEqual(UnsafeRawBufferPointer(bytes), UnsafeRawBufferPointer(segment.bytes), l4 + 14, 2)  // window
            && memoryEqual(UnsafeRawBufferPointer(bytes), UnsafeRawBufferPointer(segment.bytes), l4 + 20, headersLength - l4 - 20)  // options
            && headersLength + groupPayload + segment.payloadLength <= 65535
            && segment.checksumVerifies
    }
}

private func memoryEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, _ offset: Int, _ count: Int) -> Bool {
    count == 0 || memcmp(a.baseAddress! + offset, b.baseAddress! + offset, count) == 0
}
