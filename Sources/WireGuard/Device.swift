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
// rare packets that take the slow path (handshakes). This file: the device's state and its lock;
// Configuration.swift, Handshake.swift, Timers.swift, IPHeader.swift and Constants.swift the rest.

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

/// Drop counters, by reason: what the daemon reports (its log at exit and on SIGUSR1, its stats
/// file) and wgbench records with each repetition.
public struct DropCounters: Sendable, Equatable {
    /// Not a WireGuard message of a known type and length, or reserved bytes set.
    public var malformed = 0
    /// A message that did not authenticate: mac1, a handshake that does not decrypt, a transport
    /// message whose tag does not verify.
    public var unauthenticated = 0
    /// A transport message counter seen before or left behind by the replay window; an initiation
    /// replayed or faster than 50 a second from its peer.
    public var replayed = 0
    /// Outbound: no peer's allowed IPs hold the packet's destination.
    public var noPeer = 0
    /// Inbound: a transport message for no current session (unknown receiver index, or expired).
    public var noSession = 0
    /// Inbound: the inner source address is not in the allowed IPs of the peer whose session opened it.
    public var disallowedSource = 0
    /// Outbound: the peer has no endpoint to send to.
    public var noEndpoint = 0
    /// Handshake messages answered with a cookie reply instead of being processed (under load).
    public var cookieReplies = 0
    /// Handshake messages dropped because the handshake queue was full.
    public var handshakeQueueFull = 0
    /// Handshake messages with a valid cookie dropped by the per-source rate limiter (under load).
    public var rateLimited = 0

    public init() {}

    /// Every counter with its name in the stats file (snake_case, as the UAPI's keys).
    public var named: [(name: String, count: Int)] {
        [("malformed", malformed), ("unauthenticated", unauthenticated), ("replayed", replayed), ("no_peer", noPeer),
         ("no_session", noSession), ("disallowed_source", disallowedSource), ("no_endpoint", noEndpoint),
         ("cookie_replies", cookieReplies), ("handshake_queue_full", handshakeQueueFull), ("rate_limited", rateLimited)]
    }
}

public final class Device: @unchecked Sendable {
    /// The transport header in front of each packet, and the tag after it.
    public static let headroom = WireConstants.transportHeaderLength
    public static let overhead = WireConstants.transportHeaderLength + AEAD.tagLength

    let lock = NSLock()
    var configuration = DeviceConfiguration()
    var identity: StaticKeys?
    /// Prefixes to positions in `peers`.
    var allowedIPs = AllowedIPs<Int>()
    /// In the configuration's order; every peer here (and only these) may be in `byIndex`.
    var peers: [Peer] = []
    /// The same peers, unretained: what the datapath's loops reach a peer through (`peers` keeps them alive).
    var peerRefs: [Unmanaged<Peer>] = []
    /// Receiver indices of sessions and of handshakes in progress, to their peers (unretained:
    /// `peers` holds them, and a peer's entries go when it does).
    var byIndex: [UInt32: Unmanaged<Peer>] = [:]
    var drops_ = DropCounters()
    /// Peers' ids, never reused: a batch in flight names its peer by one.
    var nextPeerID = 1
    /// Seals the slow path's packets (queued ones, keepalives) under the lock.
    let slowPathCipher = ChaCha20Poly1305()

    /// Draws the jitter added to each handshake retransmission (0...0.333 s); tests fix it.
    let jitter: () -> Double

    /// Handshake messages on their way from the reading thread to the handshake thread.
    public let handshakeQueue = HandshakeQueue()
    /// Under load (this many handshake messages waiting, or that many a moment ago), handshakes
    /// need a valid mac2 and pass the per-source rate limiter; the rest get a cookie reply. The
    /// kernel's measure; tests lower it (0: always under load).
    public var loadThreshold: Int {
        get { locked { loadThreshold_ } }
        set { locked { loadThreshold_ = newValue } }
    }
    var loadThreshold_ = WireConstants.underLoadQueueLength
    var rateLimiter = RateLimiter()
    var cookieChecker: CookieChecker?

    /// Where the device says what happens to handshakes (wireguard-go's verbose log lines), at
    /// most `WireConstants.logBurst` lines each `logInterval` (the rest counted as suppressed).
    public var log: (@Sendable (String) -> Void)? {
        get { locked { log_ } }
        set { locked { log_ = newValue } }
    }
    var log_: (@Sendable (String) -> Void)?
    /// Every line the device writes passes it (LogRateLimiter.swift).
    var logLimiter = LogRateLimiter()

    /// Writes each new handshake's ephemeral private key into the secret it is given; tests inject
    /// known keys to look for them in memory after the handshake.
    let ephemeralKeys: (Secret) -> Void

    public init(jitter: @escaping () -> Double = { Double.random(in: 0...WireConstants.rekeyTimeoutJitterMax) },
                ephemeralKeys: @escaping (Secret) -> Void = { Curve25519.generatePrivateKey(into: $0) }) {
        self.jitter = jitter
        self.ephemeralKeys = ephemeralKeys
        AEAD.prepare()
    }

    /// A fresh ephemeral private key for a handshake message.
    func newEphemeral() -> Secret {
        let key = Secret(count: Curve25519.keyLength)
        ephemeralKeys(key)
        return key
    }

    /// How many packets of the last batches failed to authenticate (counted once per batch).
    public func countUnauthenticated(_ count: Int) {
        guard count > 0 else { return }
        locked { drops_.unauthenticated += count }
    }

    public var drops: DropCounters { locked { drops_ } }

    public var listenPort: UInt16 { locked { configuration.listenPort } }

    /// The TUN interface's MTU, which caps each packet's padding (0: no cap); the daemon follows
    /// `ip link set mtu` with it.
    public var mtu: Int {
        get { locked { mtu_ } }
        set { locked { mtu_ = max(0, newValue) } }
    }
    var mtu_ = 0

    /// The fwmark the configuration asks the UDP socket to carry (SO_MARK); 0: none.
    public var fwmark: UInt32 { locked { configuration.fwmark } }

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
}
