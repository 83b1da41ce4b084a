import Foundation
import Glibc

/// A file the controller could not write (a full disk, a read-only or missing directory): a fault
/// of this machine, not of a host, so a run stops on it instead of retrying the repetition.
/// One line: what, where, and errno.
public struct LocalWriteError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What was being done: `write`, `create directory`, `append to`, `rename`.
    public let operation: String
    public let path: String
    public let code: Int32

    public var description: String {
        "cannot \(operation) \(path) on this machine: \(String(cString: strerror(code))) (errno \(code))"
    }
}

/// The controller's file writes, each system call wrapped once: EINTR retried, any other failure a
/// `LocalWriteError` with the path and errno. A file is written to a temporary name beside it,
/// flushed to disk and renamed over the target, so a reader finds the old file or the new one,
/// never a torn one; on any failure the temporary file is removed.
enum LocalFile {
    /// `within`: a directory below which no component may be a symbolic link (the run directory:
    /// a `points` or `commands` there that is a link would take the run's writes elsewhere).
    static func writeAtomically(_ data: Data, to path: String, sync: Bool, within: String? = nil) throws(LocalWriteError) {
        let directory = (path as NSString).deletingLastPathComponent
        try createDirectories(directory, within: within)
        let temporary = "\(directory)/.\((path as NSString).lastPathComponent).tmp-\(getpid())"
        // O_NOFOLLOW: a link planted at the temporary name is not written through; the rename
        // below replaces a link at `path` itself instead of following it.
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LocalWriteError(operation: "write", path: path, code: errno) }
        var failure: LocalWriteError?
        if let error = writeAll(fd, data) {
            failure = LocalWriteError(operation: "write", path: path, code: error)
        } else if sync, fsync(fd) != 0 {
            failure = LocalWriteError(operation: "write", path: path, code: errno)
        }
        // close(2) reports a deferred write error on some filesystems (NFS, a full tmpfs).
        if close(fd) != 0, failure == nil { failure = LocalWriteError(operation: "write", path: path, code: errno) }
        if failure == nil, rename(temporary, path) != 0 { failure = LocalWriteError(operation: "rename into", path: path, code: errno) }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }

    /// `mkdir -p`, 0755. Below `within` a component that is a symbolic link is refused (ELOOP).
    static func createDirectories(_ path: String, within: String? = nil) throws(LocalWriteError) {
        var current = path.hasPrefix("/") ? "" : "."
        let base = within.map { $0.hasPrefix("/") ? $0 : "./" + $0 }.map { $0.split(separator: "/").joined(separator: "/") }
        for component in path.split(separator: "/") {
            current += "/" + component
            let checked = base.map { current.split(separator: "/").joined(separator: "/").hasPrefix($0 + "/") } ?? false
            if mkdir(current, 0o755) != 0 {
                let code = errno
                var info = stat()
                if checked, lstat(current, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
                    throw LocalWriteError(operation: "create directory", path: current, code: ELOOP)
                }
                guard code == EEXIST, stat(current, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                    throw LocalWriteError(operation: "create directory", path: current, code: code == EEXIST ? ENOTDIR : code)
                }
            }
        }
    }

    /// Appends `data` to an open file (O_APPEND) whole or not at all: a write the disk cut short is
    /// truncated away again, so a log never ends in half a line.
    static func append(_ data: Data, fd: Int32, path: String) throws(LocalWriteError) {
        let before = lseek(fd, 0, SEEK_END)
        guard let error = writeAll(fd, data) else { return }
        if before >= 0 { _ = ftruncate(fd, before) }
        throw LocalWriteError(operation: "append to", path: path, code: error)
    }

    /// write(2) until every byte is written; the errno that stopped it, or nil.
    private static func writeAll(_ fd: Int32, _ data: Data) -> Int32? {
        data.withUnsafeBytes { raw -> Int32? in
            guard var pointer = raw.baseAddress else { return nil }
            var left = raw.count
            while left > 0 {
                let written = write(fd, pointer, left)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if written == 0 { return EIO }
                pointer += written
                left -= written
            }
            return nil
        }
    }
}
