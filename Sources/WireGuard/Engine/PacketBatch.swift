// A batch of packets for batched I/O and the engines: `capacity` slots of memory allocated once
// and reused for every batch, so the datapath allocates nothing per packet.
//
// A slot holds one packet in one of two forms at fixed places: an IP packet at
// `Device.headroom` (room for the transport header in front), or a transport message at 0.
// Sealing turns the first into the second where it lies, opening the reverse. `lengths[i]` is
// the length of the current form; 0 means dropped.

public final class PacketBatch: @unchecked Sendable {
    public let capacity: Int
    public let slotSize: Int
    private let storage: UnsafeMutableRawPointer
    public var count = 0
    public var lengths: [Int]
    /// Datagrams' sources (inbound) or destinations (outbound).
    public var endpoints: [Endpoint]

    // The engines' bookkeeping, per slot.
    var sealings: [Sealing?]
    var openings: [Opening?]
    /// The parallel engine: set by a worker when every slot is sealed or opened.
    var done = false
    /// The parallel engine: the peer whose ordered queue holds the batch, and when it was read.
    var key: ObjectIdentifier?
    var readAt = 0.0

    public static let defaultSlotSize = 4096
    public static let defaultCapacity = 64

    public init(capacity: Int = PacketBatch.defaultCapacity, slotSize: Int = PacketBatch.defaultSlotSize) {
        self.capacity = capacity
        self.slotSize = slotSize
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity * slotSize, alignment: 64)
        lengths = Array(repeating: 0, count: capacity)
        endpoints = Array(repeating: Endpoint(ipv4: 0, port: 0), count: capacity)
        sealings = Array(repeating: nil, count: capacity)
        openings = Array(repeating: nil, count: capacity)
    }

    deinit { storage.deallocate() }

    /// The whole slot `index`.
    public func slot(_ index: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: storage + index * slotSize, count: slotSize)
    }

    /// Where an IP packet read from the TUN device goes in slot `index`.
    public func packetArea(_ index: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: storage + index * slotSize + Device.headroom, count: maximumPacketLength)
    }

    /// The largest IP packet a slot can seal: the message (header, padding, tag) must fit.
    public var maximumPacketLength: Int { (slotSize - Device.overhead) / WireConstants.paddingMultiple * WireConstants.paddingMultiple }

    /// The IP packet in slot `index` (after reading from TUN or opening).
    public func packet(_ index: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: storage + index * slotSize + Device.headroom, count: lengths[index])
    }

    /// The message in slot `index` (after sealing or reading from UDP).
    public func message(_ index: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: storage + index * slotSize, count: lengths[index])
    }

    public func reset() {
        count = 0
        done = false
    }

    /// Appends a copy of `packet` as an IP packet; false when full or too large.
    @discardableResult
    public func appendPacket(_ packet: UnsafeRawBufferPointer) -> Bool {
        guard count < capacity, packet.count <= maximumPacketLength else { return false }
        packetArea(count).copyMemory(from: packet)
        lengths[count] = packet.count
        count += 1
        return true
    }

    /// Appends a copy of a datagram from `source`; false when full or too large.
    @discardableResult
    public func appendDatagram(_ datagram: UnsafeRawBufferPointer, from source: Endpoint) -> Bool {
        guard count < capacity, datagram.count <= slotSize else { return false }
        slot(count).copyMemory(from: datagram)
        lengths[count] = datagram.count
        endpoints[count] = source
        count += 1
        return true
    }
}
