import Foundation
import Glibc

/// known_hosts lines in OpenSSH's format, for `accept-new`.
///
/// The four hosts of a testbed connect in parallel, so four pins may be written at once, by threads
/// of this process or by another controller: each line is appended with O_APPEND under an exclusive
/// `flock` (an existing file is never created over, which truncated it), in one write, after a
/// newline if the file's last line lacks one (a hand-edited file), so that no pin is lost and no
/// two lines run together.
enum KnownHostsLine {
    /// `host keytype base64` (or `[host]:port ...` off port 22); the key type is read from the blob itself.
    static func format(host: String, port: UInt16, keyBlob: [UInt8]) -> String? {
        guard let type = keyType(keyBlob) else { return nil }
        let name = port == 22 ? host : "[\(host)]:\(port)"
        return "\(name) \(type) \(Data(keyBlob).base64EncodedString())\n"
    }

    /// The key type named at the start of a key blob (`ssh-ed25519`).
    static func keyType(_ keyBlob: [UInt8]) -> String? {
        guard keyBlob.count > 4 else { return nil }
        let length = Int(keyBlob[0]) << 24 | Int(keyBlob[1]) << 16 | Int(keyBlob[2]) << 8 | Int(keyBlob[3])
        guard length > 0, 4 + length <= keyBlob.count else { return nil }
        return String(decoding: keyBlob[4..<4 + length], as: UTF8.self)
    }

    struct AppendError: Error, CustomStringConvertible {
        let operation: String
        let code: Int32
        var description: String { "\(operation): \(String(cString: strerror(code))) (errno \(code))" }
    }

    static func append(_ line: String, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        // O_CREAT without O_TRUNC: whoever creates the file first, nobody empties it.
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AppendError(operation: "open", code: errno) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw AppendError(operation: "flock", code: errno) }
        }
        var text = line.hasSuffix("\n") ? line : line + "\n"
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw AppendError(operation: "fstat", code: errno) }
        if info.st_size > 0 {
            // The last byte, read through a descriptor of its own (this one is write-only).
            let reader = open(path, O_RDONLY | O_CLOEXEC)
            guard reader >= 0 else { throw AppendError(operation: "open for reading", code: errno) }
            defer { close(reader) }
            var last: UInt8 = 0
            guard pread(reader, &last, 1, info.st_size - 1) == 1 else { throw AppendError(operation: "read", code: errno) }
            if last != UInt8(ascii: "\n") { text = "\n" + text }
        }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw AppendError(operation: "write", code: count < 0 ? errno : EIO) }
            written += count
        }
    }
}
