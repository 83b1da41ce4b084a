import Foundation
import Glibc
import WGBenchCore
import WGBenchEngine
import XCTest

/// Any MTU: two wireguard-swift daemons (the same engine at both ends), each in a network namespace
/// of its own, carry TCP and full-size UDP datagrams both ways through a tunnel at MTU 1420, 9000
/// and 34736, with TUN and UDP offloads on. A slot too small for the packets (what the daemon had
/// before: 4096 bytes) drops every one of them and fails these.
///
///   ns a                                             ns b
///   198.19.13.1 ── wgsm<pid>a ═ UDP ═ wgsm<pid>b ── 198.19.13.2
///        veth 198.18.13.1/24 ────────── 198.18.13.2/24 (MTU: the tunnel's + 80, or 1500)
final class TunnelMTUTests: XCTestCase {
    let a = "wgsm\(getpid() % 10000)na", b = "wgsm\(getpid() % 10000)nb"
    let ifA = "wgsm\(getpid() % 10000)a", ifB = "wgsm\(getpid() % 10000)b"
    let runner = LocalCommandRunner()
    var binary = ""

    override func setUpWithError() throws {
        try XCTSkipUnless(geteuid() == 0, "needs root (namespaces, TUN)")
        binary = builtProduct("wireguard-swift")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: binary), "wireguard-swift is not built")
        tearDown()
    }

    override func tearDown() {
        for namespace in [a, b] {
            _ = try? runner.run(Command("ip", "-n", namespace, "link", "del", namespace == a ? ifA : ifB))
            let pids = (try? runner.run(Command("ip", "netns", "pids", namespace)))?.stdout.split(separator: "\n") ?? []
            for pid in pids { kill(pid_t(pid) ?? 0, SIGKILL) }
            _ = try? runner.run(Command("ip", "netns", "del", namespace))
        }
        for interface in [ifA, ifB] { for suffix in ["sock", "stats"] { unlink("/var/run/wireguard/\(interface).\(suffix)") } }  // the daemons were killed with SIGKILL
    }

    func netns(_ namespace: String, _ argv: [String], seconds: Int = 20) throws -> String {
        try runner.check(Command(["ip", "netns", "exec", namespace] + argv, timeout: SpecDuration(milliseconds: seconds * 1000)))
    }

    /// Starts `argv` in `namespace` in the background, its output to /dev/null (the runner would wait
    /// for whoever holds its pipes); the caller reaps it.
    func spawn(_ namespace: String, _ argv: [String]) throws -> pid_t {
        let words = ["ip", "netns", "exec", namespace] + argv
        let pointers: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_RDWR, 0) }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, "ip", &actions, nil, pointers, environ) == 0 else { throw SpawnError() }
        return pid
    }
    struct SpawnError: Error {}

    /// Both daemons with `engine`, the tunnel at `mtu`, the underlay at `underlayMTU`.
    func bringUp(engine: String, mtu: Int, underlayMTU: Int) throws {
        tearDown()
        for command in [["ip", "netns", "add", a], ["ip", "netns", "add", b],
                        ["ip", "link", "add", "va", "netns", a, "type", "veth", "peer", "name", "vb", "netns", b],
                        ["ip", "-n", a, "addr", "add", "198.18.13.1/24", "dev", "va"], ["ip", "-n", b, "addr", "add", "198.18.13.2/24", "dev", "vb"],
                        ["ip", "-n", a, "link", "set", "va", "mtu", "\(underlayMTU)", "up"], ["ip", "-n", b, "link", "set", "vb", "mtu", "\(underlayMTU)", "up"],
                        ["ip", "-n", a, "link", "set", "lo", "up"], ["ip", "-n", b, "link", "set", "lo", "up"]] {
            try runner.check(Command(command))
        }
        for (namespace, interface) in [(a, ifA), (b, ifB)] {
            _ = try netns(namespace, [binary, "--engine", engine, interface])  // daemonizes, returns once its socket is up
        }
        let keys = try (0..<2).map { _ in try runner.check(Command("wg", "genkey")).trimmingCharacters(in: .whitespacesAndNewlines) }
        let pub = { (key: String) in try self.runner.check(Command(["wg", "pubkey"], stdin: Array((key + "\n").utf8))).trimmingCharacters(in: .whitespacesAndNewlines) }
        let sides = [(a, ifA, keys[0], try pub(keys[1]), 40131, "198.19.13.2/32", "198.18.13.2:40132", "198.19.13.1/24"),
                     (b, ifB, keys[1], try pub(keys[0]), 40132, "198.19.13.1/32", "198.18.13.1:40131", "198.19.13.2/24")]
        for (namespace, interface, key, peer, port, allowed, endpoint, address) in sides {
            let config = "[Interface]\nPrivateKey = \(key)\nListenPort = \(port)\n[Peer]\nPublicKey = \(peer)\nAllowedIPs = \(allowed)\nEndpoint = \(endpoint)\n"
            try runner.check(Command(["ip", "netns", "exec", namespace, "wg", "setconf", interface, "/dev/stdin"], stdin: Array(config.utf8)))
            try runner.check(Command("ip", "-n", namespace, "addr", "add", address, "dev", interface))
            try runner.check(Command("ip", "-n", namespace, "link", "set", interface, "mtu", "\(mtu)", "up"))
        }
        XCTAssertTrue(try netns(a, ["ping", "-c", "2", "-W", "2", "198.19.13.2"]).contains("2 received"), "\(engine) MTU \(mtu): no ping")
    }

    /// Bytes the daemon wrote into its TUN device: what came out of the tunnel on that side.
    func tunneled(_ namespace: String, _ interface: String) throws -> Int {
        Int(try netns(namespace, ["cat", "/sys/class/net/\(interface)/statistics/rx_bytes"]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// One second of TCP, then one of UDP datagrams filling the MTU, each way; every run must carry
    /// data through the tunnel (counted where it comes out: iperf3's UDP sender reports what it sent).
    func carriesTCPAndUDPBothWays(engine: String, mtu: Int, underlayMTU: Int) throws {
        try bringUp(engine: engine, mtu: mtu, underlayMTU: underlayMTU)
        let what = "\(engine), MTU \(mtu), underlay \(underlayMTU)"
        for (index, (udp, reverse)) in [(false, false), (false, true), (true, false), (true, true)].enumerated() {
            let port = "\(5230 + index)"
            let server = try spawn(b, ["timeout", "20", "iperf3", "-s", "-1", "-B", "198.19.13.2", "-p", port])
            defer { waitpid(server, nil, 0) }
            usleep(300_000)
            var flags = ["-c", "198.19.13.2", "-p", port, "-t", "1", "-J"]
            if udp { flags += ["-u", "-b", "200M", "-l", "\(mtu - 28)"] }
            if reverse { flags.append("-R") }
            let (namespace, interface) = reverse ? (a, ifA) : (b, ifB)
            let before = try tunneled(namespace, interface)
            let result = try XCTUnwrap(Iperf3Parser.parse(try netns(a, ["timeout", "15", "iperf3"] + flags)))
            let label = "\(what), \(udp ? "UDP" : "TCP") \(reverse ? "b to a" : "a to b")"
            XCTAssertNil(result.error, label)
            XCTAssertGreaterThan(try tunneled(namespace, interface) - before, 2_000_000, label)
            if !udp { XCTAssertGreaterThan(result.bitsPerSecond ?? 0, 10_000_000, label) }
        }
    }

    func testInline1420() throws { try carriesTCPAndUDPBothWays(engine: "inline", mtu: 1420, underlayMTU: 1500) }
    func testInline9000() throws { try carriesTCPAndUDPBothWays(engine: "inline", mtu: 9000, underlayMTU: 9080) }
    func testInline34736() throws { try carriesTCPAndUDPBothWays(engine: "inline", mtu: 34736, underlayMTU: 34816) }
    func testParallel1420() throws { try carriesTCPAndUDPBothWays(engine: "parallel", mtu: 1420, underlayMTU: 1500) }
    func testParallel9000() throws { try carriesTCPAndUDPBothWays(engine: "parallel", mtu: 9000, underlayMTU: 9080) }
    func testParallel34736() throws { try carriesTCPAndUDPBothWays(engine: "parallel", mtu: 34736, underlayMTU: 34816) }
    /// A large tunnel MTU over a 1500-byte underlay: the outer datagrams go out as IP fragments.
    func testInline9000OverA1500Underlay() throws { try carriesTCPAndUDPBothWays(engine: "inline", mtu: 9000, underlayMTU: 1500) }
}
