import Foundation
import Testing
import WireGuard
import WireGuardCrypto
import WireGuardSystem

/// The daemon's loops with each engine, over fake TUN devices and a fake network: two whole
/// devices configured through the UAPI find each other, handshake on their handshake threads and
/// carry packets both ways; the loops follow the listen port, tick the timers and end when asked
/// or when the interface goes.
struct DaemonLoopsTests {
    /// One side: a device, its fake TUN, its socket slot on the fake network, and its loops on a thread.
    final class Side: @unchecked Sendable {
        let device = Device()
        let tun = FakeTun()
        let udp: SocketSlot
        let stopping = Guarded(false)
        let ticks = Guarded(0)
        let ended = Guarded<DaemonLoops.End?>(nil)

        init(network: FakeNetwork, address: String, parallel: Bool, uapi: String) {
            udp = SocketSlot { try network.bind(address, port: $0) }
            _ = device.handleUAPI(uapi)
            let start = Date()
            let loops = DaemonLoops(device: device, tun: tun, udp: udp, now: { Date().timeIntervalSince(start) },
                                    stopping: { [stopping] in stopping.with { $0 } }, everyTick: { [ticks] _ in ticks.with { $0 += 1 } })
            let (device, tun, udp, ended) = (device, tun, udp, ended)
            Thread {
                let end = parallel ? loops.runParallel(ParallelEngine(device: device, tun: tun, udp: udp))
                                   : loops.runInline(InlineEngine(device: device, tun: tun, udp: udp))
                ended.with { $0 = end }
            }.start()
        }

        func stop() -> DaemonLoops.End? {
            stopping.with { $0 = true }
            _ = ended.wait { $0 != nil }
            return ended.with { $0 }
        }
    }

    static func pair(parallel: Bool) -> (Side, Side) {
        let network = FakeNetwork()
        let aKey = Curve25519.generatePrivateKey(), bKey = Curve25519.generatePrivateKey()
        let pub = { (key: [UInt8]) in UAPI.hex(Curve25519.publicKey(privateKey: key)) }
        let a = Side(network: network, address: "198.18.2.1", parallel: parallel, uapi:
            "set=1\nprivate_key=\(UAPI.hex(aKey))\nlisten_port=51821\npublic_key=\(pub(bKey))\nendpoint=198.18.2.2:51822\nallowed_ip=198.19.0.2/32\n\n")
        // b has no endpoint for a: it learns it from a's initiation.
        let b = Side(network: network, address: "198.18.2.2", parallel: parallel, uapi:
            "set=1\nprivate_key=\(UAPI.hex(bKey))\nlisten_port=51822\npublic_key=\(pub(aKey))\nallowed_ip=198.19.0.1/32\n\n")
        return (a, b)
    }

    static func ipv4(from source: UInt8, to destination: UInt8, _ text: String) -> [UInt8] {
        let body = Array(text.utf8)
        let total = 20 + body.count
        return [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 0, 0, 0, 64, 17, 0, 0, 198, 19, 0, source, 198, 19, 0, destination] + body
    }

    @Test(arguments: [false, true])
    func twoDevicesHandshakeAndCarryPacketsBothWays(parallel: Bool) throws {
        let (a, b) = Self.pair(parallel: parallel)
        let ping = Self.ipv4(from: 1, to: 2, "ping"), pong = Self.ipv4(from: 2, to: 1, "pong")
        a.tun.inject(ping)  // waits for the handshake, then goes
        #expect(b.tun.written.wait { $0.contains(ping) })
        b.tun.inject(pong)
        #expect(a.tun.written.wait { $0.contains(pong) })
        // Many packets in a row arrive whole and in order.
        let many = (0..<300).map { Self.ipv4(from: 1, to: 2, String(format: "%04d", $0) + String(repeating: "x", count: 1000)) }
        for packet in many { a.tun.inject(packet) }
        #expect(b.tun.written.wait { $0.count >= 301 })
        #expect(b.tun.written.with { Array($0.dropFirst()) } == many)
        #expect(a.ticks.with { $0 } > 0 && b.ticks.with { $0 } > 0)  // the timers ran
        #expect(b.device.drops == DropCounters() && a.device.drops == DropCounters())
        #expect(a.stop() == .stopped && b.stop() == .stopped)
    }

    @Test(arguments: [false, true])
    func theLoopsEndWhenTheInterfaceGoes(parallel: Bool) throws {
        let (a, b) = Self.pair(parallel: parallel)
        a.tun.delete()
        #expect(a.ended.wait { $0 != nil } && a.ended.with { $0 } == .interfaceGone)
        #expect(b.stop() == .stopped)
    }

    @Test func theSocketFollowsTheConfiguredListenPort() throws {
        let (a, b) = Self.pair(parallel: false)
        defer { _ = a.stop(); _ = b.stop() }
        #expect(a.ticks.wait { $0 > 0 } && a.udp.current?.port == 51821)
        _ = a.device.handleUAPI("set=1\nlisten_port=51900\n\n")
        #expect(a.ticks.wait { _ in a.udp.current?.port == 51900 })
        // Port 0: an ephemeral port is bound, and the device names it.
        _ = a.device.handleUAPI("set=1\nlisten_port=0\n\n")
        #expect(a.ticks.wait { _ in a.udp.current.map { $0.port != 51900 && $0.port == a.device.listenPort } ?? false })
    }

    /// `wg set fwmark` marks the socket (SO_MARK), a socket bound later too; fwmark 0 clears it.
    @Test func theSocketCarriesTheConfiguredFwmark() throws {
        let (a, b) = Self.pair(parallel: false)
        defer { _ = a.stop(); _ = b.stop() }
        let mark = { (a.udp.current as? FakeSocket)?.mark.with { $0 } }
        #expect(a.ticks.wait { _ in mark() == 0 })
        _ = a.device.handleUAPI("set=1\nfwmark=51820\n\n")
        #expect(a.ticks.wait { _ in mark() == 51820 })
        _ = a.device.handleUAPI("set=1\nlisten_port=51901\n\n")
        #expect(a.ticks.wait { _ in a.udp.current?.port == 51901 && mark() == 51820 })
        _ = a.device.handleUAPI("set=1\nfwmark=0\n\n")
        #expect(a.ticks.wait { _ in mark() == 0 })
    }
}

/// Issue #23, part 4: a TUN read that fails (not "nothing waiting", not the interface deleted)
/// ends the loops with the failure, as wireguard-go closes the device, instead of passing for a
/// deleted interface; a UDP receive that fails is counted and the loops read on.
struct ReadFailureTests {
    @Test(arguments: [false, true])
    func aTunReadFailureEndsTheLoopsWithIt(parallel: Bool) throws {
        let (a, b) = DaemonLoopsTests.pair(parallel: parallel)
        a.tun.fail(SystemError(call: "read", code: EIO))
        #expect(a.ended.wait { $0 != nil } && a.ended.with { $0 } == .tunReadFailed(SystemError(call: "read", code: EIO)))
        #expect(b.stop() == .stopped)
    }

    @Test(arguments: [false, true])
    func aUDPReceiveFailureIsCountedAndTheLoopsReadOn(parallel: Bool) throws {
        let (a, b) = DaemonLoopsTests.pair(parallel: parallel)
        let ping = DaemonLoopsTests.ipv4(from: 1, to: 2, "ping")
        #expect(b.udp.current != nil || b.ticks.wait { _ in b.udp.current != nil })
        (b.udp.current as? FakeSocket)?.fail(SystemError(call: "recvmmsg", code: ENOMEM))
        #expect(b.ticks.wait { _ in b.udp.receiveErrors == 1 })
        a.tun.inject(ping)
        #expect(b.tun.written.wait { $0.contains(ping) })
        #expect(a.stop() == .stopped && b.stop() == .stopped)
    }
}
