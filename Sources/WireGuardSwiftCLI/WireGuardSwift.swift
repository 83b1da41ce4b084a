import ArgumentParser
import CShims
import Foundation
import Glibc
import WireGuard
import WireGuardSystem

// wireguard-swift [-f] [--engine inline|parallel] [knobs] <ifname>: a userspace WireGuard
// interface configured with `wg` over /var/run/wireguard/<ifname>.sock, like wireguard-go.
// LOG_LEVEL=verbose logs handshakes, cookies and invalid messages to standard output (rate-limited
// as the kernel's: 10 lines per 5 s, then a count of those suppressed). Without -f
// it starts itself again in the background (a new session) and returns once the interface is up.
// This file is start-up and signals; the loops are WireGuardSystem's DaemonLoops.
//
// Drops are visible: every drop counter, by reason, is logged to standard output at exit and on
// SIGUSR1, and kept in /var/run/wireguard/<ifname>.stats while the daemon runs.

/// In the environment of the background process daemonize starts.
let daemonMarker = "WG_SWIFT_PROCESS_FOREGROUND"

/// Set by SIGTERM/SIGINT; the loops check it at least every 200 ms.
nonisolated(unsafe) var daemonStopping: Int32 = 0
/// Set by SIGUSR1: the timer thread logs the drop counters.
nonisolated(unsafe) var dropsRequested: Int32 = 0

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("wireguard-swift: \(message)\n".utf8))
    Glibc.exit(1)
}

public struct WireGuardSwift: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "wireguard-swift",
        abstract: "A userspace WireGuard interface, configured with wg like wireguard-go.",
        version: "wireguard-swift 0.4 (inline and parallel engines, TUN and UDP offloads, handshake thread)")

    @OptionGroup var options: Options

    public init() {}

    public func run() throws {
        if !options.foreground { Self.daemonize(Array(CommandLine.arguments.dropFirst()), interface: options.interface) }
        if ProcessInfo.processInfo.environment[daemonMarker] != nil {
            // Started by daemonize: let go of whatever the starter had open (wg-quick's pipes, say),
            // or whoever waits for the starter's output would wait for ours.
            wgb_close_inherited()
            unsetenv(daemonMarker)
        }

        signal(SIGTERM) { _ in daemonStopping = 1 }
        signal(SIGINT) { _ in daemonStopping = 1 }
        signal(SIGUSR1) { _ in dropsRequested = 1 }
        signal(SIGPIPE, SIG_IGN)

        let name = options.interface
        let tun: TunDevice
        do { tun = try TunDevice(name: name, offload: !options.noOffload) } catch { fail("\(error)") }
        let device = Device()
        if ["verbose", "debug"].contains(ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "") {
            device.log = { Self.log(name, "DEBUG", $0) }  // as wireguard-go logs at LOG_LEVEL=verbose
        }
        let offload = !options.noOffload
        let udp = SocketSlot { try UDPSocket(port: $0, offload: offload) }
        let listener: UAPIListener
        do {
            // The listen port and fwmark take effect before `wg` gets its answer, as with
            // wireguard-go: a first packet right after `wg setconf` must find the socket bound.
            listener = try UAPIListener(interface: name) { request in
                let response = device.handleUAPI(request)
                udp.follow(device)
                return response
            }
        } catch { fail("\(error)") }
        let stats = StatsFile(interface: name)
        let report: @Sendable () -> [(name: String, count: Int)] = { Self.dropReport(device, tun: tun, udp: udp) }
        let start = monotonicNow()
        let loops = DaemonLoops(device: device, tun: tun, udp: udp, now: { monotonicNow() - start }, stopping: { daemonStopping != 0 },
                                everyTick: { _ in
                                    stats.update(report().map { "\($0.name)=\($0.count)\n" }.joined())
                                    if dropsRequested != 0 {
                                        dropsRequested = 0
                                        Self.logDrops(name, report())
                                    }
                                })
        let end: DaemonLoops.End
        if options.engine == .inline {
            if let cpu = options.cpu { PinnedThread.pinCurrent(to: [cpu]) }
            end = loops.runInline(InlineEngine(device: device, tun: tun, udp: udp))
        } else {
            end = loops.runParallel(ParallelEngine(device: device, tun: tun, udp: udp, options: options.parallel))
        }
        if case .tunReadFailed(let error) = end { Self.log(name, "ERROR", "Failed to read packet from TUN device: \(error)") }
        Self.logDrops(name, report())
        stats.remove()
        listener.removeSocket()
        if case .tunReadFailed = end { Glibc.exit(1) }
        Glibc.exit(0)
    }

    /// The device's drop counters and the TUN device's.
    static func dropReport(_ device: Device, tun: TunDevice, udp: SocketSlot) -> [(name: String, count: Int)] {
        device.drops.named + [("tun_malformed", tun.malformed)] + tun.writeDrops.named + [("udp_receive_errors", udp.receiveErrors), ("udp_send_dropped", udp.sendDrops)]
    }

    static func logDrops(_ interface: String, _ report: [(name: String, count: Int)]) {
        log(interface, "INFO", "Drops: " + report.map { "\($0.name)=\($0.count)" }.joined(separator: " "))
    }

    /// One line to standard output, as wireguard-go writes its log.
    static func log(_ interface: String, _ level: String, _ message: String) {
        DaemonLog.write(level: level, interface: interface, message)
    }

    /// Starts again in the foreground, in a new session with no terminal, and waits for the socket.
    static func daemonize(_ arguments: [String], interface: String) -> Never {
        // Checked here too, not only by the daemon's listener: the starter takes a socket file for
        // its daemon's, and another daemon's socket of this name would have it report success.
        let inUse = UAPIListener.path(for: interface)
        if UAPIListener.answers(inUse) { fail(UAPIListener.SocketInUse(path: inUse).description) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        posix_spawnattr_setflags(&attributes, 0x80)  // POSIX_SPAWN_SETSID, a glibc macro Swift does not import
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        // Like wireguard-go: with LOG_LEVEL set (and not silent) the daemon keeps our standard
        // output and error for its log; otherwise it lets go of them.
        let level = ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? ""
        let keepOutput = !level.isEmpty && level != "silent"
        for descriptor: Int32 in keepOutput ? [0] : [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_RDWR, 0) }
        let words = [CommandLine.arguments[0], "-f"] + arguments
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        var pid: pid_t = 0
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        setenv(daemonMarker, "1", 1)
        guard posix_spawn(&pid, executable, &actions, &attributes, argv, environ) == 0 else { fail("cannot start the daemon") }
        let socket = UAPIListener.path(for: interface)
        for _ in 0..<100 {
            if FileManager.default.fileExists(atPath: socket) { Glibc.exit(0) }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { fail("the daemon exited at start-up (run with -f to see why)") }
            usleep(50_000)
        }
        fail("the daemon did not open \(socket) within 5 s")
    }
}
