import Foundation
import Glibc
import WGBenchCore
import WGBenchEngine
import XCTest

/// The wireguard-swift daemon against Debian's wireguard-go, each in a network namespace of its
/// own joined by a veth (198.18.9.0/24; tunnel 198.19.9.0/24), configured with the stock `wg`.
final class WireGuardSwiftDaemonTests: XCTestCase {
    let a = "wgbx\(getpid() % 10000)a", b = "wgbx\(getpid() % 10000)b", c = "wgbx\(getpid() % 10000)c"
    let swiftInterface = "wgbs\(getpid() % 10000)", goInterface = "wgbg\(getpid() % 10000)"
    let runner = LocalCommandRunner()
    var binary = ""

    override func setUpWithError() throws {
        try XCTSkipUnless(geteuid() == 0, "needs root (namespaces, TUN)")
        binary = builtProduct("wireguard-swift")
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
        for namespace in [a, b, c] {
            let pids = (try? runner.run(Command("ip", "netns", "pids", namespace)))?.stdout.split(separator: "\n") ?? []
            for pid in pids { kill(pid_t(pid) ?? 0, SIGKILL) }
            _ = try? runner.run(Command("ip", "netns", "del", namespace))
        }
        for interface in [swiftInterface, goInterface] { for suffix in ["sock", "stats"] { unlink("/var/run/wireguard/\(interface).\(suffix)") } }
    }

    /// Starts a daemon in a namespace and waits for its foreground part (both daemonize); with
    /// `log`, its standard output goes to that file.
    func start(_ namespace: String, _ argv: [String], log: String? = nil) throws {
        let words = ["ip", "netns", "exec", namespace] + argv
        let pointers: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, log ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        XCTAssertEqual(posix_spawnp(&pid, "ip", &actions, nil, pointers, environ), 0)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        XCTAssertEqual(status, 0, "\(argv) failed to start")
    }

    func netns(_ namespace: String, _ argv: String...) throws -> String {
        try runner.check(Command(["ip", "netns", "exec", namespace] + argv, timeout: SpecDuration(milliseconds: 20_000)))
    }

    /// Both daemons up and configured; `goPeerKey` lets a test give wireguard-go the wrong key for us.
    /// With `tunnelNamespace`, our interface moves there after the daemon made it (its UDP socket
    /// stays in `a`), and is configured and addressed there.
    func bringUp(goPeerKey: String? = nil, swiftArguments: [String] = [], log: String? = nil,
                 tunnelNamespace: String? = nil) throws -> (swiftKey: String, goKey: String) {
        try start(a, (log == nil ? [] : ["env", "LOG_LEVEL=verbose"]) + [binary] + swiftArguments + [swiftInterface], log: log)
        let ours = tunnelNamespace ?? a
        if let tunnelNamespace {
            try runner.check(Command("ip", "netns", "add", tunnelNamespace))
            try runner.check(Command("ip", "-n", a, "link", "set", swiftInterface, "netns", tunnelNamespace))
        }
        try start(b, ["env", TunnelCommands.wireguardGoEnvironment, "wireguard-go", goInterface])
        let swiftPrivate = try runner.check(Command("wg", "genkey")).trimmingCharacters(in: .whitespacesAndNewlines)
        let goPrivate = try runner.check(Command("wg", "genkey")).trimmingCharacters(in: .whitespacesAndNewlines)
        let pub = { (key: String) in try self.runner.check(Command(["wg", "pubkey"], stdin: Array((key + "\n").utf8))).trimmingCharacters(in: .whitespacesAndNewlines) }
        let swiftPublic = try pub(swiftPrivate), goPublic = try pub(goPrivate)
        let swiftConfig = "[Interface]\nPrivateKey = \(swiftPrivate)\nListenPort = 40001\n[Peer]\nPublicKey = \(goPublic)\nAllowedIPs = 198.19.9.2/32\nEndpoint = 198.18.9.2:40002\n"
        let goConfig = "[Interface]\nPrivateKey = \(goPrivate)\nListenPort = 40002\n[Peer]\nPublicKey = \(goPeerKey ?? swiftPublic)\nAllowedIPs = 198.19.9.1/32\nEndpoint = 198.18.9.1:40001\n"
        try runner.check(Command(["ip", "netns", "exec", ours, "wg", "setconf", swiftInterface, "/dev/stdin"], stdin: Array(swiftConfig.utf8)))
        try runner.check(Command(["ip", "netns", "exec", b, "wg", "setconf", goInterface, "/dev/stdin"], stdin: Array(goConfig.utf8)))
        for (namespace, interface, address) in [(ours, swiftInterface, "198.19.9.1/24"), (b, goInterface, "198.19.9.2/24")] {
            try runner.check(Command("ip", "-n", namespace, "addr", "add", address, "dev", interface))
            try runner.check(Command("ip", "-n", namespace, "link", "set", interface, "up"))
        }
        return (swiftPublic, goPublic)
    }

    /// Whether our daemon's UAPI socket goes within 2 s (the daemon removes it as it exits).
    func daemonExits() -> Bool {
        for _ in 0..<40 {
            if access("/var/run/wireguard/\(swiftInterface).sock", F_OK) != 0 { return true }
            usleep(50_000)
        }
        return false
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
        try iperf3BothWays(swiftArguments: [])
    }

    /// The other engine and the fallback without offloads carry TCP both ways, with data
    /// intact (iperf3 reports no error; TCP would not survive corrupted segments).
    func testParallelEngineCarriesIperf3() throws { try iperf3BothWays(swiftArguments: ["--engine", "parallel"]) }
    func testInlineWithoutOffloadsCarriesIperf3() throws { try iperf3BothWays(swiftArguments: ["--no-offload"]) }
    func testParallelWithoutOffloadsCarriesIperf3() throws { try iperf3BothWays(swiftArguments: ["--engine", "parallel", "--no-offload"]) }

    func iperf3BothWays(swiftArguments: [String]) throws {
        _ = try bringUp(swiftArguments: swiftArguments)
        XCTAssertTrue(try netns(b, "ping", "-c", "2", "-W", "2", "198.19.9.1").contains("2 received"))
        for (port, reverse) in [("5299", false), ("5298", true)] {
            try start(b, ["iperf3", "-s", "-1", "-D", "-B", "198.19.9.2", "-p", port])
            usleep(300_000)
            let json = try netns(a, "iperf3", "-c", "198.19.9.2", "-p", port, "-t", "2", "-J", reverse ? "-R" : "-4")
            let result = try XCTUnwrap(Iperf3Parser.parse(json))
            XCTAssertNil(result.error, "\(swiftArguments) reverse=\(reverse)")
            XCTAssertGreaterThan(result.bitsPerSecond ?? 0, 1_000_000, "\(swiftArguments) reverse=\(reverse)")
        }
    }

    func testAWrongKeyPassesNoDataAndTheLogSaysWhy() throws {
        let stranger = try runner.check(Command("wg", "genkey"))
        let strangerPublic = try runner.check(Command(["wg", "pubkey"], stdin: Array(stranger.utf8))).trimmingCharacters(in: .whitespacesAndNewlines)
        let log = NSTemporaryDirectory() + "wgbs-\(getpid()).log"
        defer { unlink(log) }
        _ = try bringUp(goPeerKey: strangerPublic, log: log)
        let result = try runner.run(Command("ip", "netns", "exec", a, "ping", "-c", "2", "-W", "1", "198.19.9.2"))
        XCTAssertNotEqual(result.status, 0)
        // The retransmission comes from the timers, REKEY_TIMEOUT (5 s + up to 0.33 s) after the first.
        var text = ""
        for _ in 0..<100 where !text.contains("retrying") {
            usleep(100_000)
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }
        XCTAssertEqual(try peer(a, swiftInterface).1, 0, "no handshake may complete")
        XCTAssertTrue(text.contains("Sending handshake initiation"), text)
        XCTAssertTrue(text.contains("Handshake did not complete after 5 seconds, retrying"), text)
    }

    /// Issue #22, item 4: a second daemon of the same interface name in another namespace (another
    /// testbed's) took the first's UAPI socket over; it now exits with an error naming the socket,
    /// in the background or the foreground, and the first goes on answering `wg`.
    func testASecondDaemonOfTheSameNameIsRefused() throws {
        try start(a, [binary, swiftInterface])
        let socket = "/var/run/wireguard/\(swiftInterface).sock"
        for foreground in [false, true] {
            let second = try runner.run(Command(["ip", "netns", "exec", b, binary] + (foreground ? ["-f"] : []) + [swiftInterface],
                                                timeout: SpecDuration(milliseconds: 10_000)))
            XCTAssertNotEqual(second.status, 0, "foreground \(foreground)")
            XCTAssertTrue(second.stderr.contains("\(socket) is in use"), "foreground \(foreground): \(second.stderr)")
        }
        XCTAssertTrue(try netns(a, "wg", "show", swiftInterface).contains("interface: \(swiftInterface)"))
        XCTAssertTrue(try runner.run(Command("ip", "-n", b, "link", "show", swiftInterface)).status != 0, "the second's TUN is left")
    }

    func testTheDaemonExitsWhenItsInterfaceIsDeleted() throws {
        _ = try bringUp()
        let socket = "/var/run/wireguard/\(swiftInterface).sock"
        XCTAssertEqual(access(socket, F_OK), 0, "the UAPI socket should exist while the interface does")
        try runner.check(Command("ip", "-n", a, "link", "del", swiftInterface))
        XCTAssertTrue(daemonExits(), "the UAPI socket is still there")
        let processes = ProcessListParser.living(try runner.check(ProcessListParser.command))
        XCTAssertFalse(processes.contains { $0.hasSuffix(" \(swiftInterface)") })
    }

    /// wireguard.com/netns: the interface is moved into a namespace with no underlay at all,
    /// while the daemon's UDP socket stays where it started; traffic from the new namespace goes
    /// through the tunnel and out of the old one.
    func testTheInterfaceWorksAfterMovingToAnotherNamespace() throws {
        _ = try bringUp(tunnelNamespace: c)
        XCTAssertTrue(try netns(c, "ip", "-o", "link", "show").contains(swiftInterface))
        XCTAssertFalse(try netns(a, "ip", "-o", "link", "show").contains(swiftInterface))
        XCTAssertTrue(try netns(c, "ping", "-c", "3", "-W", "2", "198.19.9.2").contains("3 received"))
        XCTAssertTrue(try netns(c, "wg", "show", swiftInterface).contains("latest handshake"))
        // Deleting it in its new namespace still ends the daemon.
        try runner.check(Command("ip", "-n", c, "link", "del", swiftInterface))
        XCTAssertTrue(daemonExits(), "the daemon did not exit")
    }

    /// wg-quick with our daemon as its userspace implementation: up (interface, configuration,
    /// address, MTU, routes), traffic, down (the daemon exits).
    func testWgQuickUpAndDownWithWireGuardSwift() throws {
        try start(b, ["env", TunnelCommands.wireguardGoEnvironment, "wireguard-go", goInterface])
        let swiftPrivate = try runner.check(Command("wg", "genkey")).trimmingCharacters(in: .whitespacesAndNewlines)
        let goPrivate = try runner.check(Command("wg", "genkey")).trimmingCharacters(in: .whitespacesAndNewlines)
        let pub = { (key: String) in try self.runner.check(Command(["wg", "pubkey"], stdin: Array((key + "\n").utf8))).trimmingCharacters(in: .whitespacesAndNewlines) }
        let directory = NSTemporaryDirectory() + "wgbq-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = "\(directory)/\(swiftInterface).conf"
        try """
        [Interface]
        PrivateKey = \(swiftPrivate)
        ListenPort = 40001
        Address = 198.19.9.1/24

        [Peer]
        PublicKey = \(try pub(goPrivate))
        AllowedIPs = 198.19.9.2/32
        Endpoint = 198.18.9.2:40002
        """.write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        let goConfig = "[Interface]\nPrivateKey = \(goPrivate)\nListenPort = 40002\n[Peer]\nPublicKey = \(try pub(swiftPrivate))\nAllowedIPs = 198.19.9.1/32\n"
        try runner.check(Command(["ip", "netns", "exec", b, "wg", "setconf", goInterface, "/dev/stdin"], stdin: Array(goConfig.utf8)))
        try runner.check(Command("ip", "-n", b, "addr", "add", "198.19.9.2/24", "dev", goInterface))
        try runner.check(Command("ip", "-n", b, "link", "set", goInterface, "up"))

        let up = try runner.run(Command("ip", "netns", "exec", a, "env", "WG_QUICK_USERSPACE_IMPLEMENTATION=\(binary)", "wg-quick", "up", file))
        XCTAssertEqual(up.status, 0, up.stderr)
        XCTAssertTrue(up.stderr.contains(binary), "wg-quick did not fall back to our daemon: \(up.stderr)")
        XCTAssertTrue(try netns(a, "ip", "link", "show", swiftInterface).contains("mtu 1420"))
        XCTAssertTrue(try netns(a, "ping", "-c", "3", "-W", "2", "198.19.9.2").contains("3 received"))
        let down = try runner.run(Command("ip", "netns", "exec", a, "wg-quick", "down", file))
        XCTAssertEqual(down.status, 0, down.stderr)
        XCTAssertTrue(daemonExits(), "the daemon did not exit after wg-quick down")
    }

    /// A stream of random, truncated, oversized and type-correct but forged datagrams at the
    /// daemon's port, with a session up: the daemon survives it and the tunnel still works.
    func testRandomAndMutatedDatagramsAreDroppedAndTheDaemonCarriesOn() throws {
        let log = NSTemporaryDirectory() + "wgs-junk-\(getpid()).log"
        defer { unlink(log) }
        _ = try bringUp(log: log)
        XCTAssertTrue(try netns(a, "ping", "-c", "2", "-W", "2", "198.19.9.2").contains("2 received"))
        let script = """
        import os, random, socket
        random.seed(1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        lengths = {1: 148, 2: 92, 3: 64, 4: 32}
        for i in range(6000):
            kind = i % 6
            if kind == 0:
                data = os.urandom(random.randint(0, 1600))
            elif kind == 1:
                t = random.randint(1, 4)
                data = bytes([t, 0, 0, 0]) + os.urandom(lengths[t] - 4)
            elif kind == 2:
                t = random.randint(1, 4)
                data = bytes([t, 0, 0, 0]) + os.urandom(random.randint(0, lengths[t] + 40))
            elif kind == 3:
                data = bytes([4, 0, 0, 0]) + os.urandom(random.randint(28, 1500))
            elif kind == 4:
                data = bytes([random.randint(0, 255) for _ in range(4)]) + os.urandom(random.randint(0, 200))
            else:
                data = bytes([4, 0, 0, 0]) + os.urandom(random.randint(9000, 60000))
            s.sendto(data, ("198.18.9.1", 40001))
        """
        try runner.check(Command(["ip", "netns", "exec", b, "python3", "-"], timeout: SpecDuration(milliseconds: 60_000), stdin: Array(script.utf8)))
        XCTAssertEqual(access("/var/run/wireguard/\(swiftInterface).sock", F_OK), 0, "the daemon is gone")
        XCTAssertTrue(try netns(a, "ping", "-c", "3", "-W", "2", "198.19.9.2").contains("3 received"))
        XCTAssertTrue(try netns(a, "wg", "show", swiftInterface).contains("latest handshake"))
        // The drops are visible: counted by reason in the stats file (within a timer tick)...
        usleep(300_000)
        let stats = try String(contentsOfFile: "/var/run/wireguard/\(swiftInterface).stats", encoding: .utf8)
        let counts = Dictionary(stats.split(separator: "\n").compactMap { line -> (String, Int)? in
            let parts = line.split(separator: "=")
            return parts.count == 2 ? (String(parts[0]), Int(parts[1]) ?? -1) : nil
        }, uniquingKeysWith: { $1 })
        XCTAssertGreaterThan(counts["malformed"] ?? 0, 1000, stats)
        XCTAssertGreaterThan(counts["unauthenticated"] ?? 0, 100, stats)
        XCTAssertGreaterThan(counts["no_session"] ?? 0, 100, stats)
        XCTAssertEqual(counts["disallowed_source"], 0, stats)
        // The log is bounded (10 lines each 5 s, then a count of those suppressed), however long
        // the flood: a few seconds of it once wrote a line for each forged handshake message.
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        XCTAssertLessThan(lines.count, 60, "the junk flood left \(lines.count) log lines:\n\(lines.suffix(20).joined(separator: "\n"))")
        // ...and in the log on SIGUSR1 and at exit.
        let pid = try runner.check(Command("pgrep", "-f", "wireguard-swift.* \(swiftInterface)$")).split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertEqual(kill(pid_t(pid) ?? 0, SIGUSR1), 0)
        usleep(300_000)
        XCTAssertEqual(try String(contentsOfFile: log, encoding: .utf8).components(separatedBy: "Drops: malformed=").count, 2)
        try runner.check(Command("ip", "-n", a, "link", "del", swiftInterface))
        for _ in 0..<50 where access("/var/run/wireguard/\(swiftInterface).sock", F_OK) == 0 { usleep(100_000) }
        XCTAssertEqual(try String(contentsOfFile: log, encoding: .utf8).components(separatedBy: "Drops: malformed=").count, 3)
        XCTAssertNotEqual(access("/var/run/wireguard/\(swiftInterface).stats", F_OK), 0, "the stats file outlived the daemon")
    }

    /// Without a configured listen port the daemon binds an ephemeral one and reports it, as
    /// wireguard-go does (clients usually leave ListenPort out).
    func testWithoutAListenPortAnEphemeralOneIsBoundAndShown() throws {
        try start(a, [binary, swiftInterface])
        var port = 0
        for _ in 0..<20 where port == 0 {
            usleep(50_000)
            port = Int(try netns(a, "wg", "show", swiftInterface, "listen-port").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        XCTAssertGreaterThan(port, 0)
        XCTAssertTrue(try netns(a, "ss", "-Huln").contains(":\(port) "), "nothing listens on \(port)")
    }
}
