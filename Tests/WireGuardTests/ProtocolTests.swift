import Testing
@testable import WireGuard
import WireGuardCrypto

struct HandshakeTests {
    let initiator = StaticKeys(privateKey: Curve25519.newPrivateKey())
    let responder = StaticKeys(privateKey: Curve25519.newPrivateKey())
    let psk = Secret(copying: [UInt8](repeating: 7, count: 32))
    /// Each side's view of the other.
    var toResponder: PeerKeys { PeerKeys(publicKey: responder.publicKey, local: initiator) }
    var toInitiator: PeerKeys { PeerKeys(publicKey: initiator.publicKey, local: responder) }

    /// The responder knows only the initiator.
    func consume(_ initiation: [UInt8], by local: StaticKeys? = nil) -> ReceivedInitiation? {
        let local = local ?? responder, known = PeerKeys(publicKey: initiator.publicKey, local: local)
        return Noise.consumeInitiation(initiation, local: local, lookup: { $0 == known.publicKey ? ((), known) : nil })?.0
    }

    @Test func bothSidesDeriveTheSameKeysAndMessagesHaveTheirSizes() throws {
        let stamp = TAI64N(unixSeconds: 1_800_000_000, nanoseconds: 1)
        let (initiation, state) = try #require(Noise.createInitiation(local: initiator, peer: toResponder, localIndex: 11, timestamp: stamp))
        #expect(initiation.count == 148 && initiation[0] == 1 && initiation[1...3] == [0, 0, 0])
        let received = try #require(consume(initiation))
        #expect(received.peerStatic == initiator.publicKey && received.senderIndex == 11 && received.timestamp == stamp)
        let (response, responderKeys) = try #require(Noise.createResponse(to: received, peer: toInitiator, presharedKey: psk, localIndex: 22))
        #expect(response.count == 92 && response[0] == 2)
        let initiatorKeys = try #require(Noise.consumeResponse(response, state: state, local: initiator, presharedKey: psk))
        #expect(initiatorKeys.sending == responderKeys.receiving && initiatorKeys.receiving == responderKeys.sending)
        #expect(initiatorKeys.sending != initiatorKeys.receiving)
        #expect(initiatorKeys.remoteIndex == 22 && responderKeys.remoteIndex == 11)

        // A transport message: sealed in place behind its header, padded to 16, opened by the other side.
        let packet = Array("hello through the tunnel".utf8)
        let sending = Keypair(initiatorKeys, created: 0), receiving = Keypair(responderKeys, created: 0)
        let message = Device.sealed(packet, keypair: sending, counter: 5)
        #expect(message.count == 16 + 32 + 16 && Device.sealedLength(packet.count) == message.count)  // 24 bytes padded to 32
        #expect(message[0..<16] == [4, 0, 0, 0, 22, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0])
        var tampered = message
        tampered[20] ^= 1
        #expect(Device.opened(tampered, keypair: receiving) == nil)
        let opened = try #require(Device.opened(message, keypair: receiving))
        #expect(Array(opened.prefix(packet.count)) == packet && opened.dropFirst(packet.count).allSatisfy { $0 == 0 } && opened.count == 32)
    }

    @Test func aWrongPresharedKeyOrStaticKeyOrTamperingFails() throws {
        let stamp = TAI64N(unixSeconds: 1, nanoseconds: 0)
        let (initiation, state) = try #require(Noise.createInitiation(local: initiator, peer: toResponder, localIndex: 1, timestamp: stamp))
        let stranger = StaticKeys(privateKey: Curve25519.newPrivateKey())
        #expect(consume(initiation, by: stranger) == nil)  // mac1 is for the responder's key
        var tampered = initiation
        tampered[50] ^= 1
        #expect(consume(tampered) == nil)
        #expect(Noise.consumeInitiation(initiation, local: responder, lookup: { _ in nil as ((), PeerKeys)? }) == nil)  // an unknown sender
        let received = try #require(consume(initiation))
        let (response, _) = try #require(Noise.createResponse(to: received, peer: toInitiator,
                                                             presharedKey: Secret(copying: [UInt8](repeating: 8, count: 32)), localIndex: 2))
        #expect(Noise.consumeResponse(response, state: state, local: initiator, presharedKey: psk) == nil)
        #expect(consume(Array(initiation.prefix(147))) == nil)
    }

    @Test func mac2IsAddedWithACookie() throws {
        let cookie = [UInt8](repeating: 3, count: 16)
        let (message, _) = try #require(Noise.createInitiation(local: initiator, peer: toResponder, localIndex: 1,
                                                               timestamp: TAI64N(unixSeconds: 1, nanoseconds: 0), cookie: cookie))
        #expect(Array(message[132..<148]) == WireGuardHash.mac(key: cookie, Array(message[..<132])))
        #expect(Noise.verifyMAC1(message, key: responder.macKeys.mac1))
        #expect(responder.macKeys.mac1 == WireGuardHash.hash(WireConstants.labelMAC1, responder.publicKey))
    }

    /// A peer whose key gives an all-zero static-static DH (a low-order point) cannot shake hands.
    @Test func aLowOrderPeerKeyHasNoStaticStaticAndNoHandshake() {
        let zero = PeerKeys(publicKey: [UInt8](repeating: 0, count: 32), local: initiator)
        #expect(zero.staticStatic == nil)
        #expect(Noise.createInitiation(local: initiator, peer: zero, localIndex: 1, timestamp: TAI64N(unixSeconds: 1, nanoseconds: 0)) == nil)
    }
}

/// The replay window against the kernel's numbered table of cases (selftest/counter.c).
struct ReplayCounterTests {
    static let window = ReplayCounter.windowSize
    static let limit = window + 1
    static let reject = WireConstants.rejectAfterMessages

    static let cases: [(UInt64, Bool)] = [
        (0, true), (1, true), (1, false), (9, true), (8, true), (7, true), (7, false),
        (limit, true), (limit - 1, true), (limit - 1, false), (limit - 2, true), (2, true), (2, false),
        (limit + 16, true), (3, false), (limit + 16, false), (limit * 4, true), (limit * 4 - (limit - 1), true),
        (10, false), (limit * 4 - limit, false), (limit * 4 - (limit + 1), false), (limit * 4 - (limit - 2), true),
        (limit * 4 + 1 - limit, false), (0, false), (reject, false), (reject - 1, true), (reject, false),
        (reject - 1, false), (reject - 2, true), (reject + 1, false), (reject + 2, false), (reject - 2, false),
        (reject - 3, true), (0, false),
    ]

    @Test func numberedCases() {
        var counter = ReplayCounter()
        for (number, (value, expected)) in Self.cases.enumerated() {
            let accepted = counter.accept(value)
            #expect(accepted == expected, "case \(number + 1): counter \(value)")
        }
    }

    /// (numbers fed in order, then each expected verdict) as the kernel's loops over whole windows.
    @Test func fullWindowsInEveryOrder() {
        let w = Self.window
        let runs: [([UInt64], [(UInt64, Bool)])] = [
            (Array(1...w), [(0, true), (0, false)]),
            (Array(2...(w + 1)), [(1, true), (0, false)]),
            (Array((0...w).reversed()), []),
            (Array((1...(w + 1)).reversed()), [(0, false)]),
            (Array((1...w).reversed()), [(w + 1, true), (0, false)]),
            (Array((1...w).reversed()), [(0, true), (w + 1, true)]),
        ]
        for (number, (fill, checks)) in runs.enumerated() {
            var counter = ReplayCounter()
            let refused = fill.filter { !counter.accept($0) }
            #expect(refused.isEmpty, "run \(number + 1) refused \(refused.prefix(3))")
            for (value, expected) in checks {
                let accepted = counter.accept(value)
                #expect(accepted == expected, "run \(number + 1): counter \(value)")
            }
        }
    }
}

struct AllowedIPsTests {
    /// (prefixes given to peers, address looked up, expected peer)
    @Test(arguments: [
        ("10.0.0.1", "a"), ("10.1.2.3", "b"), ("10.1.255.255", "b"), ("10.1.2.99", "c"), ("192.168.1.1", nil as String?),
        ("0.0.0.1", nil), ("2001:db8::1", "d"), ("2001:db8:1::1", "e"), ("2001:db9::1", nil), ("::1", nil),
    ])
    func longestPrefixWins(_ address: String, _ expected: String?) throws {
        var table = AllowedIPs<String>()
        for (prefix, peer) in [("10.0.0.0/8", "a"), ("10.1.0.0/16", "b"), ("10.1.2.99/32", "c"),
                               ("2001:db8::/32", "d"), ("2001:db8:1::/48", "e")] {
            table.insert(try #require(IPPrefix(prefix)), peer: peer)
        }
        #expect(table.lookup(try #require(IPPrefix.parse(address))) == expected)
    }

    @Test func defaultRoutesReplacementAndRemoval() throws {
        var table = AllowedIPs<Int>()
        table.insert(try #require(IPPrefix("0.0.0.0/0")), peer: 1)
        table.insert(try #require(IPPrefix("198.18.3.0/24")), peer: 2)
        #expect(table.lookup(IPPrefix.parse("8.8.8.8")!) == 1)
        #expect(table.lookup(IPPrefix.parse("198.18.3.7")!) == 2)
        table.insert(try #require(IPPrefix("198.18.3.0/24")), peer: 3)  // the same prefix moves to peer 3
        #expect(table.lookup(IPPrefix.parse("198.18.3.7")!) == 3)
        #expect(table.entries(of: 2).isEmpty)
        table.remove(peer: 3)
        #expect(table.lookup(IPPrefix.parse("198.18.3.7")!) == 1)
        #expect(table.entries(of: 1).map(\.description) == ["0.0.0.0/0"])
        #expect(IPPrefix("198.18.3.77/24")?.description == "198.18.3.0/24")
        #expect(IPPrefix("198.18.3.0/33") == nil && IPPrefix("nonsense") == nil)
    }
}
