// Receiving: datagrams read from the UDP socket become IP packets for the TUN device (the
// kernel's receive.c). Stage by stage:
//  1. `prepareInbound` (the reading thread; the device's lock, once per batch): a transport
//     message's receiver index names its session (the previous message's answer is kept: a
//     session's messages come in runs); its slot notes, as plain values, the counter, the
//     session's index, the peer's id and a row of the batch's key table holding a copy of the
//     receiving key. Anything else is a handshake message (or garbage): its type and length are
//     checked and it is queued for the handshake thread (HandshakeQueue.swift): the slow path.
//  2. `open` (any thread, no lock): authenticates and decrypts each message in place with the
//     batch's own cipher context; a message that fails is dropped; then the copied keys are wiped.
//  3. `finishInbound` (the thread that delivers, in the order the messages arrived; the lock,
//     once per batch): the replay window, roaming, counters, the confirmation of a responder's new
//     session, and the inner source address against the peer's allowed IPs. What is left are the
//     IP packets to write to the TUN device.
// Invariants: nothing is delivered unless it authenticated, passed the replay window and came
// from an allowed source of the peer whose session opened it; nothing per packet is reference-counted.

import WireGuardCrypto

extension DeviceOutput {
    mutating func append(_ other: DeviceOutput) {
        datagrams += other.datagrams
        packets += other.packets
    }
}

extension Device {
    /// Prepares every datagram of `batch` (read from the UDP socket) for opening, under one lock;
    /// handshake messages go to the handshake queue. Slots not to be opened get length 0.
    public func prepareInbound(_ batch: PacketBatch, now: Double) {
        lock.lock()
        defer { lock.unlock() }
        batch.wipeKeys()
        // The session of the previous message: its receiver index, and its key row and peer id (nil: none).
        var cachedReceiver: UInt32?
        var cached: (key: Int32, peer: Int)?
        for index in 0..<batch.count {
            batch.work[index].key = -1
            let length = batch.lengths[index]
            guard length > 0 else { continue }
            let message = UnsafeRawBufferPointer(start: batch.slot(index).baseAddress!, count: length)
            guard length >= WireConstants.minimumTransportLength,
                  message.loadUnaligned(as: UInt32.self) == UInt32(MessageType.transport.rawValue).littleEndian else {
                batch.lengths[index] = 0
                enqueueHandshakeLocked(message, from: batch.endpoints[index], now: now)
                continue
            }
            let receiver = UInt32(littleEndian: message.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            if receiver != cachedReceiver {
                cachedReceiver = receiver
                cached = byIndex[receiver]?._withUnsafeGuaranteedRef { peer -> (Int32, Int)? in
                    guard let keypair = peer.keypair(index: receiver), now - keypair.created < WireConstants.rejectAfterTime else { return nil }
                    return (batch.keyRow(owner: receiver, key: keypair.receivingKey), peer.id)
                }
            }
            guard let cached else {
                drops_.noSession += 1
                batch.lengths[index] = 0
                continue
            }
            let counter = UInt64(littleEndian: message.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            batch.work[index] = SlotWork(counter: counter, key: cached.key, index: receiver, peer: cached.peer)
        }
    }

    /// Authenticates and decrypts every prepared message of `batch` in place (the plaintext then
    /// lies at `headroom`), drops those that fail, and wipes the batch's copies of the keys. No
    /// lock: any thread, one at a time per batch. Returns how many failed (`countUnauthenticated`).
    public static func open(_ batch: PacketBatch) -> Int {
        var failed = 0
        var row: Int32 = -1  // the key row the cipher context holds
        for index in 0..<batch.count {
            let work = batch.work[index]
            guard work.key >= 0 else { continue }
            let length = batch.lengths[index]
            let base = batch.slot(index).baseAddress!
            let key = work.key == row ? nil : batch.key(work.key)
            row = work.key
            if !batch.cipher.open(key: key, counter: work.counter, message: base + headroom, length: length - overhead) {
                batch.work[index].key = -1
                batch.lengths[index] = 0
                failed += 1
            }
        }
        batch.wipeKeys()
        return failed
    }

    /// After `open`, in arrival order and under one lock: the replay window, roaming, counters,
    /// session confirmation and the inner source check. Leaves in each slot the IP packet to write
    /// (length 0: a keepalive or dropped). Returns what a newly confirmed session lets go (packets
    /// that waited for it).
    public func finishInbound(_ batch: PacketBatch, now: Double) -> DeviceOutput {
        var output = DeviceOutput()
        var route = RouteCache()
        lock.lock()
        defer { lock.unlock() }
        // The previous message's session, unretained: `peers` and the peer keep both alive while the
        // lock is held (a confirmation only ever releases a session other than this one).
        var cachedReceiver: UInt32?
        var cached: (peer: Unmanaged<Peer>, keypair: Unmanaged<Keypair>)?
        for index in 0..<batch.count {
            let work = batch.work[index]
            guard work.key >= 0 else {
                batch.lengths[index] = 0
                continue
            }
            batch.work[index].key = -1
            if work.index != cachedReceiver {
                cachedReceiver = work.index
                cached = byIndex[work.index].flatMap { peer in
                    peer._withUnsafeGuaranteedRef { $0.keypair(index: work.index) }.map { (peer, Unmanaged.passUnretained($0)) }
                }
            }
            guard let cached else {
                drops_.noSession += 1  // the session ended while the message was being opened
                batch.lengths[index] = 0
                continue
            }
            let messageLength = batch.lengths[index]
            let plaintext = UnsafeRawBufferPointer(start: batch.slot(index).baseAddress! + Self.headroom, count: messageLength - Self.overhead)
            batch.lengths[index] = cached.peer._withUnsafeGuaranteedRef { peer in
                cached.keypair._withUnsafeGuaranteedRef { keypair in
                    finish(peer, keypair, counter: work.counter, plaintext: plaintext, messageLength: messageLength, from: batch.endpoints[index],
                           now: now, route: &route, output: &output)
                }
            } ?? 0
        }
        return output
    }

    /// One authenticated message of `peer`'s session `keypair`, under the lock. The IP packet's
    /// length (at the start of `plaintext`), or nil for a keepalive or a dropped packet.
    private func finish(_ peer: Peer, _ keypair: Keypair, counter: UInt64, plaintext: UnsafeRawBufferPointer, messageLength: Int,
                        from source: Endpoint, now: Double, route: inout RouteCache, output: inout DeviceOutput) -> Int? {
        guard keypair.replay.accept(counter) else {
            drops_.replayed += 1
            return nil
        }
        if peer.endpoint != source { peer.endpoint = source }  // roaming
        // Any authenticated packet, keepalives too; written only when set, so a busy peer's line stays clean.
        if peer.unansweredSince != .infinity { peer.unansweredSince = .infinity }
        peer.rxBytes += UInt64(messageLength)
        if keypair === peer.next { confirm(peer, now: now, output: &output) }
        // Keep the key fresh from the receiving side too: an initiator whose session nears
        // REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT asks for a new one.
        if let current = peer.current, current.isInitiator,
           now - current.created >= WireConstants.rejectAfterTime - WireConstants.keepaliveTimeout - WireConstants.rekeyTimeout {
            peer.wantsRekey = true
        }
        guard !plaintext.isEmpty else { return nil }  // keepalive
        peer.lastDataReceived = now
        guard let length = Self.ipLength(plaintext), let (offset, count) = Self.sourceField(plaintext),
              let position = route.lookup(plaintext.baseAddress! + offset, count: count, in: allowedIPs),
              peerRefs[position].toOpaque() == Unmanaged.passUnretained(peer).toOpaque() else {
            drops_.disallowedSource += 1
            return nil
        }
        return length
    }

    /// The initiator used the session we answered with: it is confirmed, and what waited goes out.
    private func confirm(_ peer: Peer, now: Double, output: inout DeviceOutput) {
        if let old = peer.previous { byIndex[old.localIndex] = nil }
        peer.previous = peer.current
        peer.current = peer.next
        peer.next = nil
        let queued = peer.queued
        peer.queued = []
        for packet in queued { sendLocked(packet, to: peer, now: now, into: &output) }
    }

    // MARK: The array API

    /// A UDP payload from `source`.
    public func inbound(_ datagram: [UInt8], from source: Endpoint, now: Double) -> DeviceOutput {
        locked {
            guard datagram.count >= WireConstants.minimumTransportLength,
                  datagram.readUInt32LE(at: 0) == UInt32(MessageType.transport.rawValue) else {
                return handshakeLocked(datagram, from: source, now: now)
            }
            var output = DeviceOutput()
            let receiver = datagram.readUInt32LE(at: 4), counter = datagram.readUInt64LE(at: 8)
            guard let peer = byIndex[receiver]?.takeUnretainedValue(), let keypair = peer.keypair(index: receiver),
                  now - keypair.created < WireConstants.rejectAfterTime else {
                drops_.noSession += 1
                return output
            }
            var slot = datagram
            var route = RouteCache()
            slot.withUnsafeMutableBytes { raw in
                guard slowPathCipher.open(key: keypair.receivingKey, counter: counter, message: raw.baseAddress! + Self.headroom,
                                          length: datagram.count - Self.overhead) else {
                    drops_.unauthenticated += 1
                    return
                }
                let plaintext = UnsafeRawBufferPointer(rebasing: raw[Self.headroom..<(datagram.count - ChaCha20Poly1305.tagLength)])
                if let length = finish(peer, keypair, counter: counter, plaintext: plaintext, messageLength: datagram.count, from: source,
                                       now: now, route: &route, output: &output) {
                    output.packets.append(Array(plaintext.prefix(length)))
                }
            }
            return output
        }
    }

    /// The padded plaintext of a transport message for `keypair`, or nil (tests, and tools that
    /// speak to a peer).
    public static func opened(_ message: [UInt8], keypair: Keypair) -> [UInt8]? {
        guard message.count >= WireConstants.minimumTransportLength, message.readUInt32LE(at: 0) == UInt32(MessageType.transport.rawValue),
              message.readUInt32LE(at: 4) == keypair.localIndex else { return nil }
        var slot = message
        let cipher = ChaCha20Poly1305()
        guard slot.withUnsafeMutableBytes({
            cipher.open(key: keypair.receivingKey, counter: message.readUInt64LE(at: 8), message: $0.baseAddress! + headroom,
                        length: message.count - overhead)
        }) else { return nil }
        return Array(slot[headroom..<(message.count - ChaCha20Poly1305.tagLength)])
    }
}
