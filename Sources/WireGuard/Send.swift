// Sending: IP packets read from the TUN device become transport messages to peers (the kernel's
// send.c). Stage by stage:
//  1. `prepareOutbound` (the reading thread; the device's lock, once per batch): each packet's
//     destination is looked up in the allowed IPs (the previous packet's answer is kept: a flow's
//     packets come in runs), the peer's current session gives it the next counter, and its slot
//     notes, as plain values, the counter, the receiver index, the endpoint and a row of the
//     batch's key table holding a copy of the session's sending key. A packet for no peer, or for
//     a peer without an endpoint, is dropped and counted; one for a peer without a usable session
//     waits for a handshake (the slow path, which may send an initiation).
//  2. `seal` (any thread, no lock): pads each packet to 16, but not beyond the interface's MTU
//     (the kernel's rule: padding never makes a packet the route cannot carry), writes the header
//     in front and seals it in place with the batch's own cipher context; then wipes the batch's
//     copies of the keys.
//  3. The engine sends the messages (UDPSocket: one GSO send per run to one endpoint).
// Invariants: a counter is taken once, under the lock; nothing per packet is reference-counted
// (peers are reached through unretained references that `Device.peers` keeps alive while the lock
// is held, and the batch leaves the lock holding no reference at all).

import WireGuardCrypto

/// A counter taken on a session, and what sealing with it needs. `key` points into the session's
/// memory: valid only while the device's lock is held.
struct Reservation {
    let counter: UInt64
    let key: UnsafeRawPointer
    let localIndex: UInt32
    let remoteIndex: UInt32
    let peer: Int
    let endpoint: Endpoint
}

/// The previous packet's destination and its answer: consecutive packets of a flow skip the trie.
struct RouteCache {
    private var high: UInt64 = 0, low: UInt64 = 0, count = 0
    private var position: Int?

    /// The position in `Device.peers` of the peer whose allowed IPs match the address of `count`
    /// (4 or 16) bytes at `address`; nil: none.
    mutating func lookup(_ address: UnsafeRawPointer, count: Int, in table: AllowedIPs<Int>) -> Int? {
        let high = count == 4 ? UInt64(address.loadUnaligned(as: UInt32.self)) : address.loadUnaligned(as: UInt64.self)
        let low = count == 16 ? address.loadUnaligned(fromByteOffset: 8, as: UInt64.self) : 0
        if count == self.count && high == self.high && low == self.low { return position }
        (self.high, self.low, self.count) = (high, low, count)
        position = table.lookup(address, count: count)
        return position
    }
}

extension Device {
    /// Prepares every IP packet of `batch` (read from the TUN device) for sealing, under one lock;
    /// slots that are not to be sent get length 0. Returns what the slow path asks to send.
    public func prepareOutbound(_ batch: PacketBatch, now: Double) -> DeviceOutput {
        var output = DeviceOutput()
        var route = RouteCache()
        lock.lock()
        defer { lock.unlock() }
        batch.wipeKeys()
        batch.mtu = mtu_
        for index in 0..<batch.count {
            batch.work[index].key = -1
            let length = batch.lengths[index]
            guard length > 0 else { continue }
            let packet = UnsafeRawBufferPointer(start: batch.slot(index).baseAddress! + Self.headroom, count: length)
            guard let (offset, count) = Self.destinationField(packet),
                  let position = route.lookup(packet.baseAddress! + offset, count: count, in: allowedIPs) else {
                drops_.noPeer += 1
                batch.lengths[index] = 0
                continue
            }
            let reserved = peerRefs[position]._withUnsafeGuaranteedRef { peer -> Bool in
                guard let reservation = reserve(peer, length: length, now: now) else {
                    queueForHandshake(Array(packet), peer: peer, now: now, into: &output)
                    return false
                }
                batch.work[index] = SlotWork(counter: reservation.counter,
                                             key: batch.keyRow(owner: reservation.localIndex, key: reservation.key),
                                             index: reservation.remoteIndex, peer: reservation.peer)
                batch.endpoints[index] = reservation.endpoint
                return true
            }
            if !reserved { batch.lengths[index] = 0 }
        }
        return output
    }

    /// Seals every prepared packet of `batch` in place (each slot then holds its transport message)
    /// and wipes the batch's copies of the keys. No lock: any thread may call it, one at a time per batch.
    public static func seal(_ batch: PacketBatch) {
        var row: Int32 = -1  // the key row the cipher context holds
        for index in 0..<batch.count {
            let work = batch.work[index]
            guard work.key >= 0 else { continue }
            batch.lengths[index] = seal(batch.slot(index).baseAddress!, length: batch.lengths[index], mtu: batch.mtu,
                                        counter: work.counter, receiver: work.index, key: work.key == row ? nil : batch.key(work.key), cipher: batch.cipher)
            row = work.key
        }
        batch.wipeKeys()
    }

    /// Seals the IP packet at `slot + headroom` of `length` bytes where it lies: pads it (`paddedLength`),
    /// writes the transport header in front and the tag after. Returns the message's length
    /// (`sealedLength`). A nil key: the one `cipher` was last given.
    static func seal(_ slot: UnsafeMutableRawPointer, length: Int, mtu: Int, counter: UInt64, receiver: UInt32, key: UnsafeRawPointer?,
                     cipher: borrowing ChaCha20Poly1305) -> Int {
        let padded = paddedLength(length, mtu: mtu)
        (slot + headroom + length).initializeMemory(as: UInt8.self, repeating: 0, count: padded - length)
        slot.storeBytes(of: UInt32(MessageType.transport.rawValue).littleEndian, as: UInt32.self)
        slot.storeBytes(of: receiver.littleEndian, toByteOffset: 4, as: UInt32.self)
        slot.storeBytes(of: counter.littleEndian, toByteOffset: 8, as: UInt64.self)
        cipher.seal(key: key, counter: counter, message: slot + headroom, length: padded)
        return headroom + padded + ChaCha20Poly1305.tagLength
    }

    /// A packet's length with its padding: rounded up to 16, but not beyond the MTU (0: no MTU). A
    /// packet longer than the MTU (which the stack should not hand over) pads only its last MTU's
    /// worth, as the kernel does.
    public static func paddedLength(_ length: Int, mtu: Int = 0) -> Int {
        let multiple = WireConstants.paddingMultiple
        guard mtu > 0 else { return (length + multiple - 1) / multiple * multiple }
        let last = length > mtu ? length % mtu : length
        return length - last + min(mtu, (last + multiple - 1) / multiple * multiple)
    }

    /// The transport message's length for an IP packet of `length` bytes.
    public static func sealedLength(_ length: Int, mtu: Int = 0) -> Int { paddedLength(length, mtu: mtu) + overhead }

    /// Under the lock: the next counter on the peer's current session, if it has one that may still
    /// send and the peer has an endpoint (a missing endpoint is counted here).
    func reserve(_ peer: Peer, length: Int, now: Double) -> Reservation? {
        guard let endpoint = peer.endpoint else {
            drops_.noEndpoint += 1
            return nil
        }
        guard let keypair = peer.current, now - keypair.created < WireConstants.rejectAfterTime,
              keypair.sendCounter < WireConstants.rejectAfterMessages else { return nil }
        let counter = keypair.sendCounter
        keypair.sendCounter += 1
        peer.lastSent = now
        if length > 0, peer.unansweredSince == .infinity { peer.unansweredSince = now }  // data, not a keepalive
        peer.txBytes += UInt64(Self.sealedLength(length, mtu: mtu_))
        // Keep the key fresh (the timers act on it): after messages, and after time on the initiator.
        if keypair.sendCounter >= WireConstants.rekeyAfterMessages
            || (keypair.isInitiator && now - keypair.created >= WireConstants.rekeyAfterTime) {
            peer.wantsRekey = true
        }
        return Reservation(counter: counter, key: keypair.sendingKey, localIndex: keypair.localIndex, remoteIndex: keypair.remoteIndex,
                           peer: peer.id, endpoint: endpoint)
    }

    /// Seals an array packet under the lock (the array API, queued packets, keepalives), or queues it
    /// for a handshake.
    func sendLocked(_ packet: [UInt8], to peer: Peer, now: Double, into output: inout DeviceOutput) {
        guard let reservation = reserve(peer, length: packet.count, now: now) else {
            queueForHandshake(packet, peer: peer, now: now, into: &output)
            return
        }
        var message = [UInt8](repeating: 0, count: Self.sealedLength(packet.count, mtu: mtu_))
        message.withUnsafeMutableBytes { slot in
            (slot.baseAddress! + Self.headroom).copyMemory(from: packet, byteCount: packet.count)
            _ = Self.seal(slot.baseAddress!, length: packet.count, mtu: mtu_, counter: reservation.counter, receiver: reservation.remoteIndex,
                          key: reservation.key, cipher: slowPathCipher)
        }
        output.datagrams.append((message, reservation.endpoint))
    }

    // MARK: The array API

    /// An IP packet from the TUN device.
    public func outbound(_ packet: [UInt8], now: Double) -> DeviceOutput {
        locked {
            var output = DeviceOutput()
            let position = packet.withUnsafeBytes { bytes -> Int? in
                guard let (offset, count) = Self.destinationField(bytes) else { return nil }
                return allowedIPs.lookup(bytes.baseAddress! + offset, count: count)
            }
            guard let position else {
                drops_.noPeer += 1
                return output
            }
            peerRefs[position]._withUnsafeGuaranteedRef { sendLocked(packet, to: $0, now: now, into: &output) }
            return output
        }
    }

    /// A whole transport message for `packet` on `keypair` (tests, and tools that speak to a peer).
    public static func sealed(_ packet: [UInt8], keypair: Keypair, counter: UInt64) -> [UInt8] {
        var message = [UInt8](repeating: 0, count: sealedLength(packet.count))
        let cipher = ChaCha20Poly1305()
        message.withUnsafeMutableBytes { slot in
            (slot.baseAddress! + headroom).copyMemory(from: packet, byteCount: packet.count)
            _ = seal(slot.baseAddress!, length: packet.count, mtu: 0, counter: counter, receiver: keypair.remoteIndex, key: keypair.sendingKey,
                     cipher: cipher)
        }
        return message
    }
}
