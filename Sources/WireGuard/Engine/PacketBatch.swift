// A batch of packets for batched I/O and the engines: `capacity` slots of memory allocated once
// and reused for every batch, so the datapath allocates nothing per packet.
//
// A slot holds one packet in one of two forms at fixed places: an IP packet at
// `Device.headroom` (room for the transport header in front), or a transport message at 0.
// Sealing turns the first into the second where it lies, opening the reverse. `lengths[i]` is
// the length of the current form; 0 means dropped.
//
// Any MTU: a slot has room for the largest IP packet (65535 bytes) sealed in place, as
// wireguard-go's buffers do. The slots are reserved as address space (mmap, MAP_NORESERVE) and
// the kernel backs only the pages packets touch: at MTU 1420 about one page per slot.
//
// No reference counting on the hot path: everything the engines note per slot between preparing
// and finishing a packet is a plain value (`SlotWork`: counter, key, session index, peer id),
// the session keys a prepared batch needs are copied into its own key table (and wiped once
// used), and its cipher context is a non-copyable value it owns. A prepared batch holds no
// reference to any peer or session, so nothing has to be retained while it crosses threads.

import Foundation
import WireGuardCrypto

/// What an engine notes about one slot between preparing it (under the device's lock) and sealing
/// or opening it (anywhere) and finishing it: values only.
public struct SlotWork: Sendable {
    /// The transport counter (nonce).
    public var counter: UInt64 = 0
    /// The key's row in the batch's key table; -1: nothing to seal or open in this slot.
    public var key: Int32 = -1
    /// Outbound: the receiver index to write in the header. Inbound: the session's local index.
    public var index: UInt32 = 0
    /// The peer's device-wide id (the parallel engine orders per peer by it).
    public var peer: Int = 0

    public init() {}

    init(counter: UInt64, key: Int32, index: UInt32, peer: Int) {
        self.counter = counter
        self.key = key
        self.index = index
        self.peer = peer
    }
}

public final class PacketBatch: @unchecked Sendable {
    public let capacity: Int
    public let slotSize: Int
    private let storage: UnsafeMutableRawPointer
    private let storageBytes: Int
    public var count = 0
    /// Per slot: the length of what it holds (0: dropped).
    public let lengths: UnsafeMutablePointer<Int>
    /// Datagrams' sources (inbound) or destinations (outbound).
    public let endpoints: UnsafeMutablePointer<Endpoint>

    // The engines' bookkeeping.
    /// Per slot, set when the batch is prepared.
    public let work: UnsafeMutablePointer<SlotWork>
    /// The session keys the prepared slots use, 32 bytes a row, and which session each row is
    /// (its local index, to reuse the row for the next packet of the same session).
    let keys: UnsafeMutableRawPointer
    let keyOwners: UnsafeMutablePointer<UInt32>
    var keyCount = 0
    /// The batch's own ChaCha20-Poly1305 context: a batch is sealed or opened by one thread at a time.
    let cipher = ChaCha20Poly1305()
    /// The interface's MTU when the batch was prepared for sealing: it caps the padding.
    var mtu = 0
    /// The parallel engine: set by a worker when every slot is sealed or opened.
    var done = false
    /// The parallel engine: the peer whose ordered queue holds the batch, and when it was read.
    var peer = 0
    var readAt = 0.0

    /// Room for a 65535-byte IP packet behind the transport header, padded, with its tag; not a
    /// power of two, so that consecutive slots do not all fall on the same cache sets.
    public static let defaultSlotSize = 65536 + 128
    public static let defaultCapacity = 64

    public init(capacity: Int = PacketBatch.defaultCapacity, slotSize: Int = PacketBatch.defaultSlotSize) {
        precondition(capacity > 0 && slotSize >= Device.overhead + WireConstants.paddingMultiple)
        self.capacity = capacity
        self.slotSize = slotSize
        storageBytes = capacity * slotSize
        let mapped = mmap(nil, storageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let mapped, mapped != MAP_FAILED else { fatalError("mmap of \(storageBytes) bytes for a packet batch failed") }
        storage = mapped
        lengths = .allocate(capacity: capacity)
        lengths.initialize(repeating: 0, count: capacity)
        endpoints = .allocate(capacity: capacity)
        endpoints.initialize(repeating: Endpoint(ipv4: 0, port: 0), count: capacity)
        work = .allocate(capacity: capacity)
        work.initialize(repeating: SlotWork(), count: capacity)
        keys = .allocate(byteCount: capacity * ChaCha20Poly1305.keyLength, alignment: 64)
        keyOwners = .allocate(capacity: capacity)
        keyOwners.initialize(repeating: 0, count: capacity)
    }

    deinit {
        wipeKeys()
        munmap(storage, storageBytes)
        lengths.deallocate()
        endpoints.deallocate()
        work.deallocate()
        keys.deallocate()
        keyOwners.deallocate()
    }

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
        wipeKeys()
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

    // MARK: The key table

    /// The row holding the key of session `owner`: the last row if it is that session's (packets of
    /// one session come in runs), else a new row with the 32 bytes at `key` copied in.
    func keyRow(owner: UInt32, key: UnsafeRawPointer) -> Int32 {
        if keyCount > 0 && keyOwners[keyCount - 1] == owner { return Int32(keyCount - 1) }
        (keys + keyCount * ChaCha20Poly1305.keyLength).copyMemory(from: key, byteCount: ChaCha20Poly1305.keyLength)
        keyOwners[keyCount] = owner
        keyCount += 1
        return Int32(keyCount - 1)
    }

    func key(_ row: Int32) -> UnsafeRawPointer { UnsafeRawPointer(keys + Int(row) * ChaCha20Poly1305.keyLength) }

    /// Clears the copied keys once the batch is sealed or opened (the kernel wipes keys it drops; so do we).
    func wipeKeys() {
        if keyCount > 0 { SecureMemory.wipe(keys, count: keyCount * ChaCha20Poly1305.keyLength) }
        keyCount = 0
    }

    /// Moves slot `index` of `other` (its bytes, length, endpoint and work) to the end of this batch;
    /// the key is copied into this batch's table. The slot in `other` is left dropped.
    func take(_ index: Int, from other: PacketBatch) {
        let target = count
        // Either form lies within the first headroom + length bytes.
        slot(target).baseAddress!.copyMemory(from: other.slot(index).baseAddress!, byteCount: Device.headroom + other.lengths[index])
        lengths[target] = other.lengths[index]
        endpoints[target] = other.endpoints[index]
        var slotWork = other.work[index]
        if slotWork.key >= 0 { slotWork.key = keyRow(owner: other.keyOwners[Int(slotWork.key)], key: other.key(slotWork.key)) }
        work[target] = slotWork
        mtu = other.mtu
        count += 1
        other.lengths[index] = 0
        other.work[index].key = -1
    }
}
