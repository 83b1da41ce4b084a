// Handshakes (the kernel's noise.c and the handshake half of receive.c/send.c): starting one for
// a peer with packets waiting, answering initiations, taking responses and cookie replies, and
// installing the sessions they yield. Everything here runs under the device's lock.

import Foundation
import WireGuardCrypto

extension Device {
    /// No usable session: the packet waits (at most `maxStagedPackets` of them) and a handshake starts
    /// unless one was sent less than REKEY_TIMEOUT ago.
    func queueForHandshake(_ packet: [UInt8], peer: Peer, now: Double, into output: inout DeviceOutput) {
        guard peer.endpoint != nil else { return }  // counted by reserve
        if !packet.isEmpty {
            peer.queued.append(packet)
            if peer.queued.count > WireConstants.maxStagedPackets { peer.queued.removeFirst() }
        }
        guard now - peer.lastHandshakeSent >= WireConstants.rekeyTimeout else { return }
        initiate(peer, now: now, into: &output)
    }

    /// The TAI64N timestamp of an initiation sent at `wall` (Unix seconds): nanoseconds rounded down
    /// to a multiple of 2^24, the power of two below a second over 50 initiations a second, as the
    /// kernel does so that the timestamp leaks no precise clock.
    static func initiationTimestamp(_ wall: Double) -> TAI64N {
        let nanoseconds = UInt32((wall - floor(wall)) * 1e9) & ~UInt32((1 << 24) - 1)
        return TAI64N(unixSeconds: UInt64(wall), nanoseconds: nanoseconds)
    }

    func initiate(_ peer: Peer, now: Double, into output: inout DeviceOutput) {
        guard let identity, let endpoint = peer.endpoint else { return }
        let index = newIndex()
        let stamp = Self.initiationTimestamp(Date().timeIntervalSince1970)
        guard let (message, state) = Noise.createInitiation(local: identity, peer: peer.keys, localIndex: index, timestamp: stamp,
                                                            cookie: validCookie(peer, now: now), ephemeral: newEphemeral()) else { return }
        peer.lastMAC1 = Array(message[Layout.Initiation.mac1])
        logLimited(now, "\(peer.logName) - Sending handshake initiation")
        if let old = peer.pending { byIndex[old.localIndex] = nil }
        peer.pending = state
        peer.pendingSince = now
        peer.lastHandshakeSent = now
        peer.jitter = jitter()
        peer.wantsRekey = false
        if peer.firstAttempt == nil { peer.firstAttempt = now }
        byIndex[index] = Unmanaged.passUnretained(peer)
        output.datagrams.append((message, endpoint))
        peer.txBytes += UInt64(message.count)
    }

    /// The peer's cookie while it is fresh (two minutes, less the latency margin the kernel keeps).
    private func validCookie(_ peer: Peer, now: Double) -> [UInt8]? {
        now - peer.cookieReceived < WireConstants.cookieRefreshTime - 5 ? peer.cookie : nil
    }

    /// Whether the device is under load (the handshake queue's measure, `loadThreshold`).
    private func underLoad(now: Double) -> Bool { handshakeQueue.underLoad(now: now, threshold: loadThreshold_) }

    private func newIndex() -> UInt32 {
        while true {
            let index = UInt32.random(in: 1...UInt32.max)
            if byIndex[index] == nil { return index }
        }
    }


    // MARK: The handshake queue

    /// Queues a message read with the datapath's batch that is not a transport message, under the
    /// lock: only its type and length are checked here; the handshake thread does the rest.
    func enqueueHandshakeLocked(_ message: UnsafeRawBufferPointer, from source: Endpoint, now: Double) {
        let expected: Int
        switch message.count >= 4 ? MessageType(rawValue: message[0]) : nil {
        case .initiation: expected = WireConstants.initiationLength
        case .response: expected = WireConstants.responseLength
        case .cookieReply: expected = WireConstants.cookieReplyLength
        case .transport, nil: expected = -1  // a transport message too short to be one, or no type at all
        }
        guard message.count == expected, message[1] == 0, message[2] == 0, message[3] == 0 else {
            drops_.malformed += 1
            return
        }
        if !handshakeQueue.push(message, from: source, receivedAt: now) { drops_.handshakeQueueFull += 1 }
    }

    /// Takes the oldest queued handshake messages (a batch; waiting up to `timeout` seconds for
    /// one) and handles each at the time it was read; nil if none came. The handshake thread's
    /// loop. mac1 is checked before the device's lock is taken (the key is read once per batch):
    /// a flood of junk handshake messages never holds up the data path's lock.
    public func serviceHandshakes(timeout: Double) -> DeviceOutput? {
        let batch = handshakeQueue.pop(upTo: 64, timeout: timeout)
        guard !batch.isEmpty else { return nil }
        let (mac1Key, threshold) = locked { (identity?.macKeys.mac1, loadThreshold_) }
        var output = DeviceOutput()
        var failed: [(source: Endpoint, length: Int, at: Double)] = []
        for (message, source, receivedAt) in batch {
            let type = MessageType(rawValue: message[0])
            let loaded = handshakeQueue.underLoad(now: receivedAt, threshold: threshold)  // junk counts towards load too
            if type == .initiation || type == .response {
                guard let mac1Key, Noise.verifyMAC1(message, key: mac1Key) else {
                    failed.append((source, message.count, receivedAt))
                    continue
                }
            }
            output.append(locked { handshakeLocked(message, from: source, now: receivedAt, loaded: loaded, mac1Checked: true) })
        }
        if !failed.isEmpty {
            locked {
                drops_.unauthenticated += failed.count
                for failure in failed {
                    logLimited(failure.at, "Received invalid handshake message from \(failure.source) (length \(failure.length), mac1 does not verify)")
                }
            }
        }
        return output
    }

    // MARK: Handshake messages

    /// A handshake message (or anything that is not a transport message), under the lock. The
    /// handshake thread has measured the load and checked mac1 already; the array API has not.
    func handshakeLocked(_ datagram: [UInt8], from source: Endpoint, now: Double, loaded: Bool? = nil, mac1Checked: Bool = false) -> DeviceOutput {
        var output = DeviceOutput()
        // The type is a little-endian 32-bit word: its three reserved bytes must be zero, as the kernel reads it.
        guard datagram.count >= 4, let type = datagram.first.flatMap(MessageType.init(rawValue:)),
              datagram.readUInt32LE(at: 0) == UInt32(type.rawValue), let identity else {
            drops_.malformed += 1
            return output
        }
        if type == .initiation || type == .response {
            let loaded = loaded ?? underLoad(now: now)  // before mac1, as the kernel: junk counts towards load too
            let expected = type == .initiation ? WireConstants.initiationLength : WireConstants.responseLength
            guard datagram.count == expected, mac1Checked || Noise.verifyMAC1(datagram, key: identity.macKeys.mac1) else {
                drops_.unauthenticated += 1
                logLimited(now, "Received invalid handshake message from \(source) (length \(datagram.count), mac1 does not verify)")
                return output
            }
            if loaded {
                guard cookieChecker?.verifyMAC2(datagram, source: source, now: now) == true else {
                    let sender = datagram.readUInt32LE(at: 4)
                    if let reply = cookieChecker?.reply(to: datagram, senderIndex: sender, source: source, now: now) {
                        output.datagrams.append((reply, source))
                    }
                    drops_.cookieReplies += 1
                    logLimited(now, "Sending cookie response for denied handshake message for \(source)")
                    return output
                }
                guard rateLimiter.allow(source, now: now) else {
                    drops_.rateLimited += 1
                    return output
                }
            }
        }
        switch type {
        case .initiation:
            guard let (received, peer) = Noise.consumeInitiation(datagram, local: identity, lookup: { key in
                      peers.first(where: { $0.publicKey == key }).map { ($0, $0.keys) }
                  }) else {
                drops_.unauthenticated += 1
                logLimited(now, "Received invalid handshake initiation from \(source): unknown peer or does not decrypt")
                return output
            }
            // Replay: a timestamp not newer than the last. Flood: more than 50 initiations a second
            // from one peer, even with fresh timestamps (the kernel's INITIATIONS_PER_SECOND).
            if let last = peer.lastTimestamp, !(last < received.timestamp) || now - peer.lastInitiationAccepted < 1 / WireConstants.initiationsPerSecond {
                drops_.replayed += 1
                logLimited(now, "\(peer.logName) - Received replayed or flooding handshake initiation from \(source)")
                return output
            }
            let index = newIndex()
            guard let (response, keys) = Noise.createResponse(to: received, peer: peer.keys, presharedKey: peer.presharedKey, localIndex: index,
                                                             cookie: validCookie(peer, now: now), ephemeral: newEphemeral()) else {
                drops_.unauthenticated += 1
                return output
            }
            peer.lastMAC1 = Array(response[Layout.Response.mac1])
            peer.lastHandshakeSent = now
            logLimited(now, "\(peer.logName) - Received handshake initiation, sending response")
            peer.lastTimestamp = received.timestamp
            peer.lastInitiationAccepted = now
            install(keys, for: peer, now: now)
            peer.endpoint = source
            peer.unansweredSince = .infinity  // an authenticated packet, as the kernel counts handshakes
            peer.rxBytes += UInt64(datagram.count)
            peer.txBytes += UInt64(response.count)
            output.datagrams.append((response, source))
        case .response:
            guard datagram.count == WireConstants.responseLength,
                  let peer = byIndex[datagram.readUInt32LE(at: Layout.Response.receiver.lowerBound)]?.takeUnretainedValue(),
                  let state = peer.pending,
                  let keys = Noise.consumeResponse(datagram, state: state, local: identity, presharedKey: peer.presharedKey) else {
                drops_.unauthenticated += 1
                logLimited(now, "Received invalid handshake response from \(source): no handshake of ours, or it does not decrypt")
                return output
            }
            logLimited(now, "\(peer.logName) - Received handshake response, session established")
            byIndex[state.localIndex] = nil
            peer.pending = nil
            peer.pendingSince = -1e9
            peer.firstAttempt = nil
            install(keys, for: peer, now: now)
            peer.endpoint = source
            peer.unansweredSince = .infinity  // an authenticated packet, as the kernel counts handshakes
            peer.rxBytes += UInt64(datagram.count)
            let queued = peer.queued
            peer.queued = []
            // Send what waited, or a keepalive to confirm the session to the responder.
            for packet in queued.isEmpty ? [[]] : queued { sendLocked(packet, to: peer, now: now, into: &output) }
        case .transport:
            drops_.malformed += 1  // too short to be one
        case .cookieReply:
            guard datagram.count == WireConstants.cookieReplyLength,
                  let peer = byIndex[datagram.readUInt32LE(at: Layout.CookieReply.receiver.lowerBound)]?.takeUnretainedValue(),
                  let cookie = CookieJar.open(datagram, key: peer.keys.macKeys.cookie, lastMAC1: peer.lastMAC1) else {
                drops_.unauthenticated += 1
                logLimited(now, "Received invalid cookie reply from \(source)")
                return output
            }
            peer.cookie = cookie
            peer.cookieReceived = now
            // One reply per mac1 sent, as the kernel's have_sent_mac1: a replayed reply finds none.
            peer.lastMAC1 = []
            logLimited(now, "\(peer.logName) - Received cookie response from \(source): the next handshake carries mac2")
        }
        return output
    }

    /// The initiator's new session becomes current at once (the one before stays for receiving
    /// until it expires); the responder's waits as `next` until the initiator's first packet on it
    /// confirms it, replacing any earlier unconfirmed one.
    private func install(_ keys: TransportKeys, for peer: Peer, now: Double) {
        let keypair = Keypair(keys, created: now)
        if let old = peer.next { byIndex[old.localIndex] = nil }
        peer.next = nil
        if keys.isInitiator {
            if let old = peer.previous { byIndex[old.localIndex] = nil }
            peer.previous = peer.current
            peer.current = keypair
        } else {
            peer.next = keypair
        }
        byIndex[keys.localIndex] = Unmanaged.passUnretained(peer)
        let wall = Date().timeIntervalSince1970
        peer.lastHandshake = (Int(wall), Int((wall - floor(wall)) * 1e9))
    }
}
