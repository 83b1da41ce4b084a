import Foundation
import Glibc

/// An exclusive flock(2) on a file of this machine, held while a local testbed is brought up or
/// down (its hosts, and so their leases, do not exist yet while `up` makes them). Released when the
/// process exits, however it exits.
public final class LocalLock: @unchecked Sendable {
    public struct Busy: Error, CustomStringConvertible {
        public let path: String
        /// What the holder wrote into the lock file (its pid and what it does).
        public let holder: String

        public var description: String {
            "testbed busy: \(holder.isEmpty ? "another wgbench" : holder) holds \(path); wait for it to finish"
        }
    }

    private let fd: Int32

    /// Takes the lock at `path` or throws `Busy` at once; writes `what` (with our pid) into the file.
    public init(path: String, what: String) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw LocalWriteError(operation: "open the lock", path: path, code: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            var buffer = [UInt8](repeating: 0, count: 200)
            let count = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            guard code == EWOULDBLOCK else { throw LocalWriteError(operation: "lock", path: path, code: code) }
            throw Busy(path: path, holder: String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let note = "process \(getpid()) (\(what))\n"
        _ = ftruncate(fd, 0)
        _ = note.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
