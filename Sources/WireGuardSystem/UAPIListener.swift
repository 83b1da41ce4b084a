import Foundation
import Glibc

/// The UAPI socket /var/run/wireguard/<ifname>.sock: accepts `wg`'s connections on a thread of
/// its own and answers each request with `handler`, each client on a thread of its own so an idle
/// one blocks no other. Bounded on every side: a client has `requestTimeout` seconds for its
/// whole exchange (one deadline, not one per read: a byte every few seconds does not keep a
/// thread), `maximumRequest` bytes at most, and at most `maximumClients` are served at once (one
/// more is closed at once, unanswered). The socket is made under umask 077: only root may
/// configure the tunnel. socket(2), bind(2), listen(2), accept(2), poll(2).
public final class UAPIListener: @unchecked Sendable {
    /// A request larger than this (wg's for thousands of allowed IPs is far smaller) is refused.
    public static let maximumRequest = 1 << 20
    /// Seconds a client may take to send its request and read the answer.
    public static let requestTimeout = 5.0
    /// Clients served at once: each holds a thread while it is served.
    public static let maximumClients = 16
    public let path: String
    private let fd: Int32
    private let handler: @Sendable (String) -> String
    private let timeout: Double
    private let clientLimit: Int
    /// Clients being served now (under `clientsLock`).
    private var clients = 0
    private let clientsLock = NSLock()
    /// The socket file's inode, so that only our own file is removed.
    private var inode: ino_t = 0

    public static func path(for interface: String) -> String { "/var/run/wireguard/\(interface).sock" }

    /// Another daemon listens on the socket this one would make.
    public struct SocketInUse: Error, CustomStringConvertible, Equatable {
        public let path: String
        public init(path: String) { self.path = path }
        public var description: String {
            "\(path) is in use: another daemon answers on it (an interface of this name in another network namespace, or another testbed's); "
                + "refusing to take it over"
        }
    }

    /// Whether something accepts a connection on the Unix socket at `path`: connect(2).
    public static func answers(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = Self.unixAddress(path)
        while true {
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if rc == 0 { return true }
            if errno != EINTR { return false }
        }
    }

    /// `timeout` and `maximumClients`: tests lower them.
    public init(interface: String, timeout: Double = requestTimeout, maximumClients: Int = maximumClients,
                handler: @escaping @Sendable (String) -> String) throws {
        let path = Self.path(for: interface)
        self.path = path
        self.handler = handler
        self.timeout = timeout
        self.clientLimit = maximumClients
        try? FileManager.default.createDirectory(atPath: "/var/run/wireguard", withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o755])
        // /var/run/wireguard is one directory for every network namespace of the machine: a socket
        // that answers is another daemon's (an interface of this name in another namespace, another
        // testbed's), and removing it would take that tunnel's configuration over. As wireguard-go
        // does, such a socket is refused; only a stale one (nobody listening) is replaced.
        if Self.answers(path) { throw SocketInUse(path: path) }
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket(AF_UNIX)", code: errno) }
        self.fd = fd
        var address = Self.unixAddress(path)
        // Created 0600 from the start: chmod after bind would leave a moment open to others.
        let previousMask = umask(0o077)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(previousMask)
        guard rc == 0, listen(fd, 8) == 0 else { throw SystemError(call: "bind \(path)", code: errno) }
        chmod(path, 0o600)
        var status = stat()
        inode = stat(path, &status) == 0 ? status.st_ino : 0
        Thread { [self] in self.serve() }.start()
    }

    deinit {
        close(fd)
        removeSocket()
    }

    /// Removes the socket file, unless another daemon has made a new one of that name since.
    public func removeSocket() {
        var status = stat()
        if stat(path, &status) == 0, status.st_ino == inode { unlink(path) }
    }

    private func serve() {
        while true {
            let client = retryingEINTR { accept(fd, nil, nil) }
            if client < 0 {
                if errno == ECONNABORTED { continue }
                if errno == EMFILE || errno == ENFILE {  // out of descriptors for now: wait, do not spin
                    usleep(100_000)
                    continue
                }
                return
            }
            let admitted = clientsLock.withLock {
                guard clients < clientLimit else { return false }
                clients += 1
                return true
            }
            guard admitted else {
                close(client)  // refused at once: holding it would take the thread the cap saves
                continue
            }
            Thread { [self] in
                answer(client, deadline: monotonicNow() + timeout)
                clientsLock.withLock { clients -= 1 }
            }.start()
        }
    }

    /// Reads one request (it ends with an empty line), answers it and closes. A client that sends
    /// too much, or does not finish by `deadline` (reading its answer included), is closed without one.
    private func answer(_ client: Int32, deadline: Double) {
        defer { close(client) }
        var request = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !(request.count >= 2 && request.suffix(2) == [10, 10]) {
            guard Self.wait(client, for: Int16(POLLIN), until: deadline) else { return }
            let count = retryingEINTR { read(client, &buffer, buffer.count) }
            if count <= 0 { return }
            request += buffer.prefix(count)
            if request.count > Self.maximumRequest { return }
        }
        let response = Array(handler(String(decoding: request, as: UTF8.self)).utf8)
        var sent = 0
        while sent < response.count {
            guard Self.wait(client, for: Int16(POLLOUT), until: deadline) else { return }
            // MSG_NOSIGNAL: a client gone before its answer must not raise SIGPIPE in the daemon.
            // MSG_DONTWAIT: poll said there is room, but a send must never outlast the deadline.
            let count = retryingEINTR {
                response.withUnsafeBytes { send(client, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            }
            if count < 0, errno == EAGAIN { continue }
            if count <= 0 { return }
            sent += count
        }
    }

    /// Waits until `fd` is ready for `events` (poll(2)); false once `deadline` (monotonic seconds)
    /// has passed first, or on an error or hang-up without the event.
    private static func wait(_ fd: Int32, for events: Int16, until deadline: Double) -> Bool {
        while true {
            let left = deadline - monotonicNow()
            guard left > 0 else { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(min(left * 1000, 60_000).rounded(.up)))
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 { continue }  // the deadline is checked again at the top
            return ready > 0 && entry.revents & events != 0
        }
    }

    /// The socket address of `path` (cut to sun_path's size, NUL-terminated).
    private static func unixAddress(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        return address
    }
}
