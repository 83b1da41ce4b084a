// One WireGuard interface as a state machine, with no I/O: it is handed packets read from the
// TUN device (outbound) and datagrams read from the UDP socket (inbound) and the current time,
// and returns what to write to each. The daemon's run-to-completion loop drives it; unit tests
// connect two of them directly. Invariants: every malformed or unauthenticated input is dropped
// and counted, never thrown; a packet waits at most for one handshake, then is dropped.

import Foundation
import WireGuardCrypto

/// What the device asks its caller to do.
public struct DeviceOutput: Sendable {
    /// UDP payloads and where to send them.
    public var datagrams: [(payload: [UInt8], to: Endpoint)] = []
    /// IP packets to write to the TUN device.
    public var packets: [[UInt8]] = []
}

/// Drop counters, by reason.
public struct DropCounters: Sendable, Equatable {
    public var malformed = 0
    public var unauthenticated = 0
    public var replayed = 0
    public var noPeer = 0
    public var disallowedSource = 0
    public var noEndpoint = 0
}

public final class Device: @unchecked Sendable {
    private let lock = NSLock()
    private var configuration = DeviceConfiguration()
    private var identity: StaticKeys?
    private var allowedIPs = AllowedIPs<[UInt8]>()
    private var sessions: [[UInt8]: PeerSession] = [:]
    private var byIndex: [UInt32: [UInt8]] = [:]
    public private(set) var drops = DropCounters()

    struct PeerSession {
        var keys: TransportKeys?
        var established: Double = 0
        var sendCounter: UInt64 = 0
        var replay = ReplayCounter()
        var pending: InitiatorState?
        var pendingSince: Double = -1e9
        var queued: [[UInt8]] = []
        var lastTimestamp: TAI64N?
        /// When the current run of handshake attempts began (REKEY_ATTEMPT_TIME bounds it).
        var firstAttempt: Double?
        /// Jitter drawn for the next retransmission.
        var jitter: Double = 0
        var lastSent: Double = -1e9
        var lastDataReceived: Double = -1e9
    }

    /// Draws the jitter added to each handshake retransmission (0...0.333 s); tests fix it.
    private let jitter: () -> Double

    public init(jitter: @escaping () -> Double = { Double.random(in: 0...WireConstants.rekeyTimeoutJitterMax) }) {
        self.jitter = jitter
    }

    // MARK: Configuration (UAPI)

    public func handleUAPI(_ request: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        let response = UAPI.handle(request, configuration: &configuration)
        identity = configuration.privateKey.map { StaticKeys(privateKey: $0) }
        allowedIPs = AllowedIPs()
        for peer in configuration.peers {
            for prefix in peer.allowedIPs { allowedIPs.insert(prefix, peer: peer.publicKey) }
            if sessions[peer.publicKey] == nil { sessions[peer.publicKey] = PeerSession() }
        }
        return response
    }

    public var listenPort: UInt16 {
        lock.lock()
        defer { lock.unlock() }
        return configuration.listenPort
    }

    // MARK: Outbound: TUN -> peer

    /// An IP packet from the TUN device.
    public func outbound(_ packet: [UInt8], now: Double) -> DeviceOutput {
        lock.lock()
        defer { lock.unlock() }
        var output = DeviceOutput()
        guard let destination = Self.destination(of: packet), let peer = allowedIPs.lookup(destination) else {
            drops.noPeer += 1
            return output
        }
        send(packet, to: peer, now: now, into: &output)
        return output
    }

    private func send(_ packet: [UInt8], to peer: [UInt8], now: Double, into output: inout DeviceOutput) {
        guard let endpoint = configuration.peer(peer)?.endpoint else {
            drops.noEndpoint += 1
            return
        }
        var session = sessions[peer] ?? PeerSession()
        defer { sessions[peer] = session }
        if let keys = session.keys, now - session.established < WireConstants.rejectAfterTime,
           session.sendCounter < WireConstants.rejectAfterMessages {
            output.datagrams.append((TransportMessage.seal(packet, keys: keys, counter: session.sendCounter), endpoint))
            session.sendCounter += 1
            session.lastSent = now
            countTx(peer, output.datagrams.last!.payload.count)
            // Rekey after messages: keep sending on this session while a new one is made.
            if session.sendCounter >= WireConstants.rekeyAfterMessages, session.pending == nil {
                initiate(peer, session: &session, endpoint: endpoint, now: now, into: &output)
            }
            return
        }
        if !packet.isEmpty { session.queued = Array((session.queued + [packet]).suffix(64)) }
        guard now - session.pendingSince >= WireConstants.rekeyTimeout else { return }
        initiate(peer, session: &session, endpoint: endpoint, now: now, into: &output)
    }

    private func initiate(_ peer: [UInt8], session: inout PeerSession, endpoint: Endpoint, now: Double, into output: inout DeviceOutput) {
        guard let identity, let config = configuration.peer(peer) else { return }
        let index = UInt32.random(in: 1...UInt32.max)
        let wall = Date().timeIntervalSince1970
        let stamp = TAI64N(unixSeconds: UInt64(wall), nanoseconds: UInt32((wall - floor(wall)) * 1e9))
        guard let (message, state) = Noise.createInitiation(local: identity, remoteStatic: peer, presharedKey: config.presharedKey,
                                                            localIndex: index, timestamp: stamp) else { return }
        session.pending = state
        session.pendingSince = now
        session.jitter = jitter()
        if session.firstAttempt == nil { session.firstAttempt = now }
        byIndex[index] = peer
        output.datagrams.append((message, endpoint))
        countTx(peer, message.count)
    }

    // MARK: Inbound: peer -> TUN

    /// A UDP payload from `source`.
    public func inbound(_ datagram: [UInt8], from source: Endpoint, now: Double) -> DeviceOutput {
        lock.lock()
        defer { lock.unlock() }
        var output = DeviceOutput()
        guard let type = datagram.first.flatMap(MessageType.init(rawValue:)), let identity else {
            drops.malformed += 1
            return output
        }
        switch type {
        case .initiation:
            guard let received = Noise.consumeInitiation(datagram, local: identity),
                  let config = configuration.peer(received.peerStatic) else { drops.unauthenticated += 1; return output }
            var session = sessions[received.peerStatic] ?? PeerSession()
            if let last = session.lastTimestamp, !(last < received.timestamp) { drops.replayed += 1; return output }
            let index = UInt32.random(in: 1...UInt32.max)
            guard let (response, keys) = Noise.createResponse(to: received, presharedKey: config.presharedKey, localIndex: index) else {
                drops.unauthenticated += 1
                return output
            }
            session.lastTimestamp = received.timestamp
            install(keys, in: &session, now: now)
            stampHandshake(received.peerStatic)
            byIndex[index] = received.peerStatic
            sessions[received.peerStatic] = session
            roam(received.peerStatic, to: source)
            output.datagrams.append((response, source))
            countRx(received.peerStatic, datagram.count)
            countTx(received.peerStatic, response.count)
        case .response:
            guard datagram.count == WireConstants.responseLength,
                  let peer = byIndex[datagram.readUInt32LE(at: 8)], var session = sessions[peer], let state = session.pending,
                  let config = configuration.peer(peer),
                  let keys = Noise.consumeResponse(datagram, state: state, local: identity, presharedKey: config.presharedKey)
            else { drops.unauthenticated += 1; return output }
            session.pending = nil
            session.pendingSince = -1e9
            session.firstAttempt = nil
            install(keys, in: &session, now: now)
            stampHandshake(peer)
            let queued = session.queued
            session.queued = []
            sessions[peer] = session
            roam(peer, to: source)
            countRx(peer, datagram.count)
            // Send what waited, or a keepalive to confirm the session to the responder.
            for packet in queued.isEmpty ? [[]] : queued { send(packet, to: peer, now: now, into: &output) }
        case .transport:
            guard let (receiver, counter) = TransportMessage.header(datagram), let peer = byIndex[receiver],
                  var session = sessions[peer], let keys = session.keys, keys.localIndex == receiver else {
                drops.noPeer += 1
                return output
            }
            guard let plaintext = TransportMessage.open(datagram, keys: keys) else { drops.unauthenticated += 1; return output }
            guard session.replay.accept(counter) else { drops.replayed += 1; return output }
            if !plaintext.isEmpty { session.lastDataReceived = now }
            sessions[peer] = session
            roam(peer, to: source)
            countRx(peer, datagram.count)
            guard !plaintext.isEmpty else { return output }  // keepalive
            guard let packet = Self.trimmed(plaintext), let origin = Self.source(of: packet), allowedIPs.lookup(origin) == peer else {
                drops.disallowedSource += 1
                return output
            }
            output.packets.append(packet)
        case .cookieReply:
            drops.malformed += 1  // cookies under load: not implemented yet
        }
        return output
    }

    // MARK: Timers

    /// Called regularly (the daemon: every 200 ms) with the current time; sends what the timers
    /// ask for (whitepaper section 6): handshake retransmission with jitter until
    /// REKEY_ATTEMPT_TIME, then giving up and dropping what waited; rekey after REKEY_AFTER_TIME
    /// on the initiator's side; session keys dropped after REJECT_AFTER_TIME; a keepalive when
    /// data came in and nothing went out for KEEPALIVE_TIMEOUT; persistent keepalives.
    public func tick(now: Double) -> DeviceOutput {
        lock.lock()
        defer { lock.unlock() }
        var output = DeviceOutput()
        for peer in configuration.peers {
            guard var session = sessions[peer.publicKey] else { continue }
            let key = peer.publicKey
            if session.pending != nil, now - session.pendingSince >= WireConstants.rekeyTimeout + session.jitter {
                if let first = session.firstAttempt, now - first >= WireConstants.rekeyAttemptTime {
                    session.pending = nil
                    session.queued = []
                    session.firstAttempt = nil
                } else if let endpoint = peer.endpoint {
                    initiate(key, session: &session, endpoint: endpoint, now: now, into: &output)
                }
            }
            if let keys = session.keys {
                let age = now - session.established
                if age >= WireConstants.rejectAfterTime {
                    byIndex[keys.localIndex] = nil
                    session.keys = nil  // dropped: never used again
                } else if keys.isInitiator, age >= WireConstants.rekeyAfterTime, session.pending == nil, let endpoint = peer.endpoint {
                    initiate(key, session: &session, endpoint: endpoint, now: now, into: &output)
                }
            }
            if session.keys != nil {
                let passive = session.lastDataReceived > session.lastSent && now - session.lastDataReceived >= WireConstants.keepaliveTimeout
                let persistent = peer.persistentKeepalive > 0 && now - session.lastSent >= Double(peer.persistentKeepalive)
                sessions[key] = session
                if passive || persistent { send([], to: key, now: now, into: &output) }  // send works on the stored session
            } else {
                if peer.persistentKeepalive > 0, session.pending == nil, let endpoint = peer.endpoint {
                    initiate(key, session: &session, endpoint: endpoint, now: now, into: &output)
                }
                sessions[key] = session
            }
        }
        return output
    }

    /// A new session replaces the old one; its receiver index stops resolving.
    private func install(_ keys: TransportKeys, in session: inout PeerSession, now: Double) {
        if let old = session.keys, old.localIndex != keys.localIndex { byIndex[old.localIndex] = nil }
        session.keys = keys
        session.established = now
        session.sendCounter = 0
        session.replay = ReplayCounter()
    }

    /// Endpoint roaming: authenticated packets move the peer's endpoint to where they came from.
    private func roam(_ peer: [UInt8], to endpoint: Endpoint) {
        guard let index = configuration.peers.firstIndex(where: { $0.publicKey == peer }) else { return }
        configuration.peers[index].endpoint = endpoint
    }

    private func countTx(_ peer: [UInt8], _ bytes: Int) {
        if let index = configuration.peers.firstIndex(where: { $0.publicKey == peer }) { configuration.peers[index].txBytes += UInt64(bytes) }
    }

    private func countRx(_ peer: [UInt8], _ bytes: Int) {
        if let index = configuration.peers.firstIndex(where: { $0.publicKey == peer }) { configuration.peers[index].rxBytes += UInt64(bytes) }
    }

    /// `latest handshake` in wg show: wall-clock time of the last completed handshake.
    private func stampHandshake(_ peer: [UInt8]) {
        guard let index = configuration.peers.firstIndex(where: { $0.publicKey == peer }) else { return }
        let wall = Date().timeIntervalSince1970
        configuration.peers[index].lastHandshake = (Int(wall), Int((wall - floor(wall)) * 1e9))
    }

    // MARK: IP headers

    static func destination(of packet: [UInt8]) -> [UInt8]? {
        guard let version = packet.first.map({ $0 >> 4 }) else { return nil }
        if version == 4, packet.count >= 20 { return Array(packet[16..<20]) }
        if version == 6, packet.count >= 40 { return Array(packet[24..<40]) }
        return nil
    }

    static func source(of packet: [UInt8]) -> [UInt8]? {
        guard let version = packet.first.map({ $0 >> 4 }) else { return nil }
        if version == 4, packet.count >= 20 { return Array(packet[12..<16]) }
        if version == 6, packet.count >= 40 { return Array(packet[8..<24]) }
        return nil
    }

    /// The packet without its padding, by the length in its IP header.
    static func trimmed(_ plaintext: [UInt8]) -> [UInt8]? {
        guard let version = plaintext.first.map({ $0 >> 4 }) else { return nil }
        let length: Int
        if version == 4, plaintext.count >= 20 { length = Int(plaintext[2]) << 8 | Int(plaintext[3]) }
        else if version == 6, plaintext.count >= 40 { length = 40 + (Int(plaintext[4]) << 8 | Int(plaintext[5])) }
        else { return nil }
        return length <= plaintext.count ? Array(plaintext.prefix(length)) : nil
    }
}
