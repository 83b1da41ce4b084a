import Foundation
import Glibc
import WireGuardSystem
import XCTest

/// The daemon's UAPI socket under clients that misbehave: one that says nothing blocks no other,
/// an endless request is cut off, one that trickles is cut at its deadline, clients beyond the cap
/// are refused at once, and the socket is root's alone from the moment it exists.
final class UAPIListenerTests: XCTestCase {
    /// Connects to the socket; sends `request` (if any); returns what came back before the close,
    /// or nil if nothing came within `seconds`.
    static func exchange(_ path: String, _ request: [UInt8]?, seconds: Int = 3) throws -> [UInt8]? {
        let fd = connected(path)
        defer { close(fd) }
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

    /// A connected client's socket (closed by the caller).
    static func connected(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        XCTAssertEqual(rc, 0, "connect \(path): errno \(errno)")
        return fd
    }

    /// Whether the listener has closed `fd`'s connection: readable, and the read finds the end.
    static func closedByListener(_ fd: Int32, waiting milliseconds: Int32 = 0) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, milliseconds) == 1 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_DONTWAIT)) == 0
    }

    static func threads() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0 }

    /// Issue #22, item 4: /var/run/wireguard is shared by every namespace, and a second daemon of
    /// the same interface name (another testbed's) removed the first's socket and took it over.
    /// A socket that answers is now refused, naming it; the first daemon keeps it and answers on.
    func testASocketThatAnswersIsNotTakenOver() throws {
        try XCTSkipUnless(geteuid() == 0, "the UAPI socket lives in /var/run/wireguard (root)")
        let interface = "wgbdup\(getpid() % 100000)"
        let first = try UAPIListener(interface: interface) { _ in "first\nerrno=0\n\n" }
        defer { first.removeSocket() }
        XCTAssertThrowsError(try UAPIListener(interface: interface) { _ in "second\nerrno=0\n\n" }) { error in
            XCTAssertEqual(error as? UAPIListener.SocketInUse, UAPIListener.SocketInUse(path: first.path))
            XCTAssertTrue("\(error)".contains("\(first.path) is in use"), "\(error)")
        }
        XCTAssertEqual(try Self.exchange(first.path, Array("get=1\n\n".utf8)).map { String(decoding: $0, as: UTF8.self) }, "first\nerrno=0\n\n")
    }

    /// A socket file nobody listens on (a daemon killed with -9) is replaced.
    func testAStaleSocketIsReplaced() throws {
        try XCTSkipUnless(geteuid() == 0, "the UAPI socket lives in /var/run/wireguard (root)")
        let interface = "wgbstale\(getpid() % 100000)"
        let path = UAPIListener.path(for: interface)
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        close(stale)  // the file stays, nobody listens
        let listener = try UAPIListener(interface: interface) { _ in "new\nerrno=0\n\n" }
        defer { listener.removeSocket() }
        XCTAssertEqual(try Self.exchange(path, Array("get=1\n\n".utf8)).map { String(decoding: $0, as: UTF8.self) }, "new\nerrno=0\n\n")
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

    /// One deadline for the whole request: a byte every 0.2 s (each read well within any per-read
    /// timeout) is cut when the request's second is up, not served for ever.
    func testATricklingClientIsCutAtItsDeadline() throws {
        try XCTSkipUnless(geteuid() == 0, "the UAPI socket lives in /var/run/wireguard (root)")
        let listener = try UAPIListener(interface: "wgbuapt\(getpid() % 100000)", timeout: 1) { _ in "errno=0\n\n" }
        defer { listener.removeSocket() }
        let fd = Self.connected(listener.path)
        defer { close(fd) }
        let start = Date()
        var closedAfter: Double?
        while Date().timeIntervalSince(start) < 6 {
            _ = Glibc.send(fd, "a", 1, Int32(MSG_NOSIGNAL))
            if Self.closedByListener(fd, waiting: 200) {
                closedAfter = Date().timeIntervalSince(start)
                break
            }
        }
        let after = try XCTUnwrap(closedAfter, "a client sending a byte every 0.2 s was still connected after 6 s")
        XCTAssertGreaterThan(after, 0.8, "cut before its deadline")
        XCTAssertLessThan(after, 3, "cut long after its 1 s deadline")
        XCTAssertEqual(try Self.exchange(listener.path, Array("get=1\n\n".utf8)), Array("errno=0\n\n".utf8))
    }

    /// 40 idle clients hold at most `maximumClients` threads; those beyond are closed at once,
    /// and once the idle ones go, `wg` is served again.
    func testClientsBeyondTheCapAreClosedAtOnce() throws {
        try XCTSkipUnless(geteuid() == 0, "the UAPI socket lives in /var/run/wireguard (root)")
        let listener = try UAPIListener(interface: "wgbuapc\(getpid() % 100000)", timeout: 30) { _ in "errno=0\n\n" }
        defer { listener.removeSocket() }
        usleep(100_000)
        let before = Self.threads()
        let idle = (0..<40).map { _ in Self.connected(listener.path) }
        usleep(500_000)
        XCTAssertLessThanOrEqual(Self.threads() - before, UAPIListener.maximumClients + 1, "threads for 40 idle clients")
        let refused = idle.filter { Self.closedByListener($0, waiting: 50) }.count
        XCTAssertEqual(refused, 40 - UAPIListener.maximumClients)
        // Closed unanswered at once (a reset, as the request was left unread): not after the 3 s wait for an answer.
        let start = Date()
        XCTAssertEqual(try Self.exchange(listener.path, Array("get=1\n\n".utf8)) ?? [], [], "served beyond the cap")
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "held, not closed at once")
        for fd in idle { close(fd) }
        usleep(300_000)
        XCTAssertEqual(try Self.exchange(listener.path, Array("get=1\n\n".utf8)), Array("errno=0\n\n".utf8))
    }
}
