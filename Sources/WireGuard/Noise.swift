// The Noise_IKpsk2 handshake (whitepaper 5.4.2-5.4.5): first message from the initiator (148
// bytes), second from the responder (92 bytes), then both derive a pair of transport keys.
// Pure functions over byte arrays: peers, timers and sockets live elsewhere. Invariants: every
// failure returns nil (the caller drops and counts); mac1 is always added and checked first.

import WireGuardCrypto

/// A local or remote static key pair (private key empty for remote ones).
public struct StaticKeys: Sendable {
    public let privateKey: [UInt8]
    public let publicKey: [UInt8]

    public init(privateKey: [UInt8]) {
        self.privateKey = privateKey
        publicKey = Curve25519.publicKey(privateKey: privateKey)
    }
}

/// The two symmetric keys a handshake yields, with the indices each side knows the session by.
public struct TransportKeys: Sendable, Equatable {
    public let sending: [UInt8]
    public let receiving: [UInt8]
    public let localIndex: UInt32
    public let remoteIndex: UInt32
    public let isInitiator: Bool
}

/// What the initiator keeps between sending an initiation and receiving the response.
public struct InitiatorState: Sendable {
    let chainingKey: [UInt8]
    let hash: [UInt8]
    let ephemeralPrivate: [UInt8]
    let localIndex: UInt32
    let remoteStatic: [UInt8]
}

/// A valid initiation, opened by the responder.
public struct ReceivedInitiation: Sendable {
    public let peerStatic: [UInt8]
    public let senderIndex: UInt32
    public let timestamp: TAI64N
    let chainingKey: [UInt8]
    let hash: [UInt8]
    let peerEphemeral: [UInt8]
}

public enum Noise {
    static let initialChainingKey = WireGuardHash.hash(WireConstants.construction)
    static let initialHash = WireGuardHash.hash(initialChainingKey, WireConstants.identifier)

    // MARK: Initiation

    public static func createInitiation(local: StaticKeys, remoteStatic: [UInt8], presharedKey: [UInt8], localIndex: UInt32,
                                        timestamp: TAI64N, cookie: [UInt8]? = nil,
                                        ephemeralPrivate: [UInt8] = Curve25519.generatePrivateKey()) -> ([UInt8], InitiatorState)? {
        var ck = initialChainingKey
        var h = WireGuardHash.hash(initialHash, remoteStatic)
        var message = [UInt8](repeating: 0, count: WireConstants.initiationLength)
        message[0] = MessageType.initiation.rawValue
        message.writeUInt32LE(localIndex, at: Layout.Initiation.sender.lowerBound)

        let ephemeralPublic = Curve25519.publicKey(privateKey: ephemeralPrivate)
        message.replaceSubrange(Layout.Initiation.ephemeral, with: ephemeralPublic)
        ck = WireGuardHash.kdf(1, key: ck, input: ephemeralPublic)[0]
        h = WireGuardHash.hash(h, ephemeralPublic)

        guard let es = Curve25519.sharedSecret(privateKey: ephemeralPrivate, publicKey: remoteStatic) else { return nil }
        var derived = WireGuardHash.kdf(2, key: ck, input: es)
        ck = derived[0]
        let encryptedStatic = seal(key: derived[1], local.publicKey, h)
        message.replaceSubrange(Layout.Initiation.encryptedStatic, with: encryptedStatic)
        h = WireGuardHash.hash(h, encryptedStatic)

        guard let ss = Curve25519.sharedSecret(privateKey: local.privateKey, publicKey: remoteStatic) else { return nil }
        derived = WireGuardHash.kdf(2, key: ck, input: ss)
        ck = derived[0]
        let encryptedTimestamp = seal(key: derived[1], timestamp.bytes, h)
        message.replaceSubrange(Layout.Initiation.encryptedTimestamp, with: encryptedTimestamp)
        h = WireGuardHash.hash(h, encryptedTimestamp)

        addMACs(&message, remoteStatic: remoteStatic, cookie: cookie)
        _ = presharedKey  // mixed in by the response
        return (message, InitiatorState(chainingKey: ck, hash: h, ephemeralPrivate: ephemeralPrivate, localIndex: localIndex,
                                        remoteStatic: remoteStatic))
    }

    /// Opens an initiation addressed to `local`; nil if it is malformed or does not decrypt.
    /// The caller looks the peer up by `peerStatic` and rejects timestamps not newer than the last.
    public static func consumeInitiation(_ message: [UInt8], local: StaticKeys) -> ReceivedInitiation? {
        guard message.count == WireConstants.initiationLength, message[0] == MessageType.initiation.rawValue,
              verifyMAC1(message, localStatic: local.publicKey) else { return nil }
        var ck = initialChainingKey
        var h = WireGuardHash.hash(initialHash, local.publicKey)
        let ephemeral = Array(message[Layout.Initiation.ephemeral])
        ck = WireGuardHash.kdf(1, key: ck, input: ephemeral)[0]
        h = WireGuardHash.hash(h, ephemeral)

        guard let es = Curve25519.sharedSecret(privateKey: local.privateKey, publicKey: ephemeral) else { return nil }
        var derived = WireGuardHash.kdf(2, key: ck, input: es)
        ck = derived[0]
        let encryptedStatic = Array(message[Layout.Initiation.encryptedStatic])
        guard let peerStatic = open(key: derived[1], encryptedStatic, h) else { return nil }
        h = WireGuardHash.hash(h, encryptedStatic)

        guard let ss = Curve25519.sharedSecret(privateKey: local.privateKey, publicKey: peerStatic) else { return nil }
        derived = WireGuardHash.kdf(2, key: ck, input: ss)
        ck = derived[0]
        let encryptedTimestamp = Array(message[Layout.Initiation.encryptedTimestamp])
        guard let stamp = open(key: derived[1], encryptedTimestamp, h), let timestamp = TAI64N(bytes: stamp) else { return nil }
        h = WireGuardHash.hash(h, encryptedTimestamp)
        return ReceivedInitiation(peerStatic: peerStatic, senderIndex: message.readUInt32LE(at: Layout.Initiation.sender.lowerBound),
                                  timestamp: timestamp, chainingKey: ck, hash: h, peerEphemeral: ephemeral)
    }

    // MARK: Response

    public static func createResponse(to initiation: ReceivedInitiation, presharedKey: [UInt8], localIndex: UInt32,
                                      cookie: [UInt8]? = nil,
                                      ephemeralPrivate: [UInt8] = Curve25519.generatePrivateKey()) -> ([UInt8], TransportKeys)? {
        var ck = initiation.chainingKey
        var h = initiation.hash
        var message = [UInt8](repeating: 0, count: WireConstants.responseLength)
        message[0] = MessageType.response.rawValue
        message.writeUInt32LE(localIndex, at: Layout.Response.sender.lowerBound)
        message.writeUInt32LE(initiation.senderIndex, at: Layout.Response.receiver.lowerBound)

        let ephemeralPublic = Curve25519.publicKey(privateKey: ephemeralPrivate)
        message.replaceSubrange(Layout.Response.ephemeral, with: ephemeralPublic)
        ck = WireGuardHash.kdf(1, key: ck, input: ephemeralPublic)[0]
        h = WireGuardHash.hash(h, ephemeralPublic)
        guard let ee = Curve25519.sharedSecret(privateKey: ephemeralPrivate, publicKey: initiation.peerEphemeral),
              let se = Curve25519.sharedSecret(privateKey: ephemeralPrivate, publicKey: initiation.peerStatic) else { return nil }
        ck = WireGuardHash.kdf(1, key: ck, input: ee)[0]
        ck = WireGuardHash.kdf(1, key: ck, input: se)[0]
        let derived = WireGuardHash.kdf(3, key: ck, input: presharedKey)
        ck = derived[0]
        h = WireGuardHash.hash(h, derived[1])
        let encryptedNothing = seal(key: derived[2], [], h)
        message.replaceSubrange(Layout.Response.encryptedNothing, with: encryptedNothing)
        addMACs(&message, remoteStatic: initiation.peerStatic, cookie: cookie)

        let keys = WireGuardHash.kdf(2, key: ck, input: [])
        return (message, TransportKeys(sending: keys[1], receiving: keys[0], localIndex: localIndex,
                                       remoteIndex: initiation.senderIndex, isInitiator: false))
    }

    /// Opens the response to our initiation; nil if it is not for this handshake or does not decrypt.
    public static func consumeResponse(_ message: [UInt8], state: InitiatorState, local: StaticKeys,
                                       presharedKey: [UInt8]) -> TransportKeys? {
        guard message.count == WireConstants.responseLength, message[0] == MessageType.response.rawValue,
              message.readUInt32LE(at: Layout.Response.receiver.lowerBound) == state.localIndex,
              verifyMAC1(message, localStatic: local.publicKey) else { return nil }
        var ck = state.chainingKey
        var h = state.hash
        let ephemeral = Array(message[Layout.Response.ephemeral])
        ck = WireGuardHash.kdf(1, key: ck, input: ephemeral)[0]
        h = WireGuardHash.hash(h, ephemeral)
        guard let ee = Curve25519.sharedSecret(privateKey: state.ephemeralPrivate, publicKey: ephemeral),
              let se = Curve25519.sharedSecret(privateKey: local.privateKey, publicKey: ephemeral) else { return nil }
        ck = WireGuardHash.kdf(1, key: ck, input: ee)[0]
        ck = WireGuardHash.kdf(1, key: ck, input: se)[0]
        let derived = WireGuardHash.kdf(3, key: ck, input: presharedKey)
        ck = derived[0]
        h = WireGuardHash.hash(h, derived[1])
        guard open(key: derived[2], Array(message[Layout.Response.encryptedNothing]), h) != nil else { return nil }
        let keys = WireGuardHash.kdf(2, key: ck, input: [])
        return TransportKeys(sending: keys[0], receiving: keys[1], localIndex: state.localIndex,
                             remoteIndex: message.readUInt32LE(at: Layout.Response.sender.lowerBound), isInitiator: true)
    }

    // MARK: MACs

    /// mac1 = MAC(HASH(LABEL_MAC1 || receiver's static), message up to mac1); mac2 from a cookie, or zeros.
    static func addMACs(_ message: inout [UInt8], remoteStatic: [UInt8], cookie: [UInt8]?) {
        let mac1Start = message.count - 32
        let mac1 = WireGuardHash.mac(key: WireGuardHash.hash(WireConstants.labelMAC1, remoteStatic), Array(message[..<mac1Start]))
        message.replaceSubrange(mac1Start..<mac1Start + 16, with: mac1)
        if let cookie {
            let mac2 = WireGuardHash.mac(key: cookie, Array(message[..<(mac1Start + 16)]))
            message.replaceSubrange(mac1Start + 16..<message.count, with: mac2)
        }
    }

    public static func verifyMAC1(_ message: [UInt8], localStatic: [UInt8]) -> Bool {
        let mac1Start = message.count - 32
        let expected = WireGuardHash.mac(key: WireGuardHash.hash(WireConstants.labelMAC1, localStatic), Array(message[..<mac1Start]))
        return constantTimeEqual(expected, Array(message[mac1Start..<mac1Start + 16]))
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    // MARK: AEAD with counter 0 and the handshake hash as associated data

    static func seal(key: [UInt8], _ plaintext: [UInt8], _ hash: [UInt8]) -> [UInt8] {
        var buffer = plaintext + [UInt8](repeating: 0, count: AEAD.tagLength)
        AEAD.seal(key: key, counter: 0, buffer: &buffer, range: 0..<plaintext.count, additionalData: hash)
        return buffer
    }

    static func open(key: [UInt8], _ ciphertext: [UInt8], _ hash: [UInt8]) -> [UInt8]? {
        guard ciphertext.count >= AEAD.tagLength else { return nil }
        var buffer = ciphertext
        let range = 0..<(ciphertext.count - AEAD.tagLength)
        guard AEAD.open(key: key, counter: 0, buffer: &buffer, range: range, additionalData: hash) else { return nil }
        return Array(buffer[range])
    }
}
