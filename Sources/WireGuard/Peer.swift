// What a device keeps per peer at run time (the configuration, keys and endpoint set through
// the UAPI are in DeviceConfiguration): the sessions, the handshake in progress, timers' marks
// and the counters `wg show` reads. One object per peer, shared by reference so that the
// datapath finds it from the allowed-IPs trie or a receiver index without a dictionary of
// public keys. Every field is changed under the device's lock. What a handshake needs of the
// peer's key (`PeerKeys`: its MAC keys, the static-static DH) is derived when the peer is made
// and again when the device's private key changes, never per message.

import Foundation
import WireGuardCrypto

public final class Peer: Hashable, @unchecked Sendable {
    public let publicKey: [UInt8]
    /// Unique in its device for the device's life: batches in flight name their peer by it.
    public let id: Int
    /// For our device's current identity.
    private(set) var keys: PeerKeys
    var presharedKey: Secret
    var endpoint: Endpoint?
    var persistentKeepalive: UInt16 = 0

    /// The session packets are sent on, and the one before it (still accepted on receive until it
    /// expires, so that packets in flight across a rekey are not lost). A responder's new session
    /// waits as `next` until the initiator confirms it with a first packet (whitepaper 5.4.6: a
    /// responder may not send before); then it becomes current.
    var current: Keypair?
    var previous: Keypair?
    var next: Keypair?
    /// When we last sent an initiation or a response: a new initiation waits REKEY_TIMEOUT after it.
    var lastHandshakeSent = -Double.infinity

    // The handshake in progress (initiator side).
    var pending: InitiatorState?
    var pendingSince: Double = -1e9
    /// When the current run of handshake attempts began (REKEY_ATTEMPT_TIME bounds it).
    var firstAttempt: Double?
    /// Jitter drawn for the next retransmission.
    var jitter: Double = 0
    /// Packets waiting for a session, at most `WireConstants.maxStagedPackets`.
    var queued: [[UInt8]] = []
    /// The newest TAI64N timestamp seen in an initiation from this peer (replay protection), and
    /// when the last initiation from it was accepted (flood protection).
    var lastTimestamp: TAI64N?
    var lastInitiationAccepted = -Double.infinity
    /// Set by the datapath when the sending counter passes REKEY_AFTER_MESSAGES; the timers act on it.
    var wantsRekey = false
    /// The cookie the peer gave us under load, when, and the mac1 of our last handshake message
    /// to it (a cookie reply is bound to it).
    var cookie: [UInt8]?
    var cookieReceived = -Double.infinity
    var lastMAC1: [UInt8] = []

    // Timers' marks.
    var lastSent: Double = -1e9
    var lastDataReceived: Double = -1e9
    /// When data was first sent since the last authenticated packet came in (infinity: none since):
    /// the new-handshake timer runs from here.
    var unansweredSince = Double.infinity

    // `wg show`.
    var txBytes: UInt64 = 0
    var rxBytes: UInt64 = 0
    var lastHandshake: (seconds: Int, nanoseconds: Int) = (0, 0)

    init(_ configuration: PeerConfiguration, id: Int, local: StaticKeys?) {
        publicKey = configuration.publicKey
        self.id = id
        keys = PeerKeys(publicKey: configuration.publicKey, local: local)
        presharedKey = configuration.presharedKey
        apply(configuration)
    }

    /// The device's private key changed: the static-static DH follows it (the old one is wiped).
    func identityChanged(to local: StaticKeys?) {
        keys = keys.with(local: local)
    }

    /// Takes what `wg set` may change.
    func apply(_ configuration: PeerConfiguration) {
        presharedKey = configuration.presharedKey
        endpoint = configuration.endpoint
        persistentKeepalive = configuration.persistentKeepalive
    }

    /// The keypair a receiver index names, if it is one of this peer's sessions.
    func keypair(index: UInt32) -> Keypair? {
        if let current, current.localIndex == index { return current }
        if let previous, previous.localIndex == index { return previous }
        if let next, next.localIndex == index { return next }
        return nil
    }

    /// A short name for logs, as wireguard-go writes it: peer(abcd…wxyz) of the base64 key.
    var logName: String {
        let text = Data(publicKey).base64EncodedString()
        return "peer(\(text.prefix(4))…\(text.dropLast().suffix(4)))"
    }

    public static func == (a: Peer, b: Peer) -> Bool { a === b }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
