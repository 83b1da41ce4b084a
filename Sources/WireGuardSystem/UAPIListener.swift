import Foundation
import Glibc

/// The UAPI socket /var/run/wireguard/<ifname>.sock: accepts `wg`'s connections on a thread of
/// its own and answers each request with `handler`. socket(2), bind(2), listen(2), accept(2).
public final class UAPIListener: @unchecked Sendable {
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
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
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
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            var request = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            // A request ends with an empty line.
            while !(request.count >= 2 && request.suffix(2) == [10, 10]) {
                let count = read(client, &buffer, buffer.count)
                if count <= 0 { break }
                request += buffer.prefix(count)
            }
            if !request.isEmpty {
                let response = Array(handler(String(decoding: request, as: UTF8.self)).utf8)
                _ = response.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            }
            close(client)
        }
    }
}
