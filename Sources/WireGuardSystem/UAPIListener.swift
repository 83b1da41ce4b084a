import Foundation
import Glibc

/// The UAPI socket /var/run/wireguard/<ifname>.sock: accepts `wg`'s connections on a thread of
/// its own and answers each request with `handler`, each client on a thread of its own so an idle
/// one blocks no other; a client gets `readTimeout` to finish its request and `maximumRequest`
/// bytes at most. The socket is made under umask 077: only root may configure the tunnel.
/// socket(2), bind(2), listen(2), accept(2), setsockopt(SO_RCVTIMEO).
public final class UAPIListener: @unchecked Sendable {
    /// A request larger than this (wg's for thousands of allowed IPs is far smaller) is refused.
    public static let maximumRequest = 1 << 20
    /// Seconds a client may take to send its request.
    public static let readTimeout = 5
    public let path: String
    private let fd: Int32
    private let handler: @Sendable (String) -> String
    /// The socket file's inode, so that only our own file is removed.
    private var inode: ino_t = 0

    public static func path(for interface: String) -> String { "/var/run/wireguard/\(interface).sock" }

    public init(interface: String, handler: @escaping @Sendable (String) -> String) throws {
        let path = Self.path(for: interface)
        self.path = path
        self.handler = handler
        try? FileManager.default.createDirectory(atPath: "/var/run/wireguard", withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o755])
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket(AF_UNIX)", code: errno) }
        self.fd = fd
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
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
                return
            }
            var timeout = timeval(tv_sec: Self.readTimeout, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            Thread { [self] in self.answer(client) }.start()
        }
    }

    /// Reads one request (it ends with an empty line), answers it and closes. A client that sends
    /// too much, too slowly or nothing is closed without an answer.
    private func answer(_ client: Int32) {
        defer { close(client) }
        var request = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !(request.count >= 2 && request.suffix(2) == [10, 10]) {
            let count = retryingEINTR { read(client, &buffer, buffer.count) }
            if count <= 0 { return }
            request += buffer.prefix(count)
            if request.count > Self.maximumRequest { return }
        }
        let response = Array(handler(String(decoding: request, as: UTF8.self)).utf8)
        var sent = 0
        while sent < response.count {
            // MSG_NOSIGNAL: a client gone before its answer must not raise SIGPIPE in the daemon.
            let count = retryingEINTR { response.withUnsafeBytes { send(client, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) } }
            if count <= 0 { return }
            sent += count
        }
    }
}
