import Foundation
import Glibc
import WireGuard
import WireGuardSystem

// wireguard-swift [-f|--foreground] [--engine inline] <ifname>: a userspace WireGuard interface
// configured with `wg` over /var/run/wireguard/<ifname>.sock, like wireguard-go. Without -f it
// starts itself in the background (a new session) and returns once the interface is up.

/// Set by SIGTERM/SIGINT; the loop checks it at least every 200 ms.
nonisolated(unsafe) var daemonStopping: Int32 = 0

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("wireguard-swift: \(message)\n".utf8))
    exit(1)
}

@main
struct WireGuardSwift {
    static func main() {
        let version = "wireguard-swift 0.2 (run-to-completion loop and timers; no parallel engine or cookies yet)"
        var arguments = Array(CommandLine.arguments.dropFirst())

        if arguments == ["--version"] || arguments == ["-v"] {
            print(version)
            exit(0)
        }
        var foreground = false
        var engine = "inline"
        var interface: String?
        while let argument = arguments.first {
            arguments.removeFirst()
            switch argument {
            case "-f", "--foreground": foreground = true
            case "--engine":
                guard let value = arguments.first else { fail("--engine needs inline or parallel") }
                engine = value
                arguments.removeFirst()
            default:
                guard interface == nil, !argument.hasPrefix("-") else { fail("usage: wireguard-swift [-f] [--engine inline] <ifname>") }
                interface = argument
            }
        }
        guard let interface, (1...15).contains(interface.utf8.count) else { fail("usage: wireguard-swift [-f] [--engine inline] <ifname>") }
        guard engine == "inline" else { fail("the \(engine) engine is not implemented yet; use --engine inline") }

        if !foreground {
            // Start again in the foreground, in a new session with no terminal, and wait for the socket.
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            posix_spawnattr_setflags(&attributes, 0x80)  // POSIX_SPAWN_SETSID, a glibc macro Swift does not import
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            for descriptor: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_RDWR, 0) }
            let words = [CommandLine.arguments[0], "-f", "--engine", engine, interface]
            let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
            var pid: pid_t = 0
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
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

        signal(SIGTERM) { _ in daemonStopping = 1 }
        signal(SIGINT) { _ in daemonStopping = 1 }
        signal(SIGPIPE, SIG_IGN)

        let tun: TunDevice
        do { tun = try TunDevice(name: interface) } catch { fail("\(error)") }
        let device = Device()
        let listener: UAPIListener
        do { listener = try UAPIListener(interface: interface) { device.handleUAPI($0) } } catch { fail("\(error)") }
        let start = Date()
        let now = { Date().timeIntervalSince(start) }

        var udp: UDPSocket?
        var boundPort: UInt16 = 0
        var lastTick = 0.0
        var packet = [UInt8](repeating: 0, count: 65536)
        var datagram = [UInt8](repeating: 0, count: 65536)

        func deliver(_ output: DeviceOutput) {
            for (payload, endpoint) in output.datagrams { udp?.send(payload, to: endpoint) }
            for ip in output.packets { tun.write(ip) }
        }

        // The run-to-completion loop: read, process and send on this one thread.
        while daemonStopping == 0 {
            let port = device.listenPort
            if port != boundPort {
                udp = nil
                udp = try? UDPSocket(port: port)
                boundPort = udp == nil ? 0 : port
            }
            var descriptors = [pollfd(fd: tun.fd, events: Int16(POLLIN), revents: 0)]
            if let udp { descriptors.append(pollfd(fd: udp.fd, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&descriptors, nfds_t(descriptors.count), 200)
            // Timers, at most ten times a second whatever the packet rate.
            if now() - lastTick >= 0.1 {
                lastTick = now()
                deliver(device.tick(now: lastTick))
            }
            if ready <= 0 { continue }
            if descriptors[0].revents & Int16(POLLIN) != 0 {
                guard let count = tun.read(into: &packet) else { break }  // the interface was deleted: exit, as wireguard-go does
                deliver(device.outbound(Array(packet.prefix(count)), now: now()))
            } else if descriptors[0].revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 {
                break
            }
            if descriptors.count > 1, descriptors[1].revents & Int16(POLLIN) != 0, let (count, source) = udp?.receive(into: &datagram) {
                deliver(device.inbound(Array(datagram.prefix(count)), from: source, now: now()))
            }
        }
        unlink(listener.path)
        exit(0)
    }
}
