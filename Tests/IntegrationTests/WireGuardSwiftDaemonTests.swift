import Foundation
import Glibc
import WGBenchCore
import WGBenchEngine
import XCTest

/// The wireguard-swift daemon against Debian's wireguard-go, each in a network namespace of its
/// own joined by a veth (198.18.9.0/24; tunnel 198.19.9.0/24), configured with the stock `wg`.
final class WireGuardSwiftDaemonTests: XCTestCase {
    let a = "wgbx\(getpid() % 10000)a", b = "wgbx\(getpid() % 10000)b"
    let swiftInterface = "wgbs\(getpid() % 10000)", goInterface = "wgbg\(getpid() % 10000)"
    let runner = LocalCommandRunner()
    var binary = ""

    override func setUpWithError() throws {
        try XCTSkipUnless(geteuid() == 0, "needs root (namespaces, TUN)")
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("wireguard-swift").path
        binary = FileManager.default.isExecutableFile(atPath: beside) ? beside
            : URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug/wireguard-swift").path
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: binary), "wireguard-swift is not built")
        tearDown()
        for command in [["ip", "netns", "add", a], ["ip", "netns", "add", b],
                        ["ip", "link", "add", "va", "netns", a, "type", "veth", "peer", "name", "vb", "netns", b],
                        ["ip", "-n", a, "addr", "add", "198.18.9.1/24", "dev", "va"], ["ip", "-n", b, "addr", "add", "198.18.9.2/24", "dev", "vb"],
                        ["ip", "-n", a, "link", "set", "va", "up"], ["ip", "-n", b, "link", "set", "vb", "up"],
                        ["ip", "-n", a, "link", "set", "lo", "up"], ["ip", "-n", b, "link", "set", "lo", "up"]] {
            try runner.check(Command(command))
        }
    }

    override func tearDown() {
        for namespace in [a, b] {
            let pids = (try? runner.run(Command("ip", "netns", "pids", namespace)))?.stdout.split(separator: "\n") ?? []
            for pid in pids { kill(pid_t(pid) ?? 0, SIGKILL) }
            _ = try? runner.run(Command("ip", "netns", "del", namespace))
        }
        for interface in [swiftInterface, goInterface] { unlink("/var/run/wireguard/\(interface).sock") }
    }

    /// Starts a daemon in a namespace and waits for its foreground part (both daemonize).
    func start(_ namespace: String, _ argv: [String]) throws {
        let words = ["ip", "netns", "exec", namespace] + argv
        let pointers: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        for descriptor: Int32 in [1, 2] { posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_WRONLY, 0) }
        XCTAssertEqual(posix_spawnp(&pid, "ip", &actions, nil, pointers, environ), 0)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        XCTAssertEqual(status, 0, "\(argv) failed to start")
    }

    func netns(_ namespace: String, _ argv: String...) throws -> String {
        try runner.check(Command(["ip", "netns", "exec", namespace] + argv, timeout: SpecDuration(milliseconds: 20_000)))
    }

    /// Both daemons up and configured; `goPeerKey` lets a test give wireguard-go the wrong key for us.
    func bringUp(goPeerKey: String? = nil) throws -> (swiftKey: String, goKey: String) {
        try start(a, [binary, swiftInterface])
        try start(b, ["env", TunnelCommands.wireguardGoEnvironment, "wireguard-go", goInterface])
        let swiftPrivate = try runner.check(Command("wg", "genkey")).trimmingCharacters(in: .whitespacesAndNewlines)
        let goPrivate = try runner.check(Command("wg", "genkey")).trimmingCharacters(in: .whitespacesAndNewlines)
        let pub = { (key: String) in try self.runner.check(Command(["wg", "pubkey"], stdin: Array((key + "\n").utf8))).trimmingCharacters(in: .whitespacesAndNewlines) }
        let swiftPublic = try pub(swiftPrivate), goPublic = try pub(goPrivate)
        let swiftConfig = "[Interface]\nPrivateKey = \(swiftPrivate)\nListenPort = 40001\n[Peer]\nPublicKey = \(goPublic)\nAllowedIPs = 198.19.9.2/32\nEndpoint = 198.18.9.2:40002\n"
        let goConfig = "[Interface]\nPrivateKey = \(goPrivate)\nListenPort = 40002\n[Peer]\nPublicKey = \(goPeerKey ?? swiftPublic)\nAllowedIPs = 198.19.9.1/32\nEndpoint = 198.18.9.1:40001\n"
        try runner.check(Command(["ip", "netns", "exec", a, "wg", "setconf", swiftInterface, "/dev/stdin"], stdin: Array(swiftConfig.utf8)))
        try runner.check(Command(["ip", "netns", "exec", b, "wg", "setconf", goInterface, "/dev/stdin"], stdin: Array(goConfig.utf8)))
        for (namespace, interface, address) in [(a, swiftInterface, "198.19.9.1/24"), (b, goInterface, "198.19.9.2/24")] {
            try runner.check(Command("ip", "-n", namespace, "addr", "add", address, "dev", interface))
            try runner.check(Command("ip", "-n", namespace, "link", "set", interface, "up"))
        }
        return (swiftPublic, goPublic)
    }

    /// (public key, latest handshake, rx, tx) of the one peer, from `wg show <if> dump`.
    func peer(_ namespace: String, _ interface: String) throws -> (String, Int, Int, Int) {
        let line = try netns(namespace, "wg", "show", interface, "dump").split(separator: "\n")[1].split(separator: "\t")
        return (String(line[0]), Int(line[4]) ?? 0, Int(line[5]) ?? 0, Int(line[6]) ?? 0)
    }

    func testSwiftInitiatesPingAndWgShowAgreesOnBothSides() throws {
        let (swiftKey, goKey) = try bringUp()
        XCTAssertTrue(try netns(a, "ping", "-c", "3", "-W", "2", "198.19.9.2").contains("3 received"))
        let ours = try peer(a, swiftInterface), theirs = try peer(b, goInterface)
        XCTAssertEqual(ours.0, goKey)
        XCTAssertEqual(theirs.0, swiftKey)
        XCTAssertGreaterThan(ours.1, 0)
        XCTAssertGreaterThan(theirs.1, 0)
        XCTAssertEqual(ours.2, theirs.3, "what we received is what wireguard-go sent")
        XCTAssertEqual(ours.3, theirs.2, "what we sent is what wireguard-go received")
        XCTAssertTrue(try netns(a, "wg", "show", swiftInterface).contains("endpoint: 198.18.9.2:40002"))
    }

    func testWireGuardGoInitiatesAndIperf3RunsThroughTheTunnel() throws {
        _ = try bringUp()
        XCTAssertTrue(try netns(b, "ping", "-c", "2", "-W", "2", "198.19.9.1").contains("2 received"))
        try start(b, ["iperf3", "-s", "-1", "-D", "-B", "198.19.9.2", "-p", "5299"])
        usleep(300_000)
        let json = try netns(a, "iperf3", "-c", "198.19.9.2", "-p", "5299", "-t", "2", "-J")
        let result = try XCTUnwrap(Iperf3Parser.parse(json))
        XCTAssertNil(result.error)
        XCTAssertGreaterThan(result.bitsPerSecond ?? 0, 1_000_000)
    }

    func testAWrongKeyPassesNoData() throws {
        let stranger = try runner.check(Command("wg", "genkey"))
        let strangerPublic = try runner.check(Command(["wg", "pubkey"], stdin: Array(stranger.utf8))).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try bringUp(goPeerKey: strangerPublic)
        let result = try runner.run(Command("ip", "netns", "exec", a, "ping", "-c", "2", "-W", "1", "198.19.9.2"))
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(try peer(a, swiftInterface).1, 0, "no handshake may complete")
    }

    func testTheDaemonExitsWhenItsInterfaceIsDeleted() throws {
        _ = try bringUp()
        let socket = "/var/run/wireguard/\(swiftInterface).sock"
        XCTAssertEqual(access(socket, F_OK), 0, "the UAPI socket should exist while the interface does")
        try runner.check(Command("ip", "-n", a, "link", "del", swiftInterface))
        var gone = false
        for _ in 0..<40 where !gone {
            usleep(50_000)
            gone = access(socket, F_OK) != 0
        }
        XCTAssertTrue(gone, "the UAPI socket is still there")
        let processes = ProcessListParser.living(try runner.check(ProcessListParser.command))
        XCTAssertFalse(processes.contains { $0.hasSuffix(" \(swiftInterface)") })
    }
}
