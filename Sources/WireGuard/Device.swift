// One WireGuard interface as a state machine, with no I/O: it is handed packets read from the
// TUN device (outbound) and datagrams read from the UDP socket (inbound) and the current time,
// and says what to write to each. Invariants: every malformed or unauthenticated input is
// dropped and counted, never thrown; a packet waits at most for one handshake, then is dropped.
//
// Two ways in. The datapath's: `prepareSend` / `seal` and `prepareReceive` / `open` /
// `finishReceive` work on packets where they lie in the engine's buffers, allocate nothing, and
// hold the lock only for lookups and counters; the cryptography runs outside it, so that worker
// threads can seal and open in parallel. The array API (`outbound`, `inbound`) is built on the
// same calls, for tests and for the rare packets that take the slow path (handshakes).

import Foundation
import WireGuardCrypto

/// What the device asks its caller to do.
public struct DeviceOutput: Sendable {
    /// UDP payloads and where to send them.
    public var datagrams: [(payload: [UInt8], to: Endpoint)] = []
    /// IP packets to write to the TUN device.
    public var packets: [[UInt8]] = []

    public init() {}
    public var isEmpty: Bool { datagrams.isEmpty && packets.isEmpty }
}

/// Drop counters, by reason.
public struct DropCounters: Sendable, Equatable {
    public var malformed = 0
    public var unauthenticated = 0
    public var replayed = 0
    public var noPeer = 0
    public var disallowedSource = 0
    public var noEndpoint = 0
    /// Packets too large for the engine's buffers.
    public var oversized = 0
    /// Handshake messages answered with a cookie reply instead of being processed (under load).
    public var cookieReplies = 0
}

/// A packet cleared to be sealed: the session and counter it gets, and where it goes.
public struct Sealing: @unchecked Sendable {
    public let peer: Peer
    public let keypair: Keypair
    public let counter: UInt64
    public let endpoint: Endpoint
}

public enum SendDecision {
    /// Seal it (`Device.seal`) and send it to the endpoint.
    case seal(Sealing)
    /// The device took care of it (dropped, or queued for a handshake); send what it asks.
    case handled(DeviceOutput)
}

/// A transport message whose session is known: open it (`Device.open`), then `finishReceive`.
public struct Opening: @unchecked Sendable {
    public let keypair: Keypair
    public let counter: UInt64
    public let peer: Peer
}

public enum ReceiveDecision {
    case open(Opening)
    case handled(DeviceOutput)
}

public final class Device: @unchecked Sendable {
    /// The transport header in front of each packet, and the tag after it.
    public static let headroom = WireConstants.transportHeaderLength
    public static let overhead = WireConstants.transportHeaderLength + AEAD.tagLength

    private let lock = NSLock()
    private var configuration = DeviceConfiguration()
    private var identity: StaticKeys?
    private var allowedIPs = AllowedIPs<Peer>()
    /// In the configuration's order.
    private(set) var peers: [Peer] = []
    /// Receiver indices of sessions and of handshakes in progress.
    private var byIndex: [UInt32: Peer] = [:]
    private var drops_ = DropCounters()

    /// Draws the jitter added to each handshake retransmission (0...0.333 s); tests fix it.
    private let jitter: () -> Double

    /// Under load (more handshake messages in a second than this), handshakes need a valid mac2:
    /// the rest get a cookie reply. The kernel's measure is its handshake queue; ours, the rate.
    public var loadThreshold: Int {
        get { locked { loadThreshold_ } }
        set { locked { loadThreshold_ = newValue } }
    }
    private var loadThreshold_ = 512
    private var loadWindowStart = -Double.infinity
    private var loadCount = 0
    private var underLoadUntil = -Double.infinity
    private var cookieChecker: CookieChecker?

    /// Where the device says what happens to handshakes (wireguard-go's verbose log lines).
    public var log: (@Sendable (String) -> Void)? {
        get { locked { log_ } }
        set { locked { log_ = newValue } }
    }
    private var log_: (@Sendable (String) -> Void)?

    public init(jitter: @escaping () -> Double = { Double.random(in: 0...WireConstants.rekeyTimeoutJitterMax) }) {
        self.jitter = jitter
        AEAD.prepare()
    }

    public var drops: DropCounters { locked { drops_ } }

    public var listenPort: UInt16 { locked { configuration.listenPort } }

    /// With no listen port configured the daemon binds an ephemeral one, as wireguard-go does; this
    /// records it, so that `wg show` reports it and it stays.
    public func listenPortBound(_ port: UInt16) {
        locked { if configuration.listenPort == 0 { configuration.listenPort = port } }
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    // MARK: Configuration (UAPI)

    public func handleUAPI(_ request: String) -> String {
        locked {
            for (index, peer) in zip(configuration.peers.indices, peers) {
                configuration.peers[index].endpoint = peer.endpoint
                configuration.peers[index].txBytes = peer.txBytes
                configuration.peers[index].rxBytes = peer.rxBytes
                configuration.peers[index].lastHandshake = peer.lastHandshake
            }
            let oldKey = configuration.privateKey
            let response = UAPI.handle(request, configuration: &configuration)
            if configuration.privateKey != oldKey {
                identity = configuration.privateKey.map { StaticKeys(privateKey: $0) }
                cookieChecker = identity.map { CookieChecker(localPublicKey: $0.publicKey) }
                for peer in peers { forgetSessions(of: peer) }  // sessions of the old identity end with it
            }
            let existing = Dictionary(peers.map { ($0.publicKey, $0) }, uniquingKeysWith: { first, _ in first })
            peers = configuration.peers.map { config in
                let peer = existing[config.publicKey] ?? Peer(config)
                peer.apply(config)
                return peer
            }
            let kept = Set(peers.map(ObjectIdentifier.init))
            for peer in existing.values where !kept.contains(ObjectIdentifier(peer)) { forgetSessions(of: peer) }
            allowedIPs = AllowedIPs()
            for (peer, config) in zip(peers, configuration.peers) {
                for prefix in config.allowedIPs { allowedIPs.insert(prefix, peer: peer) }
            }
            return response
        }
    }

    private func forgetSessions(of peer: Peer) {
        byIndex = byIndex.filter { $0.value !== peer }
        peer.current = nil
        peer.previous = nil
        peer.next = nil
        peer.pending = nil
        peer.queued = []
    }

    // MARK: Sending: TUN -> peer

    /// Decides what to do with an IP packet read from the TUN device. With `.seal`, the packet's
    /// counter is taken and the peer's counters moved: the caller must seal and send it.
    public func prepareSend(_ packet: UnsafeRawBufferPointer, now: Double) -> SendDecision {
        locked {
            guard let (offset, count) = Self.destinationField(packet),
                  let peer = allowedIPs.lookup(packet.baseAddress! + offset, count: count) else {
                drops_.noPeer += 1
                return .handled(DeviceOutput())
            }
            if let sealing = reserve(peer, length: packet.count, now: now) { return .seal(sealing) }
            var output = DeviceOutput()
            queueForHandshake(Array(packet), peer: peer, now: now, into: &output)
            return .handled(output)
        }
    }

    /// Seals the packet at `slot[headroom ..< headroom + length]` where it lies: pads it to 16 bytes,
    /// writes the transport header in front and the tag after. Returns the message's length
    /// (`slot` must have room for it: `sealedLength(length)`). No lock: any thread may call it.
    public static func seal(_ slot: UnsafeMutableRawBufferPointer, length: Int, with sealing: Sealing) -> Int {
        let padded = paddedLength(length)
        let base = slot.baseAddress!
        (base + headroom + length).initializeMemory(as: UInt8.self, repeating: 0, count: padded - length)
        base.storeBytes(of: UInt32(MessageType.transport.rawValue).littleEndian, as: UInt32.self)
        base.storeBytes(of: sealing.keypair.remoteIndex.littleEndian, toByteOffset: 4, as: UInt32.self)
        base.storeBytes(of: sealing.counter.littleEndian, toByteOffset: 8, as: UInt64.self)
        AEAD.seal(key: sealing.keypair.sendingKey, counter: sealing.counter, message: base + headroom, length: padded)
        return headroom + padded + AEAD.tagLength
    }

    public static func paddedLength(_ length: Int) -> Int {
        (length + WireConstants.paddingMultiple - 1) / WireConstants.paddingMultiple * WireConstants.paddingMultiple
    }

    /// The transport message's length for an IP packet of `length` bytes.
    public static func sealedLength(_ length: Int) -> Int { paddedLength(length) + overhead }

    /// A counter on the peer's current session, if it has one that may still send.
    private func reserve(_ peer: Peer, length: Int, now: Double) -> Sealing? {
        guard let endpoint = peer.endpoint else {
            drops_.noEndpoint += 1
            return nil
        }
        guard let keypair = peer.current, now - keypair.created < WireConstants.rejectAfterTime,
              keypair.sendCounter < WireConstants.rejectAfterMessages else { return nil }
        let counter = keypair.sendCounter
        keypair.sendCounter += 1
        peer.lastSent = now
        peer.txBytes += UInt64(Self.sealedLength(length))
        // Keep the key fresh (the timers act on it): after messages, and after time on the initiator.
        if keypair.sendCounter >= WireConstants.rekeyAfterMessages
            || (keypair.isInitiator && now - keypair.created >= WireConstants.rekeyAfterTime) {
            peer.wantsRekey = true
        }
        return Sealing(peer: peer, keypair: keypair, counter: counter, endpoint: endpoint)
    }

    /// No usable session: the packet waits (at most `Peer.queueLimit` of them) and a handshake starts
    /// unless one was sent less than REKEY_TIMEOUT ago.
    private func queueForHandshake(_ packet: [UInt8], peer: Peer, now: Double, into output: inout DeviceOutput) {
        guard peer.endpoint != nil else { return }  // counted by reserve
        if !packet.isEmpty {
            peer.queued.append(packet)
            if peer.queued.count > Peer.queueLimit { peer.queued.removeFirst() }
        }
        guard now - peer.lastHandshakeSent >= WireConstants.rekeyTimeout else { return }
        initiate(peer, now: now, into: &output)
    }

    /// Seals an array packet under the lock (queued packets, keepalives).
    private func sendLocked(_ packet: [UInt8], to peer: Peer, now: Double, into output: inout DeviceOutput) {
        guard let sealing = reserve(peer, length: packet.count, now: now) else {
            queueForHandshake(packet, peer: peer, now: now, into: &output)
            return
        }
        output.datagrams.append((Self.sealArray(packet, with: sealing), sealing.endpoint))
    }

    private static func sealArray(_ packet: [UInt8], with sealing: Sealing) -> [UInt8] {
        var message = [UInt8](repeating: 0, count: sealedLength(packet.count))
        let length = message.withUnsafeMutableBytes { slot in
            slot.baseAddress!.advanced(by: headroom).copyMemory(from: packet, byteCount: packet.count)
            return seal(slot, length: packet.count, with: sealing)
        }
        return Array(message.prefix(length))
    }

    private func initiate(_ peer: Peer, now: Double, into output: inout DeviceOutput) {
        guard let identity, let endpoint = peer.endpoint else { return }
        let index = newIndex()
        let wall = Date().timeIntervalSince1970
        let stamp = TAI64N(unixSeconds: UInt64(wall), nanoseconds: UInt32((wall - floor(wall)) * 1e9))
        guard let (message, state) = Noise.createInitiation(local: identity, remoteStatic: peer.publicKey, presharedKey: peer.presharedKey,
                                                            localIndex: index, timestamp: stamp, cookie: validCookie(peer, now: now)) else { return }
        peer.lastMAC1 = Array(message[Layout.Initiation.mac1])
        log_?("\(peer.logName) - Sending handshake initiation")
        if let old = peer.pending { byIndex[old.localIndex] = nil }
        peer.pending = state
        peer.pendingSince = now
        peer.lastHandshakeSent = now
        peer.jitter = jitter()
        peer.wantsRekey = false
        if peer.firstAttempt == nil { peer.firstAttempt = now }
        byIndex[index] = peer
        output.datagrams.append((message, endpoint))
        peer.txBytes += UInt64(message.count)
    }

    /// The peer's cookie while it is fresh (two minutes, less the latency margin the kernel keeps).
    private func validCookie(_ peer: Peer, now: Double) -> [UInt8]? {
        now - peer.cookieReceived < WireConstants.cookieRefreshTime - 5 ? peer.cookie : nil
    }

    /// Counts a handshake message; true while under load.
    private func underLoad(now: Double) -> Bool {
        if now - loadWindowStart >= 1 {
            loadWindowStart = now
            loadCount = 0
        }
        loadCount += 1
        if loadCount > loadThreshold_ { underLoadUntil = now + 1 }
        return now < underLoadUntil
    }

    private func newIndex() -> UInt32 {
        while true {
            let index = UInt32.random(in: 1...UInt32.max)
            if byIndex[index] == nil { return index }
        }
    }

    // MARK: Receiving: peer -> TUN

    /// Decides what to do with a UDP payload from `source`: a transport message for a known session
    /// comes back as `.open`; handshake messages are answered here.
    public func prepareReceive(_ message: UnsafeRawBufferPointer, from source: Endpoint, now: Double) -> ReceiveDecision {
        guard message.count >= WireConstants.minimumTransportLength,
              message.loadUnaligned(as: UInt32.self) == UInt32(MessageType.transport.rawValue).littleEndian else {
            return .handled(handshake(Array(message), from: source, now: now))
        }
        let receiver = UInt32(littleEndian: message.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let counter = UInt64(littleEndian: message.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        return locked {
            guard let peer = byIndex[receiver], let keypair = peer.keypair(index: receiver),
                  now - keypair.created < WireConstants.rejectAfterTime else {
                drops_.noPeer += 1
                return .handled(DeviceOutput())
            }
            return .open(Opening(keypair: keypair, counter: counter, peer: peer))
        }
    }

    /// Authenticates and decrypts the message at `slot[0 ..< length]` in place; the plaintext is
    /// then at `slot[headroom ..< length - tagLength]`. No lock. False: drop it and `countUnauthenticated`.
    public static func open(_ slot: UnsafeMutableRawBufferPointer, length: Int, with opening: Opening) -> Bool {
        open(slot, length: length, keypair: opening.keypair, counter: opening.counter)
    }

    public static func open(_ slot: UnsafeMutableRawBufferPointer, length: Int, keypair: Keypair, counter: UInt64) -> Bool {
        length >= overhead && AEAD.open(key: keypair.receivingKey, counter: counter, message: slot.baseAddress! + headroom, length: length - overhead)
    }

    /// A whole transport message for `packet` (tests, and packets sent from the slow path).
    public static func sealed(_ packet: [UInt8], keypair: Keypair, counter: UInt64, endpoint: Endpoint) -> [UInt8] {
        sealArray(packet, with: Sealing(peer: Peer(PeerConfiguration(publicKey: [])), keypair: keypair, counter: counter, endpoint: endpoint))
    }

    /// The padded plaintext of a transport message for `keypair`, or nil.
    public static func opened(_ message: [UInt8], keypair: Keypair) -> [UInt8]? {
        guard message.count >= WireConstants.minimumTransportLength, message[0] == MessageType.transport.rawValue,
              message.readUInt32LE(at: 4) == keypair.localIndex else { return nil }
        var slot = message
        let counter = message.readUInt64LE(at: 8)
        guard slot.withUnsafeMutableBytes({ open($0, length: message.count, keypair: keypair, counter: counter) }) else { return nil }
        return Array(slot[headroom..<(message.count - AEAD.tagLength)])
    }

    public func countUnauthenticated() { locked { drops_.unauthenticated += 1 } }

    /// After a successful `open`: replay check, endpoint roaming, counters, session confirmation,
    /// and the inner source check. Returns the IP packet's length (at `slot[headroom...]`) to write
    /// to the TUN device, or nil for a keepalive or a dropped packet. `output` gets what a newly
    /// confirmed session lets go (packets that waited for it).
    public func finishReceive(_ opening: Opening, plaintext: UnsafeRawBufferPointer, messageLength: Int,
                              from source: Endpoint, now: Double, output: inout DeviceOutput) -> Int? {
        locked {
            let peer = opening.peer
            guard opening.keypair.replay.accept(opening.counter) else {
                drops_.replayed += 1
                return nil
            }
            if peer.endpoint != source { peer.endpoint = source }  // roaming
            peer.rxBytes += UInt64(messageLength)
            if opening.keypair === peer.next {
                // The initiator used the session we answered with: it is confirmed.
                if let old = peer.previous { byIndex[old.localIndex] = nil }
                peer.previous = peer.current
                peer.current = peer.next
                peer.next = nil
                let queued = peer.queued
                peer.queued = []
                for packet in queued { sendLocked(packet, to: peer, now: now, into: &output) }
            }
            // Keep the key fresh from the receiving side too: an initiator whose session nears
            // REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT asks for a new one.
            if let current = peer.current, current.isInitiator,
               now - current.created >= WireConstants.rejectAfterTime - WireConstants.keepaliveTimeout - WireConstants.rekeyTimeout {
                peer.wantsRekey = true
            }
            guard !plaintext.isEmpty else { return nil }  // keepalive
            peer.lastDataReceived = now
            guard let length = Self.ipLength(plaintext), let (offset, count) = Self.sourceField(plaintext),
                  allowedIPs.lookup(plaintext.baseAddress! + offset, count: count) === peer else {
                drops_.disallowedSource += 1
                return nil
            }
            return length
        }
    }

    // MARK: The array API

    /// An IP packet from the TUN device.
    public func outbound(_ packet: [UInt8], now: Double) -> DeviceOutput {
        switch packet.withUnsafeBytes({ prepareSend($0, now: now) }) {
        case .handled(let output):
            return output
        case .seal(let sealing):
            var output = DeviceOutput()
            output.datagrams.append((Self.sealArray(packet, with: sealing), sealing.endpoint))
            return output
        }
    }

    /// A UDP payload from `source`.
    public func inbound(_ datagram: [UInt8], from source: Endpoint, now: Double) -> DeviceOutput {
        switch datagram.withUnsafeBytes({ prepareReceive($0, from: source, now: now) }) {
        case .handled(let output):
            return output
        case .open(let opening):
            var slot = datagram
            var output = DeviceOutput()
            slot.withUnsafeMutableBytes { raw in
                guard Self.open(raw, length: datagram.count, with: opening) else {
                    countUnauthenticated()
                    return
                }
                let plaintext = UnsafeRawBufferPointer(rebasing: raw[Self.headroom..<(datagram.count - AEAD.tagLength)])
                if let length = finishReceive(opening, plaintext: plaintext, messageLength: datagram.count, from: source, now: now,
                                              output: &output) {
                    output.packets.append(Array(plaintext.prefix(length)))
                }
            }
            return output
        }
    }

    // MARK: Handshakes

    private func handshake(_ datagram: [UInt8], from source: Endpoint, now: Double) -> DeviceOutput {
        locked {
            var output = DeviceOutput()
            guard let type = datagram.first.flatMap(MessageType.init(rawValue:)), let identity else {
                drops_.malformed += 1
                return output
            }
            if type == .initiation || type == .response {
                let expected = type == .initiation ? WireConstants.initiationLength : WireConstants.responseLength
                guard datagram.count == expected, Noise.verifyMAC1(datagram, localStatic: identity.publicKey) else {
                    drops_.unauthenticated += 1
                    log_?("Received invalid handshake message from \(source) (length \(datagram.count), mac1 does not verify)")
                    return output
                }
                if underLoad(now: now), cookieChecker?.verifyMAC2(datagram, source: source, now: now) != true {
                    let sender = datagram.readUInt32LE(at: 4)
                    if let reply = cookieChecker?.reply(to: datagram, senderIndex: sender, source: source, now: now) {
                        output.datagrams.append((reply, source))
                    }
                    drops_.cookieReplies += 1
                    log_?("Sending cookie response for denied handshake message for \(source)")
                    return output
                }
            }
            switch type {
            case .initiation:
                guard let received = Noise.consumeInitiation(datagram, local: identity),
                      let peer = peers.first(where: { $0.publicKey == received.peerStatic }) else {
                    drops_.unauthenticated += 1
                    log_?("Received invalid handshake initiation from \(source): unknown peer or does not decrypt")
                    return output
                }
                // Replay: a timestamp not newer than the last. Flood: more than 50 initiations a second
                // from one peer, even with fresh timestamps (the kernel's INITIATIONS_PER_SECOND).
                if let last = peer.lastTimestamp, !(last < received.timestamp) || now - peer.lastInitiationAccepted < 1.0 / 50 {
                    drops_.replayed += 1
                    log_?("\(peer.logName) - Received replayed or flooding handshake initiation from \(source)")
                    return output
                }
                let index = newIndex()
                guard let (response, keys) = Noise.createResponse(to: received, presharedKey: peer.presharedKey, localIndex: index,
                                                                 cookie: validCookie(peer, now: now)) else {
                    drops_.unauthenticated += 1
                    return output
                }
                peer.lastMAC1 = Array(response[Layout.Response.mac1])
                peer.lastHandshakeSent = now
                log_?("\(peer.logName) - Received handshake initiation, sending response")
                peer.lastTimestamp = received.timestamp
                peer.lastInitiationAccepted = now
                install(keys, for: peer, now: now)
                peer.endpoint = source
                peer.rxBytes += UInt64(datagram.count)
                peer.txBytes += UInt64(response.count)
                output.datagrams.append((response, source))
            case .response:
                guard datagram.count == WireConstants.responseLength,
                      let peer = byIndex[datagram.readUInt32LE(at: Layout.Response.receiver.lowerBound)], let state = peer.pending,
                      let keys = Noise.consumeResponse(datagram, state: state, local: identity, presharedKey: peer.presharedKey) else {
                    drops_.unauthenticated += 1
                    log_?("Received invalid handshake response from \(source): no handshake of ours, or it does not decrypt")
                    return output
                }
                log_?("\(peer.logName) - Received handshake response, session established")
                byIndex[state.localIndex] = nil
                peer.pending = nil
                peer.pendingSince = -1e9
                peer.firstAttempt = nil
                install(keys, for: peer, now: now)
                peer.endpoint = source
                peer.rxBytes += UInt64(datagram.count)
                let queued = peer.queued
                peer.queued = []
                // Send what waited, or a keepalive to confirm the session to the responder.
                for packet in queued.isEmpty ? [[]] : queued { sendLocked(packet, to: peer, now: now, into: &output) }
            case .transport:
                drops_.noPeer += 1  // too short to be one
            case .cookieReply:
                guard datagram.count == WireConstants.cookieReplyLength,
                      let peer = byIndex[datagram.readUInt32LE(at: Layout.CookieReply.receiver.lowerBound)],
                      let cookie = CookieJar.open(datagram, peerPublicKey: peer.publicKey, lastMAC1: peer.lastMAC1) else {
                    drops_.unauthenticated += 1
                    log_?("Received invalid cookie reply from \(source)")
                    return output
                }
                peer.cookie = cookie
                peer.cookieReceived = now
                log_?("\(peer.logName) - Received cookie response from \(source): the next handshake carries mac2")
            }
            return output
        }
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
        byIndex[keys.localIndex] = peer
        let wall = Date().timeIntervalSince1970
        peer.lastHandshake = (Int(wall), Int((wall - floor(wall)) * 1e9))
    }

    // MARK: Timers

    /// Called regularly (the daemon: every 100 ms) with the current time; sends what the timers
    /// ask for (whitepaper section 6): handshake retransmission with jitter until
    /// REKEY_ATTEMPT_TIME, then giving up and dropping what waited; the rekey traffic asked for
    /// (REKEY_AFTER_TIME or _MESSAGES); sessions dropped (and their keys wiped) after REJECT_AFTER_TIME;
    /// a keepalive when data came in and nothing went out for KEEPALIVE_TIMEOUT; persistent keepalives.
    public func tick(now: Double) -> DeviceOutput {
        locked {
            var output = DeviceOutput()
            for peer in peers {
                if peer.pending != nil, now - peer.pendingSince >= WireConstants.rekeyTimeout + peer.jitter {
                    if let first = peer.firstAttempt, now - first >= WireConstants.rekeyAttemptTime {
                        if let state = peer.pending { byIndex[state.localIndex] = nil }
                        peer.pending = nil  // with it the ephemeral private key
                        peer.queued = []
                        peer.firstAttempt = nil
                        log_?("\(peer.logName) - Handshake did not complete after \(Int(WireConstants.rekeyAttemptTime)) seconds, giving up")
                    } else {
                        log_?("\(peer.logName) - Handshake did not complete after \(Int(WireConstants.rekeyTimeout)) seconds, retrying")
                        initiate(peer, now: now, into: &output)
                    }
                }
                for keypair in [peer.previous, peer.current, peer.next].compactMap({ $0 })
                where now - keypair.created >= WireConstants.rejectAfterTime {
                    byIndex[keypair.localIndex] = nil
                    if peer.previous === keypair { peer.previous = nil } else if peer.current === keypair { peer.current = nil } else { peer.next = nil }
                }
                // Rekeying is asked for by traffic (sending past REKEY_AFTER_TIME or _MESSAGES,
                // receiving near REJECT_AFTER_TIME): an idle tunnel lets its session lapse.
                if peer.current != nil, peer.pending == nil, peer.wantsRekey {
                    initiate(peer, now: now, into: &output)
                }
                if peer.current != nil {
                    let passive = peer.lastDataReceived > peer.lastSent && now - peer.lastDataReceived >= WireConstants.keepaliveTimeout
                    let persistent = peer.persistentKeepalive > 0 && now - peer.lastSent >= Double(peer.persistentKeepalive)
                    if passive || persistent { sendLocked([], to: peer, now: now, into: &output) }
                } else if peer.persistentKeepalive > 0, peer.pending == nil, now - peer.lastHandshakeSent >= WireConstants.rekeyTimeout {
                    initiate(peer, now: now, into: &output)
                }
            }
            return output
        }
    }

    // MARK: IP headers

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
