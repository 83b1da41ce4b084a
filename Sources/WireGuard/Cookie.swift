// Cookies (whitepaper 5.4.7), WireGuard's answer to handshake floods. A responder under load
// does not process a handshake message whose mac2 is not valid for the sender's address: it
// answers with a cookie reply instead (64 bytes: the cookie, sealed with XChaCha20-Poly1305 under
// a key only the holder of the initiator's intended peer key can compute, bound to the message's
// mac1). The initiator keeps the cookie for two minutes and puts mac2 = MAC(cookie, message) on
// its next handshake messages, which the responder then processes even under load.
//
// The keys of mac1 and of cookie replies depend only on a public key: they are derived once, for
// the device when its private key is set and for each peer when it is configured (the kernel's
// precompute_key), so that checking a message costs only its MACs.

import WireGuardCrypto

/// HASH(LABEL_MAC1 || public key) and HASH(LABEL_COOKIE || public key): the key of mac1 on
/// messages to that key's holder, and the key its cookie replies are sealed with.
public struct MACKeys: Sendable, Equatable {
    public let mac1: [UInt8]
    public let cookie: [UInt8]

    public init(publicKey: [UInt8]) {
        mac1 = WireGuardHash.hash(WireConstants.labelMAC1, publicKey)
        cookie = WireGuardHash.hash(WireConstants.labelCookie, publicKey)
    }
}

/// The responder's side: cookies for senders' addresses from a secret renewed every two minutes.
struct CookieChecker {
    /// Renewed every two minutes; the old one is wiped as it goes.
    private var secret = Secret()
    private var secretBorn = -Double.infinity
    /// Our mac1 key (checks messages to us) and HASH(LABEL_COOKIE || our public key), which seals
    /// cookie replies: the identity's, derived with it.
    let keys: MACKeys

    init(keys: MACKeys) {
        self.keys = keys
    }

    /// MAC(secret, source address || source port (big-endian)), 16 bytes.
    mutating func cookie(for source: Endpoint, now: Double) -> [UInt8] {
        if now - secretBorn >= WireConstants.cookieRefreshTime {
            secret = Curve25519.newPrivateKey()  // 32 random bytes
            secretBorn = now
        }
        let port = [UInt8(source.port >> 8), UInt8(source.port & 0xff)]
        return WireGuardHash.mac(key: secret, source.address + port)
    }

    /// Whether the message's mac2 is the one the current cookie for `source` gives.
    mutating func verifyMAC2(_ message: [UInt8], source: Endpoint, now: Double) -> Bool {
        let mac2Start = message.count - 16
        let expected = WireGuardHash.mac(key: cookie(for: source, now: now), Array(message[..<mac2Start]))
        return Noise.constantTimeEqual(expected, Array(message[mac2Start...]))
    }

    /// The cookie reply to a handshake message (`senderIndex`: the index the message came with).
    mutating func reply(to message: [UInt8], senderIndex: UInt32, source: Endpoint, now: Double) -> [UInt8] {
        let mac1 = Array(message[(message.count - 32)..<(message.count - 16)])
        let nonce = Array(Curve25519.generatePrivateKey().prefix(24))
        let sealed = AEAD.sealExtended(key: keys.cookie, nonce: nonce, plaintext: cookie(for: source, now: now), additionalData: mac1)
        var reply = [UInt8](repeating: 0, count: WireConstants.cookieReplyLength)
        reply[0] = MessageType.cookieReply.rawValue
        reply.writeUInt32LE(senderIndex, at: Layout.CookieReply.receiver.lowerBound)
        reply.replaceSubrange(Layout.CookieReply.nonce, with: nonce)
        reply.replaceSubrange(Layout.CookieReply.encryptedCookie, with: sealed)
        return reply
    }
}

/// The initiator's side: opens a cookie reply from a peer.
enum CookieJar {
    /// The cookie, if the reply opens with the peer's cookie key (`MACKeys.cookie`) and the mac1
    /// we last sent it.
    static func open(_ reply: [UInt8], key: [UInt8], lastMAC1: [UInt8]) -> [UInt8]? {
        guard reply.count == WireConstants.cookieReplyLength, lastMAC1.count == 16 else { return nil }
        return AEAD.openExtended(key: key, nonce: Array(reply[Layout.CookieReply.nonce]),
                                 ciphertext: Array(reply[Layout.CookieReply.encryptedCookie]), additionalData: lastMAC1)
    }
}
