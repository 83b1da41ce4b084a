import Foundation
import Glibc
import WGBenchCore
import WGBenchEngine
import WireGuard
import WireGuardCrypto
import XCTest

/// Our handshake and transport code against a real peer: Debian's wireguard-go. The test is the
/// initiator over a plain UDP socket on loopback; wireguard-go must answer the initiation, accept
/// an ICMP echo request sealed by us, and send the kernel's echo reply back sealed for us.
final class WireGuardGoInteropTests: XCTestCase {
    let interface = "wgbi\(getpid() % 100_000)"
    let port: UInt16 = 51990
    let runner = LocalCommandRunner()

    override func setUpWithError() throws {
        try XCTSkipUnless(geteuid() == 0, "needs root (a TUN device for wireguard-go)")
        _ = try? runner.run(Command("ip", "link", "del", interface))
    }

    override func tearDown() {
        _ = try? runner.run(Command("ip", "link", "del", interface))
    }

    func testHandshakeAndPingThroughWireGuardGo() throws {
        let ours = StaticKeys(privateKey: Curve25519.generatePrivateKey())
        let theirPrivate = Curve25519.generatePrivateKey(), theirs = StaticKeys(privateKey: theirPrivate)
        let psk = Curve25519.generatePrivateKey()
        let b64 = { (bytes: [UInt8]) in Data(bytes).base64EncodedString() }
        try startWireGuardGo()
        let config = """
        [Interface]
        PrivateKey = \(b64(theirPrivate))
        ListenPort = \(port)
        [Peer]
        PublicKey = \(b64(ours.publicKey))
        PresharedKey = \(b64(psk))
        AllowedIPs = 198.19.254.2/32
        """
        try runner.check(Command(["wg", "setconf", interface, "/dev/stdin"], stdin: Array(config.utf8)))
        try runner.check(Command("ip", "addr", "add", "198.19.254.1/30", "dev", interface))
        try runner.check(Command("ip", "link", "set", interface, "up"))

        let socket = try UDPTestSocket()
        let stamp = TAI64N(unixSeconds: UInt64(Date().timeIntervalSince1970), nanoseconds: 0)
        let (initiation, state) = try XCTUnwrap(Noise.createInitiation(local: ours, peer: PeerKeys(publicKey: theirs.publicKey, local: ours),
                                                                       localIndex: 0x1234, timestamp: stamp))
        try socket.send(initiation, port: port)
        let response = try XCTUnwrap(socket.receive(), "wireguard-go did not answer the initiation")
        XCTAssertEqual(response.count, 92)
        let keys = try XCTUnwrap(Noise.consumeResponse(response, state: state, local: ours, presharedKey: Secret(copying: psk)),
                                 "wireguard-go's response did not open with our keys")

        let request = Self.icmpEcho(from: [198, 19, 254, 2], to: [198, 19, 254, 1], identifier: 0x77, sequence: 1)
        let keypair = Keypair(keys, created: 0)
        try socket.send(Device.sealed(request, keypair: keypair, counter: 0), port: port)
        var reply: [UInt8]?
        for _ in 0..<5 {
            guard let message = socket.receive() else { continue }
            reply = Device.opened(message, keypair: keypair)
            if reply != nil { break }
        }
        let packet = try XCTUnwrap(reply, "no echo reply came back through the tunnel")
        XCTAssertEqual(packet[9], 1)  // ICMP
        XCTAssertEqual(Array(packet[12..<16]), [198, 19, 254, 1])
        XCTAssertEqual(Array(packet[16..<20]), [198, 19, 254, 2])
        XCTAssertEqual(packet[20], 0)  // echo reply
        XCTAssertEqual(Array(packet[24..<28]), [0, 0x77, 0, 1])

        // wg show on the real side agrees: a handshake happened and bytes moved both ways.
        let dump = try runner.check(Command("wg", "show", interface, "dump")).split(separator: "\n")
        let peer = dump[1].split(separator: "\t")
        XCTAssertEqual(String(peer[0]), b64(ours.publicKey))
        XCTAssertGreaterThan(Int(peer[4]) ?? 0, 0, "latest handshake")
        XCTAssertGreaterThan(Int(peer[5]) ?? 0, 0, "received bytes")
        XCTAssertGreaterThan(Int(peer[6]) ?? 0, 0, "sent bytes")
    }

    func testWrongPresharedKeyGetsNoUsableResponse() throws {
        let ours = StaticKeys(privateKey: Curve25519.generatePrivateKey())
        let theirPrivate = Curve25519.generatePrivateKey(), theirs = StaticKeys(privateKey: theirPrivate)
        try startWireGuardGo()
        let config = "[Interface]\nPrivateKey = \(Data(theirPrivate).base64EncodedString())\nListenPort = \(port)\n[Peer]\n"
            + "PublicKey = \(Data(ours.publicKey).base64EncodedString())\nPresharedKey = \(Data(Curve25519.generatePrivateKey()).base64EncodedString())\n"
            + "AllowedIPs = 198.19.254.2/32\n"
        try runner.check(Command(["wg", "setconf", interface, "/dev/stdin"], stdin: Array(config.utf8)))
        let socket = try UDPTestSocket()
        let ourPSK = Curve25519.newPrivateKey()
        let (initiation, state) = try XCTUnwrap(Noise.createInitiation(local: ours, peer: PeerKeys(publicKey: theirs.publicKey, local: ours),
                                                                       localIndex: 1, timestamp: TAI64N(unixSeconds: 2_000_000_000, nanoseconds: 0)))
        try socket.send(initiation, port: port)
        // The PSK enters only at the response: wireguard-go answers, but the answer does not open.
        let response = try XCTUnwrap(socket.receive())
        XCTAssertNil(Noise.consumeResponse(response, state: state, local: ours, presharedKey: ourPSK))
    }

    /// Starts the daemon with posix_spawn and waits for its foreground part to exit (the daemon
    /// lives on); Foundation's Process misses that exit here when the daemon's child outlives it.
    func startWireGuardGo() throws {
        var pid: pid_t = 0
        let words: [String] = ["env", TunnelCommands.wireguardGoEnvironment, "wireguard-go", interface]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawnp(&pid, "env", nil, nil, argv, environ) == 0 else { throw POSIXError(.ENOENT) }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        guard status == 0 else { throw POSIXError(.EIO) }
    }

    /// IPv4 + ICMP echo request with correct checksums.
    static func icmpEcho(from source: [UInt8], to destination: [UInt8], identifier: UInt16, sequence: UInt16) -> [UInt8] {
        var icmp: [UInt8] = [8, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xff), UInt8(sequence >> 8), UInt8(sequence & 0xff)]
            + Array("wgbench interop".utf8)
        let icmpSum = checksum(icmp)
        icmp[2] = UInt8(icmpSum >> 8); icmp[3] = UInt8(icmpSum & 0xff)
        let total = 20 + icmp.count
        var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 1, 0x40, 0, 64, 1, 0, 0] + source + destination
        let ipSum = checksum(ip)
        ip[10] = UInt8(ipSum >> 8); ip[11] = UInt8(ipSum & 0xff)
        return ip + icmp
    }

    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        for i in stride(from: 0, to: bytes.count, by: 2) {
            sum += UInt32(bytes[i]) << 8 | (i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0)
        }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}

/// A UDP socket on 127.0.0.1 with a 3 s receive timeout (test plumbing only).
private final class UDPTestSocket {
    let fd: Int32

    init() throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    func send(_ bytes: [UInt8], port: UInt16) throws {
        var address = Self.loopback(port: port)
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard sent == bytes.count else { throw POSIXError(.EIO) }
    }

    func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? Array(buffer.prefix(count)) : nil
    }
}
