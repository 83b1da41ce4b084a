import Foundation
import Glibc

/// A report file or directory that is not what it should be: a symbolic link, or not a directory.
public struct ReportWriteError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    public let reason: String

    public var description: String { "refusing to write the report at \(path): \(reason)" }
}

/// How the report and the history write their files. A result directory is data that may come
/// from elsewhere (copied from a lab, unpacked from an archive): a `report` or `plots` inside it
/// that is a symbolic link would take every write to where it points, so a directory written to
/// (and every file written) must be a real one, never a link. Files are written to a temporary
/// name opened with O_NOFOLLOW and renamed into place, which replaces a link there instead of
/// following it, and a reader never sees half a file.
enum ReportFiles {
    /// Makes `url` (and what is missing above it) a directory; refuses it if it is a link.
    static func directory(_ url: URL) throws {
        var info = stat()
        if lstat(url.path, &info) == 0 {
            guard (info.st_mode & S_IFMT) != S_IFLNK else { throw ReportWriteError(path: url.path, reason: "it is a symbolic link") }
            guard (info.st_mode & S_IFMT) == S_IFDIR else { throw ReportWriteError(path: url.path, reason: "it is not a directory") }
            return
        }
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Writes `data` as the file `name` of `directory`, which `directory(_:)` has checked.
    static func write(_ data: Data, to directory: URL, name: String) throws {
        try Self.directory(directory)
        let path = directory.appendingPathComponent(name).path
        let temporary = directory.appendingPathComponent(".\(name).tmp-\(getpid())").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ReportWriteError(path: temporary, reason: String(cString: strerror(errno))) }
        let written = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let count = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { return false }
                offset += count
            }
            return true
        }
        let error = errno
        if close(fd) != 0 || !written {
            unlink(temporary)
            throw ReportWriteError(path: path, reason: String(cString: strerror(written ? errno : error)))
        }
        guard rename(temporary, path) == 0 else {
            let error = errno
            unlink(temporary)
            throw ReportWriteError(path: path, reason: String(cString: strerror(error)))
        }
    }
}
