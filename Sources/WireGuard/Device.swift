// One WireGuard interface as a state machine, with no I/O: it is handed packets read from the
// TUN device (outbound) and datagrams read from the UDP socket (inbound) and the current time,
// and says what to write to each. Invariants: every malformed or unauthenticated input is
// dropped and counted, never thrown; a packet waits at most for one handshake, then is dropped.
//
// Two ways in. The datapath's works on whole batches where they lie in the engine's buffers
// (Send.swift: `prepareOutbound`, `seal`; Receive.swift: `prepareInbound`, `open`,
// `finishInbound`): it allocates nothing, takes the lock once per batch and only for lookups and
// counters, and leaves in the batch only values (counters, copied keys, indices), so that the
// cryptography runs outside the lock on any thread and nothing is reference-counted per packet.
// The array API (`outbound`, `inbound`) shares the same per-packet steps, for tests and for the
// rare packets that take the slow path (handshakes). This file: configuration, handshakes, timers.

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

public final class Device: @unchecked Sendable {
    /// The transport header in front of each packet, and the tag after it.
    public static let headroom = WireConstants.transportHeaderLength
    public static let overhead = WireConstants.transportHeaderLength + AEAD.tagLength

    let lock = NSLock()
    private var configuration = DeviceConfiguration()
    private var identity: StaticKeys?
    /// Prefixes to positions in `peers`.
    var allowedIPs = AllowedIPs<Int>()
    /// In the configuration's order; every peer here (and only these) may be in `byIndex`.
    private(set) var peers: [Peer] = []
    /// The same peers, unretained: what the datapath's loops reach a peer through (`peers` keeps them alive).
    var peerRefs: [Unmanaged<Peer>] = []
    /// Receiver indices of sessions and of handshakes in progress, to their peers (unretained:
    /// `peers` holds them, and a peer's entries go when it does).
    var byIndex: [UInt32: Unmanaged<Peer>] = [:]
    var drops_ = DropCounters()
    /// Peers' ids, never reused: a batch in flight names its peer by one.
    private var nextPeerID = 1
    /// Seals the slow path's packets (queued ones, keepalives) under the lock.
    let slowPathCipher = ChaCha20Poly1305()

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

    /// How many packets of the last batches failed to authenticate (counted once per batch).
    public func countUnauthenticated(_ count: Int) {
        guard count > 0 else { return }
        locked { drops_.unauthenticated += count }
    }

    public var drops: DropCounters { locked { drops_ } }

    public var listenPort: UInt16 { locked { configuration.listenPort } }

    /// With no listen port configured the daemon binds an ephemeral one, as wireguard-go does; this
    /// records it, so that `wg show` reports it and it stays.
    public func listenPortBound(_ port: UInt16) {
        locked { if configuration.listenPort == 0 { configuration.listenPort = port } }
    }

    func locked<T>(_ body: () -> T) -> T {
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
                let peer = existing[config.publicKey] ?? newPeer(config)
                peer.apply(config)
                return peer
            }
            let kept = Set(peers.map(ObjectIdentifier.init))
            for peer in existing.values where !kept.contains(ObjectIdentifier(peer)) { forgetSessions(of: peer) }
            peerRefs = peers.map { Unmanaged.passUnretained($0) }
            allowedIPs = AllowedIPs()
            for (position, config) in configuration.peers.enumerated() {
                for prefix in config.allowedIPs { allowedIPs.insert(prefix, peer: position) }
            }
            return response
        }
    }

    private func newPeer(_ config: PeerConfiguration) -> Peer {
        defer { nextPeerID += 1 }
        return Peer(config, id: nextPeerID)
    }

    private func forgetSessions(of peer: Peer) {
        byIndex = byIndex.filter { $0.value.toOpaque() != Unmanaged.passUnretained(peer).toOpaque() }
        peer.current = nil
        peer.previous = nil
        peer.next = nil
        peer.pending = nil
        peer.queued = []
    }

    /// No usable session: the packet waits (at most `Peer.queueLimit` of them) and a handshake starts
    /// unless one was sent less than REKEY_TIMEOUT ago.
    func queueForHandshake(_ packet: [UInt8], peer: Peer, now: Double, into output: inout DeviceOutput) {
        guard peer.endpoint != nil else { return }  // counted by reserve
        if !packet.isEmpty {
            peer.queued.append(packet)
            if peer.queued.count > Peer.queueLimit { peer.queued.removeFirst() }
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

    private func initiate(_ peer: Peer, now: Double, into output: inout DeviceOutput) {
        guard let identity, let endpoint = peer.endpoint else { return }
        let index = newIndex()
        let stamp = Self.initiationTimestamp(Date().timeIntervalSince1970)
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
        byIndex[index] = Unmanaged.passUnretained(peer)
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

    // MARK: Handshakes

    /// A handshake message (or anything that is not a transport message), under the lock.
    func handshakeLocked(_ datagram: [UInt8], from source: Endpoint, now: Double) -> DeviceOutput {
        var output = DeviceOutput()
        // The type is a little-endian 32-bit word: its three reserved bytes must be zero, as the kernel reads it.
        guard datagram.count >= 4, let type = datagram.first.flatMap(MessageType.init(rawValue:)),
              datagram.readUInt32LE(at: 0) == UInt32(type.rawValue), let identity else {
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
                  let peer = byIndex[datagram.readUInt32LE(at: Layout.Response.receiver.lowerBound)]?.takeUnretainedValue(),
                  let state = peer.pending,
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
                  let peer = byIndex[datagram.readUInt32LE(at: Layout.CookieReply.receiver.lowerBound)]?.takeUnretainedValue(),
                  let cookie = CookieJar.open(datagram, peerPublicKey: peer.publicKey, lastMAC1: peer.lastMAC1) else {
                drops_.unauthenticated += 1
                log_?("Received invalid cookie reply from \(source)")
                return output
            }
            peer.cookie = cookie
            peer.cookieReceived = now
            // One reply per mac1 sent, as the kernel's have_sent_mac1: a replayed reply finds none.
            peer.lastMAC1 = []
            log_?("\(peer.logName) - Received cookie response from \(source): the next handshake carries mac2")
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
