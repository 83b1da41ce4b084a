import Foundation
import Glibc
import WireGuardSystem
import XCTest

/// The daemon's UAPI socket under clients that misbehave: one that says nothing blocks no other,
/// an endless request is cut off, and the socket is root's alone from the moment it exists.
final class UAPIListenerTests: XCTestCase {
    /// Connects to the socket; sends `request` (if any); returns what came back before the close,
    /// or nil if nothing came within `seconds`.
    static func exchange(_ path: String, _ request: [UInt8]?, seconds: Int = 3) throws -> [UInt8]? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        XCTAssertEqual(rc, 0, "connect \(path): errno \(errno)")
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if let request {
            var sent = 0
            while sent < request.count {
                let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }  // the listener may close on us mid-request
                sent += n
            }
        }
        var out = [UInt8](), buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 { return out.isEmpty ? nil : out }
            if n == 0 { return out }
            out += buffer.prefix(n)
        }
    }

    func testIdleAndOversizedClientsDoNotStopTheListener() throws {
        try XCTSkipUnless(geteuid() == 0, "the UAPI socket lives in /var/run/wireguard (root)")
        let interface = "wgbuapi\(getpid() % 100000)"
        let listener = try UAPIListener(interface: interface) { _ in "errno=0\n\n" }
        defer { listener.removeSocket() }
        var status = stat()
        XCTAssertEqual(stat(listener.path, &status), 0)
        XCTAssertEqual(status.st_mode & 0o777, 0o600)

        // A client that connects and says nothing: the next one is still answered at once.
        let path = listener.path
        let idle = Thread { _ = try? Self.exchange(path, nil, seconds: 8) }
        idle.start()
        usleep(200_000)
        let start = Date()
        XCTAssertEqual(try Self.exchange(listener.path, Array("get=1\n\n".utf8)), Array("errno=0\n\n".utf8))
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "an idle client held the listener up")

        // An endless request is cut off without an answer, and the listener goes on.
        let endless = [UInt8](repeating: UInt8(ascii: "a"), count: UAPIListener.maximumRequest + 100_000)
        XCTAssertEqual(try Self.exchange(listener.path, endless, seconds: 10), [])
        XCTAssertEqual(try Self.exchange(listener.path, Array("get=1\n\n".utf8)), Array("errno=0\n\n".utf8))
    }
}
