import CShims
import Foundation
import Glibc
import WireGuard
import WireGuardSystem

// wireguard-swift [-f] [--engine inline|parallel] [knobs] <ifname>: a userspace WireGuard
// interface configured with `wg` over /var/run/wireguard/<ifname>.sock, like wireguard-go.
// LOG_LEVEL=verbose logs handshakes, cookies and invalid messages to standard output.
// Without -f it starts itself again in the background (a new session) and returns once the
// interface is up.

/// In the environment of the background process daemonize starts.
let daemonMarker = "WG_SWIFT_PROCESS_FOREGROUND"

/// Set by SIGTERM/SIGINT; every loop checks it at least every 200 ms.
nonisolated(unsafe) var daemonStopping: Int32 = 0

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("wireguard-swift: \(message)\n".utf8))
    exit(1)
}

/// Seconds on the monotonic clock.
func monotonicNow() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

@main
struct WireGuardSwift {
    static let version = "wireguard-swift 0.3 (inline and parallel engines, TUN and UDP offloads)"

    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments == ["--version"] || arguments == ["-v"] {
            print(version)
            exit(0)
        }
        let options: Options
        do { options = try Options(arguments) } catch { fail(error.description) }
        if !options.foreground { daemonize(arguments, interface: options.interface) }
        if ProcessInfo.processInfo.environment[daemonMarker] != nil {
            // Started by daemonize: let go of whatever the starter had open (wg-quick's pipes, say),
            // or whoever waits for the starter's output would wait for ours.
            wgb_close_inherited()
            unsetenv(daemonMarker)
        }

        signal(SIGTERM) { _ in daemonStopping = 1 }
        signal(SIGINT) { _ in daemonStopping = 1 }
        signal(SIGPIPE, SIG_IGN)

        let tun: TunDevice
        do { tun = try TunDevice(name: options.interface, offload: options.offload) } catch { fail("\(error)") }
        let device = Device()
        if ["verbose", "debug"].contains(ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "") {
            // As wireguard-go logs at LOG_LEVEL=verbose: to standard output, one line per event.
            let name = options.interface
            device.log = { message in
                let formatter = DateFormatter()
                formatter.dateFormat = "yyyy/MM/dd HH:mm:ss"
                FileHandle.standardOutput.write(Data("DEBUG: (\(name)) \(formatter.string(from: Date())) \(message)\n".utf8))
            }
        }
        let udp = SocketSlot(offload: options.offload)
        let listener: UAPIListener
        do {
            // The listen port takes effect before `wg` gets its answer, as with wireguard-go: a
            // first packet right after `wg setconf` must find the socket bound.
            listener = try UAPIListener(interface: options.interface) { request in
                let response = device.handleUAPI(request)
                udp.follow(device.listenPort, bound: device.listenPortBound)
                return response
            }
        } catch { fail("\(error)") }
        let start = monotonicNow()
        let now: @Sendable () -> Double = { monotonicNow() - start }

        if options.engine == "inline" {
            if let cpu = options.cpu { PinnedThread.pinCurrent(to: [cpu]) }
            runInline(InlineEngine(device: device, tun: tun, udp: udp), tun: tun, udp: udp, device: device, now: now)
        } else {
            runParallel(ParallelEngine(device: device, tun: tun, udp: udp, options: options.parallel), tun: tun, udp: udp,
                        device: device, now: now)
        }
        listener.removeSocket()
        exit(0)
    }

    /// One thread does everything: poll both descriptors, read a batch, seal or open it, deliver it.
    static func runInline(_ engine: InlineEngine, tun: TunDevice, udp: SocketSlot, device: Device, now: () -> Double) {
        var lastTick = 0.0
        while daemonStopping == 0 {
            udp.follow(device.listenPort, bound: device.listenPortBound)
            let socket = udp.current
            var descriptors = (pollfd(fd: tun.fd, events: Int16(POLLIN), revents: 0),
                               pollfd(fd: socket?.fd ?? -1, events: Int16(POLLIN), revents: 0))
            // What the TUN device or the socket holds back of what they read is ready now: do not wait.
            let pending = tun.hasPending || socket?.hasPending == true
            var ready = withUnsafeMutableBytes(of: &descriptors) {
                poll($0.baseAddress!.assumingMemoryBound(to: pollfd.self), 2, pending ? 0 : 100)
            }
            if pending {
                if tun.hasPending { descriptors.0.revents |= Int16(POLLIN) }
                if socket?.hasPending == true { descriptors.1.revents |= Int16(POLLIN) }
                ready = max(ready, 1)
            }
            let time = now()
            if time - lastTick >= 0.1 {
                lastTick = time
                device.tick(now: time).deliver(tun: tun, udp: udp)
            }
            guard ready > 0 else { continue }
            if descriptors.0.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 { return }
            if descriptors.0.revents & Int16(POLLIN) != 0 {
                for _ in 0..<4 {  // a few batches, then the other direction gets its turn
                    let (result, full) = engine.outbound(now: time) { batch in (tun.read(into: batch), batch.count == batch.capacity) }
                    if result == .closed { return }  // the interface was deleted: exit, as wireguard-go does
                    if result == .empty || !full { break }
                }
            }
            if let socket, descriptors.1.revents & Int16(POLLIN) != 0 {
                for _ in 0..<4 {
                    let (received, full) = engine.inbound(now: time) { batch in (socket.receive(into: batch), batch.count == batch.capacity) }
                    if !received || !full { break }
                }
            }
        }
    }

    /// A reader thread per direction hands batches to the engine's workers; this thread runs the
    /// timers and follows the listen port.
    static func runParallel(_ engine: ParallelEngine, tun: TunDevice, udp: SocketSlot, device: Device, now: @escaping @Sendable () -> Double) {
        let tunClosed = Flag()
        let tunReader = PinnedThread(name: "wg-tun-read") {
            while daemonStopping == 0 {
                if !tun.hasPending {
                    var descriptor = pollfd(fd: tun.fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&descriptor, 1, 200) > 0 else { continue }
                    if descriptor.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 { tunClosed.set(); return }
                }
                let result = engine.outbound(now: now()) { tun.read(into: $0) }  // an empty batch goes back to the pool
                if result == .closed { tunClosed.set(); return }
            }
        }
        let udpReader = PinnedThread(name: "wg-udp-read") {
            while daemonStopping == 0 && !tunClosed.isSet {
                guard let socket = udp.current else { usleep(50_000); continue }
                if !socket.hasPending {
                    var descriptor = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&descriptor, 1, 200) > 0 else { continue }
                }
                engine.inbound(now: now()) { socket.receive(into: $0) }
            }
        }
        while daemonStopping == 0 && !tunClosed.isSet {
            udp.follow(device.listenPort, bound: device.listenPortBound)
            device.tick(now: now()).deliver(tun: tun, udp: udp)
            usleep(100_000)
        }
        daemonStopping = 1
        tunReader.join()
        udpReader.join()
        engine.stop()
    }

    /// Starts again in the foreground, in a new session with no terminal, and waits for the socket.
    static func daemonize(_ arguments: [String], interface: String) -> Never {
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
            if FileManager.default.fileExists(atPath: socket) { exit(0) }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { fail("the daemon exited at start-up (run with -f to see why)") }
            usleep(50_000)
        }
        fail("the daemon did not open \(socket) within 5 s")
    }
}

/// A flag one thread sets and others read.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

/// The UDP socket of the moment: `wg set listen-port` replaces it, while the engine keeps sending
/// through this one object.
final class SocketSlot: DatagramSink, @unchecked Sendable {
    private let lock = NSLock()
    private var socket: UDPSocket?
    private var port: UInt16 = 0
    private let offload: Bool

    init(offload: Bool) { self.offload = offload }

    var current: UDPSocket? {
        lock.lock()
        defer { lock.unlock() }
        return socket
    }

    /// Binds the port the configuration names, if it changed; for 0, an ephemeral port, which
    /// `bound` is told of (the device then names it).
    func follow(_ wanted: UInt16, bound: (UInt16) -> Void = { _ in }) {
        lock.lock()
        defer { lock.unlock() }
        guard wanted != port || socket == nil else { return }
        socket = nil
        socket = try? UDPSocket(port: wanted, offload: offload)
        port = socket?.port ?? 0
        if wanted == 0, let socket { bound(socket.port) }
    }

    func send(_ batch: PacketBatch) { current?.send(batch) }
    func send(_ payload: [UInt8], to endpoint: Endpoint) { current?.send(payload, to: endpoint) }
}
