import Foundation
import Testing
@testable import WGBenchCore

/// Issue #22, item 6 (the harness's half): userspace daemons were started at LOG_LEVEL=verbose,
/// logging into the gateways' /run, a tmpfs, without a bound. They now log at the series'
/// `log_level` (default error), and their log keeps at most `daemonLogCapBytes`.
struct DaemonLogCommandTests {
    let testbed = try! TestbedLoader.parse(yaml: validLocalTestbed, file: "t.yaml", home: "/h")
    let traffic = TrafficSpec(protocol: .tcp, durationSeconds: 5, omitSeconds: 1, bitrate: 0, basePort: 5201,
                              clientCPUs: [0], serverCPUs: [1, 2])

    func start(_ target: TargetKind, _ knobs: KnobSettings) throws -> Command {
        let plan = try TrafficPlan(testbed: testbed, traffic: traffic, tunnels: 1, flows: 1, target: target)
        let topology = HostTopology.uniform(cpus: 4, nodes: 1, nics: ["eth1", "eth2"])
        let placement = try PlacementResolver.resolve(PlacementSpec(), plan: plan, topology: [.gw1: topology, .gw2: topology],
                                                      dataNIC: [.gw1: "eth1", .gw2: "eth2"])
        return try #require(TunnelCommands.create(target, interface: "wgb1-1", role: .gw1, tunnel: 1, knobs: knobs,
                                                  placement: placement, log: "/run/l.log").first).rendered
    }

    /// `sh -c <script> daemon <log> <cap> <level> <command line>`.
    func level(_ command: Command) -> String { command.argv[6] }

    @Test(arguments: [TargetKind.wireguardGo, .wireguardSwift])
    func theDefaultLevelIsErrorsAndTheLogIsCapped(_ target: TargetKind) throws {
        let command = try start(target, KnobSettings())
        #expect(command.argv[3] == "daemon" && command.argv[4] == "/run/l.log" && command.argv[5] == String(TunnelCommands.daemonLogCapBytes))
        #expect(level(command) == "error")
        #expect(!command.description.contains("verbose"))
        #expect(command.argv.last == "wgb1-1")
    }

    @Test func aSeriesChoosesItsLevel() throws {
        var knobs = KnobSettings()
        knobs[.logLevel] = try Knob.logLevel.parse("verbose")
        #expect(level(try start(.wireguardGo, knobs)) == "verbose")
        knobs[.logLevel] = try Knob.logLevel.parse("silent")
        let swift = try start(.wireguardSwift, knobs)
        #expect(level(swift) == "silent" && !swift.argv.contains("--log-level") && swift.argv.suffix(2) == ["wireguard-swift", "wgb1-1"])
        #expect(throws: KnobError.self) { try Knob.logLevel.parse("debug;reboot") }
        #expect(Knob.logLevel.targets == [.wireguardGo, .wireguardSwift])
    }

    /// The start line run by a real /bin/sh, with a daemon that detaches as wireguard-go does and
    /// then writes 4 MB: the start returns at once with the daemon's status, the log keeps the cap
    /// and says so, and the daemon is not killed for writing past it (SIGPIPE).
    @Test func theCapHoldsAndTheDaemonLivesOn() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-daemon-log-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fake = directory.appendingPathComponent("wireguard-go")
        try """
        #!/bin/sh
        echo "started at $LOG_LEVEL"
        ( i=0; while [ $i -lt 40 ]; do head -c 100000 /dev/zero | tr '\\0' x; echo; i=$((i+1)); done; echo alive > "\(directory.path)/alive" ) &
        exit 0
        """.write(to: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        var knobs = KnobSettings()
        knobs[.binary] = try Knob.binary.parse(fake.path)
        knobs[.logLevel] = try Knob.logLevel.parse("verbose")
        var command = try start(.wireguardGo, knobs)
        let log = directory.appendingPathComponent("daemon.log").path
        command.argv[4] = log
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["10"] + command.argv
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        var alive = false
        for _ in 0..<100 where !alive {
            usleep(50_000)
            alive = FileManager.default.fileExists(atPath: directory.appendingPathComponent("alive").path)
        }
        #expect(alive, "the daemon died writing past the cap")
        usleep(100_000)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.hasPrefix("started at verbose\n"))
        #expect(text.hasSuffix("\n[wgbench: log capped at \(TunnelCommands.daemonLogCapBytes) bytes]\n"))
        #expect(text.utf8.count <= TunnelCommands.daemonLogCapBytes + 64)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["alive", "daemon.log", "wireguard-go"],
                "the FIFO is left")
    }
}
