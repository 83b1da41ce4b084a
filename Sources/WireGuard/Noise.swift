// The Noise_IKpsk2 handshake (whitepaper 5.4.2-5.4.5): first message from the initiator (148
// bytes), second from the responder (92 bytes), then both derive a pair of transport keys.
// Pure functions over messages and keys: peers, timers and sockets live elsewhere. Invariants:
// every failure returns nil (the caller drops and counts); mac1 is always added and checked
// first, with keys derived once per public key (`MACKeys`).
//
// Key erasure, as the kernel's noise.c: every secret (static and ephemeral private keys, DH
// results, chaining keys, handshake hashes, the keys of the AEADs, the transport keys) is a
// `Secret`, never an array, so it is wiped when the last reference goes: a function's
// intermediates when it returns, the initiator's state when the response is taken or the
// handshake abandoned, the received initiation when the response is made.
//
// Cost, as the kernel and wireguard-go: a responder looks the sender up right after decrypting
// its static key, so a message from an unknown key costs one X25519; the static-static DH is
// computed once per peer (`PeerKeys`, when the peer is configured or the private key changes),
// not per message.

import WireGuardCrypto

/// A local static key pair, and what is derived once from it for the MACs.
public struct StaticKeys: Sendable {
    public let privateKey: Secret
    public let publicKey: [UInt8]
    /// Checks mac1 on messages to us and seals our cookie replies.
    public let macKeys: MACKeys

    public init(privateKey: Secret) {
        self.privateKey = privateKey
        publicKey = Curve25519.publicKey(of: privateKey)
        macKeys = MACKeys(publicKey: publicKey)
    }

    /// From a key the caller holds in an array (tests, the harness): the array is its to wipe.
    public init(privateKey: [UInt8]) { self.init(privateKey: Secret(copying: privateKey)) }
}

/// What a handshake with one peer needs of it, derived once: the kernel's remote_static,
/// precomputed_static_static and its cookie's precomputed keys.
public struct PeerKeys: Sendable {
    public let publicKey: [UInt8]
    /// mac1 on messages to the peer, and opening its cookie replies.
    public let macKeys: MACKeys
    /// DH(our static private key, the peer's static public key); nil with no private key, or when
    /// the peer's key is of low order (all zeros): every handshake with the peer fails then.
    let staticStatic: Secret?

    public init(publicKey: [UInt8], local: StaticKeys?) {
        self.init(publicKey: publicKey, macKeys: MACKeys(publicKey: publicKey), local: local)
    }

    private init(publicKey: [UInt8], macKeys: MACKeys, local: StaticKeys?) {
        self.publicKey = publicKey
        self.macKeys = macKeys
        staticStatic = local.flatMap { local in
            let secret = Secret()
            return Curve25519.sharedSecret(privateKey: local.privateKey, publicKey: publicKey, into: secret) ? secret : nil
        }
    }

    /// The same peer with our private key changed.
    public func with(local: StaticKeys?) -> PeerKeys { PeerKeys(publicKey: publicKey, macKeys: macKeys, local: local) }
}

/// The two symmetric keys a handshake yields, with the indices each side knows the session by.
public struct TransportKeys: Sendable, Equatable {
    public let sending: Secret
    public let receiving: Secret
    public let localIndex: UInt32
    public let remoteIndex: UInt32
    public let isInitiator: Bool
}

/// What the initiator keeps between sending an initiation and receiving the response.
public struct InitiatorState: Sendable {
    let chainingKey: Secret
    let hash: Secret
    let ephemeralPrivate: Secret
    let localIndex: UInt32
    let remoteStatic: [UInt8]
}

/// A valid initiation from a known peer, opened by the responder.
public struct ReceivedInitiation: Sendable {
    public let peerStatic: [UInt8]
    public let senderIndex: UInt32
    public let timestamp: TAI64N
    let chainingKey: Secret
    let hash: Secret
    let peerEphemeral: [UInt8]
}

public enum Noise {
    static let initialChainingKey = WireGuardHash.hash(WireConstants.construction)
    static let initialHash = WireGuardHash.hash(initialChainingKey, WireConstants.identifier)

    // MARK: Initiation

    /// The initiation to `peer`, and the state to take its response with. `ephemeral`: a fresh
    /// private key, kept in the state (and wiped with it).
    public static func createInitiation(local: StaticKeys, peer: PeerKeys, localIndex: UInt32, timestamp: TAI64N,
                                        cookie: [UInt8]? = nil,
                                        ephemeral: Secret = Curve25519.newPrivateKey()) -> ([UInt8], InitiatorState)? {
        guard let ss = peer.staticStatic else { return nil }
        let ck = Secret(copying: initialChainingKey), h = Secret(copying: WireGuardHash.hash(initialHash, peer.publicKey))
        let key = Secret(), dh = Secret()
        var message = [UInt8](repeating: 0, count: WireConstants.initiationLength)
        message[0] = MessageType.initiation.rawValue
        message.writeUInt32LE(localIndex, at: Layout.Initiation.sender.lowerBound)

        let ephemeralPublic = Curve25519.publicKey(of: ephemeral)
        message.replaceSubrange(Layout.Initiation.ephemeral, with: ephemeralPublic)
        WireGuardHash.kdf(key: ck, input: ephemeralPublic, into: ck)
        WireGuardHash.hash(into: h, h, ephemeralPublic)

        guard Curve25519.sharedSecret(privateKey: ephemeral, publicKey: peer.publicKey, into: dh) else { return nil }
        WireGuardHash.kdf(key: ck, input: dh, into: ck, key)
        let encryptedStatic = seal(key: key, local.publicKey, h)
        message.replaceSubrange(Layout.Initiation.encryptedStatic, with: encryptedStatic)
        WireGuardHash.hash(into: h, h, encryptedStatic)

        WireGuardHash.kdf(key: ck, input: ss, into: ck, key)
        let encryptedTimestamp = seal(key: key, timestamp.bytes, h)
        message.replaceSubrange(Layout.Initiation.encryptedTimestamp, with: encryptedTimestamp)
        WireGuardHash.hash(into: h, h, encryptedTimestamp)

        addMACs(&message, key: peer.macKeys.mac1, cookie: cookie)
        return (message, InitiatorState(chainingKey: ck, hash: h, ephemeralPrivate: ephemeral, localIndex: localIndex,
                                        remoteStatic: peer.publicKey))
    }

    /// Opens an initiation addressed to `local`; nil if it is malformed, does not decrypt, or comes
    /// from a key `lookup` does not know (asked as soon as the sender's static key is decrypted,
    /// before anything else is spent on the message). The caller rejects timestamps not newer than
    /// the last.
    public static func consumeInitiation<Known>(_ message: [UInt8], local: StaticKeys,
                                                lookup: (_ peerStatic: [UInt8]) -> (Known, PeerKeys)?) -> (ReceivedInitiation, Known)? {
        guard message.count == WireConstants.initiationLength, message[0] == MessageType.initiation.rawValue,
              verifyMAC1(message, key: local.macKeys.mac1) else { return nil }
        let ck = Secret(copying: initialChainingKey), h = Secret(copying: WireGuardHash.hash(initialHash, local.publicKey))
        let key = Secret(), dh = Secret()
        let ephemeral = Array(message[Layout.Initiation.ephemeral])
        WireGuardHash.kdf(key: ck, input: ephemeral, into: ck)
        WireGuardHash.hash(into: h, h, ephemeral)

        guard Curve25519.sharedSecret(privateKey: local.privateKey, publicKey: ephemeral, into: dh) else { return nil }
        WireGuardHash.kdf(key: ck, input: dh, into: ck, key)
        let encryptedStatic = Array(message[Layout.Initiation.encryptedStatic])
        guard let peerStatic = open(key: key, encryptedStatic, h) else { return nil }
        WireGuardHash.hash(into: h, h, encryptedStatic)

        guard let (known, peer) = lookup(peerStatic), peer.publicKey == peerStatic, let ss = peer.staticStatic else { return nil }
        WireGuardHash.kdf(key: ck, input: ss, into: ck, key)
        let encryptedTimestamp = Array(message[Layout.Initiation.encryptedTimestamp])
        guard let stamp = open(key: key, encryptedTimestamp, h), let timestamp = TAI64N(bytes: stamp) else { return nil }
        WireGuardHash.hash(into: h, h, encryptedTimestamp)
        return (ReceivedInitiation(peerStatic: peerStatic, senderIndex: message.readUInt32LE(at: Layout.Initiation.sender.lowerBound),
                                   timestamp: timestamp, chainingKey: ck, hash: h, peerEphemeral: ephemeral), known)
    }

    // MARK: Response

    /// The response to an initiation from `peer`, and the session's keys. `initiation` is left as
    /// it was; `ephemeral` is used and dropped.
    public static func createResponse(to initiation: ReceivedInitiation, peer: PeerKeys, presharedKey: Secret, localIndex: UInt32,
                                      cookie: [UInt8]? = nil,
                                      ephemeral: Secret = Curve25519.newPrivateKey()) -> ([UInt8], TransportKeys)? {
        let ck = Secret(copying: initiation.chainingKey), h = Secret(copying: initiation.hash)
        let dh = Secret(), tau = Secret(), key = Secret()
        var message = [UInt8](repeating: 0, count: WireConstants.responseLength)
        message[0] = MessageType.response.rawValue
        message.writeUInt32LE(localIndex, at: Layout.Response.sender.lowerBound)
        message.writeUInt32LE(initiation.senderIndex, at: Layout.Response.receiver.lowerBound)

        let ephemeralPublic = Curve25519.publicKey(of: ephemeral)
        message.replaceSubrange(Layout.Response.ephemeral, with: ephemeralPublic)
        WireGuardHash.kdf(key: ck, input: ephemeralPublic, into: ck)
        WireGuardHash.hash(into: h, h, ephemeralPublic)
        guard Curve25519.sharedSecret(privateKey: ephemeral, publicKey: initiation.peerEphemeral, into: dh) else { return nil }
        WireGuardHash.kdf(key: ck, input: dh, into: ck)
        guard Curve25519.sharedSecret(privateKey: ephemeral, publicKey: initiation.peerStatic, into: dh) else { return nil }
        WireGuardHash.kdf(key: ck, input: dh, into: ck)
        WireGuardHash.kdf(key: ck, input: presharedKey, into: ck, tau, key)
        WireGuardHash.hash(into: h, h, tau)
        let encryptedNothing = seal(key: key, [], h)
        message.replaceSubrange(Layout.Response.encryptedNothing, with: encryptedNothing)
        addMACs(&message, key: peer.macKeys.mac1, cookie: cookie)

        let (receiving, sending) = (Secret(), Secret())
        WireGuardHash.kdf(key: ck, input: [UInt8](), into: receiving, sending)
        return (message, TransportKeys(sending: sending, receiving: receiving, localIndex: localIndex,
                                       remoteIndex: initiation.senderIndex, isInitiator: false))
    }

    /// Opens the response to our initiation; nil if it is not for this handshake or does not
    /// decrypt. `state` is left as it was, for a genuine response after a forged one.
    public static func consumeResponse(_ message: [UInt8], state: InitiatorState, local: StaticKeys,
                                       presharedKey: Secret) -> TransportKeys? {
        guard message.count == WireConstants.responseLength, message[0] == MessageType.response.rawValue,
              message.readUInt32LE(at: Layout.Response.receiver.lowerBound) == state.localIndex,
              verifyMAC1(message, key: local.macKeys.mac1) else { return nil }
        let ck = Secret(copying: state.chainingKey), h = Secret(copying: state.hash)
        let dh = Secret(), tau = Secret(), key = Secret()
        let ephemeral = Array(message[Layout.Response.ephemeral])
        WireGuardHash.kdf(key: ck, input: ephemeral, into: ck)
        WireGuardHash.hash(into: h, h, ephemeral)
        guard Curve25519.sharedSecret(privateKey: state.ephemeralPrivate, publicKey: ephemeral, into: dh) else { return nil }
        WireGuardHash.kdf(key: ck, input: dh, into: ck)
        guard Curve25519.sharedSecret(privateKey: local.privateKey, publicKey: ephemeral, into: dh) else { return nil }
        WireGuardHash.kdf(key: ck, input: dh, into: ck)
        WireGuardHash.kdf(key: ck, input: presharedKey, into: ck, tau, key)
        WireGuardHash.hash(into: h, h, tau)
        guard open(key: key, Array(message[Layout.Response.encryptedNothing]), h) != nil else { return nil }
        let (sending, receiving) = (Secret(), Secret())
        WireGuardHash.kdf(key: ck, input: [UInt8](), into: sending, receiving)
        return TransportKeys(sending: sending, receiving: receiving, localIndex: state.localIndex,
                             remoteIndex: message.readUInt32LE(at: Layout.Response.sender.lowerBound), isInitiator: true)
    }

    // MARK: MACs

    /// mac1 = MAC(the receiver's mac1 key, message up to mac1); mac2 from a cookie, or zeros.
    static func addMACs(_ message: inout [UInt8], key: [UInt8], cookie: [UInt8]?) {
        let mac1Start = message.count - 32
        let mac1 = WireGuardHash.mac(key: key, Array(message[..<mac1Start]))
        message.replaceSubrange(mac1Start..<mac1Start + 16, with: mac1)
        if let cookie {
            let mac2 = WireGuardHash.mac(key: cookie, Array(message[..<(mac1Start + 16)]))
            message.replaceSubrange(mac1Start + 16..<message.count, with: mac2)
        }
    }

    /// Whether the message's mac1 is right for `key`: our `MACKeys.mac1`, derived once.
    public static func verifyMAC1(_ message: [UInt8], key: [UInt8]) -> Bool {
        guard message.count >= 32 else { return false }
        let mac1Start = message.count - 32
        let expected = WireGuardHash.mac(key: key, Array(message[..<mac1Start]))
        return constantTimeEqual(expected, Array(message[mac1Start..<mac1Start + 16]))
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    // MARK: AEAD with counter 0 and the handshake hash as associated data

    static func seal(key: Secret, _ plaintext: [UInt8], _ hash: Secret) -> [UInt8] {
        var buffer = plaintext + [UInt8](repeating: 0, count: AEAD.tagLength)
        AEAD.seal(key: key, counter: 0, buffer: &buffer, range: 0..<plaintext.count, additionalData: hash)
        return buffer
    }

    static func open(key: Secret, _ ciphertext: [UInt8], _ hash: Secret) -> [UInt8]? {
        guard ciphertext.count >= AEAD.tagLength else { return nil }
        var buffer = ciphertext
        let range = 0..<(ciphertext.count - AEAD.tagLength)
        guard AEAD.open(key: key, counter: 0, buffer: &buffer, range: range, additionalData: hash) else { return nil }
        return Array(buffer[range])
    }
}
