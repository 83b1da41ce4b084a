import Foundation
import Testing
@testable import WireGuard
import WireGuardCrypto

/// The timers (whitepaper section 6) with a manual clock: each case drives two devices to a time
/// and checks what `tick` sends. Jitter is fixed at 0.1 s.
struct TimerTests {
    let a = Device(jitter: { 0.1 }), b = Device(jitter: { 0.1 })
    let aEndpoint = Endpoint("198.18.2.1:51821")!, bEndpoint = Endpoint("198.18.2.2:51822")!

    init(persistentKeepalive: Int = 0) {
        let aKey = Curve25519.generatePrivateKey(), bKey = Curve25519.generatePrivateKey()
        let pub = { (key: [UInt8]) in UAPI.hex(Curve25519.publicKey(privateKey: key)) }
        _ = a.handleUAPI("set=1\nprivate_key=\(UAPI.hex(aKey))\npublic_key=\(pub(bKey))\nendpoint=198.18.2.2:51822\n"
                         + "persistent_keepalive_interval=\(persistentKeepalive)\nallowed_ip=198.19.0.2/32\n\n")
        _ = b.handleUAPI("set=1\nprivate_key=\(UAPI.hex(bKey))\npublic_key=\(pub(aKey))\nallowed_ip=198.19.0.1/32\n\n")
    }

    let ping = DeviceTests.ipv4(from: [198, 19, 0, 1], to: [198, 19, 0, 2], payload: "ping")

    /// a sends a packet at `t`; the handshake completes and the packet reaches b.
    func connect(at t: Double) throws {
        let initiation = a.outbound(ping, now: t)
        let response = b.inbound(initiation.datagrams[0].payload, from: aEndpoint, now: t)
        let data = a.inbound(response.datagrams[0].payload, from: bEndpoint, now: t)
        #expect(b.inbound(data.datagrams[0].payload, from: aEndpoint, now: t).packets == [ping])
    }

    /// b's passive keepalive after `connect` (at 10 s) reaches a: a has heard back.
    func keepaliveFromB(at t: Double = 10) {
        for datagram in b.tick(now: t).datagrams { _ = a.inbound(datagram.payload, from: bEndpoint, now: t) }
    }

    static func kinds(_ output: DeviceOutput) -> [String] {
        output.datagrams.map { datagram in
            switch datagram.payload[0] {
            case 1: return "initiation"
            case 4: return datagram.payload.count == 32 ? "keepalive" : "data"
            default: return "other"
            }
        }
    }

    @Test func lostInitiationsAreRetriedWithJitterUntilRekeyAttemptTimeThenDropped() {
        #expect(Self.kinds(a.outbound(ping, now: 0)) == ["initiation"])  // lost: b never sees it
        #expect(Self.kinds(a.tick(now: 5.05)) == [])  // REKEY_TIMEOUT 5 s + 0.1 s jitter not yet over
        #expect(Self.kinds(a.tick(now: 5.11)) == ["initiation"])
        // Every 5.2 s (more than timeout plus jitter) one more attempt, as long as 90 s have not passed.
        for t in stride(from: 10.4, through: 89.9, by: 5.2) {
            #expect(Self.kinds(a.tick(now: t)) == ["initiation"], "at \(t) s")
        }
        #expect(Self.kinds(a.tick(now: 95)) == [])  // gave up, and dropped the waiting packet
        #expect(Self.kinds(a.tick(now: 120)) == [])
    }

    @Test func passiveKeepaliveAfterDataAndSilence() throws {
        try connect(at: 0)
        #expect(Self.kinds(b.tick(now: 9.9)) == [])
        #expect(Self.kinds(b.tick(now: 10.0)) == ["keepalive"])  // data came in, nothing went out for 10 s
        #expect(Self.kinds(b.tick(now: 25)) == [])  // once
        #expect(Self.kinds(a.tick(now: 25)) == ["initiation"])  // a sent and never heard back (the new-handshake timer)
    }

    /// The kernel's new_handshake timer: data sent and nothing authenticated received for
    /// KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (15 s, plus the 0.1 s jitter) starts a handshake, so that
    /// a peer whose other end restarted does not send into a dead session until REJECT_AFTER_TIME.
    @Test func dataWithNoAnswerForFifteenSecondsStartsAHandshake() throws {
        try connect(at: 0)  // a's ping at 0 is data; b never answers
        #expect(Self.kinds(a.outbound(ping, now: 5)) == ["data"])  // more data does not move the deadline
        #expect(Self.kinds(a.tick(now: 15.05)) == [])
        #expect(Self.kinds(a.tick(now: 15.11)) == ["initiation"])
        #expect(Self.kinds(a.tick(now: 16)) == [])  // once, not every tick
    }

    @Test func anyAuthenticatedPacketStopsTheNewHandshakeTimer() throws {
        try connect(at: 0)
        keepaliveFromB(at: 10)  // a keepalive counts: the session works
        #expect(Self.kinds(a.tick(now: 15.11)) == [])
        #expect(Self.kinds(a.outbound(ping, now: 16)) == ["data"])  // the timer starts again from here
        #expect(Self.kinds(a.tick(now: 31.05)) == [])
        #expect(Self.kinds(a.tick(now: 31.11)) == ["initiation"])
    }

    /// Keepalives are not data: b, which only answered with a keepalive, never starts a handshake.
    @Test func keepalivesDoNotStartTheNewHandshakeTimer() throws {
        try connect(at: 0)
        #expect(Self.kinds(b.tick(now: 10)) == ["keepalive"])
        #expect(!Self.kinds(b.tick(now: 40)).contains("initiation"))
    }

    @Test func persistentKeepalive() throws {
        let timers = TimerTests(persistentKeepalive: 25)
        try timers.connect(at: 0)
        timers.keepaliveFromB(at: 10)
        #expect(Self.kinds(timers.a.tick(now: 24.9)) == [])
        #expect(Self.kinds(timers.a.tick(now: 25.0)) == ["keepalive"])
        #expect(Self.kinds(timers.a.tick(now: 40)) == [])
        #expect(Self.kinds(timers.a.tick(now: 50.0)) == ["keepalive"])
    }

    @Test func initiatorRekeysAfterTimeWhenItSendsAndKeysAreDroppedAfterRejectTime() throws {
        try connect(at: 0)
        keepaliveFromB(at: 10)
        #expect(Self.kinds(a.tick(now: 125)) == [])  // idle: no rekey without traffic
        #expect(Self.kinds(a.outbound(ping, now: 126)) == ["data"])  // still on the old session, which asks for a new one
        #expect(Self.kinds(a.tick(now: 126.1)) == ["initiation"])  // REKEY_AFTER_TIME, initiator only
        #expect(!Self.kinds(b.tick(now: 127)).contains("initiation"))
        // The new handshake is lost; at REJECT_AFTER_TIME the old keys go, and data must wait for a handshake.
        _ = a.tick(now: 180)
        #expect(Self.kinds(a.outbound(ping, now: 180.5)) == [])  // a retry is already pending: the packet waits
        // b's keys are past REJECT_AFTER_TIME too: it never uses them, and starts a handshake of its own.
        #expect(Self.kinds(b.outbound(DeviceTests.ipv4(from: [198, 19, 0, 2], to: [198, 19, 0, 1], payload: "x"), now: 181)) == ["initiation"])
    }

    /// The responder does not send on a session before the initiator used it (whitepaper 5.4.6):
    /// what it has to send waits, and goes out with the initiator's first packet.
    @Test func theResponderWaitsForConfirmationBeforeSending() throws {
        let pong = DeviceTests.ipv4(from: [198, 19, 0, 2], to: [198, 19, 0, 1], payload: "pong")
        let initiation = a.outbound(ping, now: 0).datagrams[0]
        let response = b.inbound(initiation.payload, from: aEndpoint, now: 0).datagrams[0]
        #expect(b.outbound(pong, now: 0.01).datagrams.isEmpty)  // queued; no initiation of its own either
        let data = a.inbound(response.payload, from: bEndpoint, now: 0.02).datagrams[0]
        let confirmed = b.inbound(data.payload, from: aEndpoint, now: 0.03)
        #expect(confirmed.packets == [ping])
        #expect(confirmed.datagrams.count == 1)  // the pong that waited
        #expect(a.inbound(confirmed.datagrams[0].payload, from: bEndpoint, now: 0.04).packets == [pong])
    }

    /// A retransmitted initiation (its response lost) replaces only the unconfirmed session: the
    /// confirmed one keeps working both ways.
    @Test func aRetransmittedInitiationDoesNotEvictTheConfirmedSession() throws {
        try connect(at: 0)
        let pong = DeviceTests.ipv4(from: [198, 19, 0, 2], to: [198, 19, 0, 1], payload: "pong")
        _ = a.outbound(ping, now: 130)  // asks for a rekey
        let first = a.tick(now: 130.1).datagrams[0]
        _ = b.inbound(first.payload, from: aEndpoint, now: 130.1)  // the response is lost
        let retry = a.tick(now: 135.3).datagrams[0]
        _ = b.inbound(retry.payload, from: aEndpoint, now: 135.3)  // and again
        let back = b.outbound(pong, now: 136).datagrams
        #expect(back.count == 1 && back[0].payload[0] == 4)  // still on the confirmed session
        #expect(a.inbound(back[0].payload, from: bEndpoint, now: 136).packets == [pong])
        let forth = a.outbound(ping, now: 136.1).datagrams[0]
        #expect(b.inbound(forth.payload, from: aEndpoint, now: 136.1).packets == [ping])
    }
}
