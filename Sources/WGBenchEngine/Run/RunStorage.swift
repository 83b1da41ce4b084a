import Foundation
import Glibc
import WGBenchCore

/// Where a `ResultStore` keeps a run's files, by path relative to the run directory: on disk
/// (`DiskStorage`, what `wgbench run` uses) or in this process only (`MemoryStorage`, for
/// `wgbench plan`, which promises to write nothing). The store's logic (what goes where, what a
/// missing or unreadable file means) is the same over both.
protocol RunStorage: AnyObject, Sendable {
    /// The file's absolute name, for messages and for the raw files tools write beside it.
    func path(_ relative: String) -> String
    /// Replaces the file as a whole (atomically on disk).
    func write(_ data: Data, to relative: String) throws(LocalWriteError)
    /// The file's bytes; nil when there is no such file. Any other failure throws.
    func read(_ relative: String) throws -> Data?
    /// The file's size, if it is there.
    func size(_ relative: String) -> Int?
    /// A file or directory of that name is there.
    func exists(_ relative: String) -> Bool
    /// The names in a directory (empty if there is none).
    func contents(of relative: String) -> [String]
    /// Removes a file or directory if it is there.
    func remove(_ relative: String)
    /// Appends bytes to a file (made if missing). Called under the store's lock.
    func append(_ data: Data, to relative: String) throws(LocalWriteError)
}

/// A run directory on disk. Writes go through `LocalFile`: atomic, and never through a link.
final class DiskStorage: RunStorage, @unchecked Sendable {
    let directory: URL
    /// Open command logs, by relative path (under the store's lock).
    private var appendFiles: [String: Int32] = [:]

    init(directory: URL) { self.directory = directory }

    deinit {
        for fd in appendFiles.values { close(fd) }
    }

    func path(_ relative: String) -> String { directory.appendingPathComponent(relative).path }

    func write(_ data: Data, to relative: String) throws(LocalWriteError) {
        try LocalFile.writeAtomically(data, to: path(relative), sync: true, within: directory.path)
    }

    func read(_ relative: String) throws -> Data? {
        // Not there: no such file, or a component of the path is not a directory.
        var info = stat()
        if lstat(path(relative), &info) != 0 && (errno == ENOENT || errno == ENOTDIR) { return nil }
        return try Data(contentsOf: URL(fileURLWithPath: path(relative)))
    }

    func size(_ relative: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path(relative)))?[.size] as? Int
    }

    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }

    func contents(of relative: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path(relative))) ?? []
    }

    func remove(_ relative: String) { try? FileManager.default.removeItem(atPath: path(relative)) }

    func append(_ data: Data, to relative: String) throws(LocalWriteError) {
        let path = path(relative)
        if appendFiles[relative] == nil {
            try LocalFile.createDirectories((path as NSString).deletingLastPathComponent, within: directory.path)
            // A command log planted as a link (commands/gw1.log -> /etc/passwd) is not appended to.
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw LocalWriteError(operation: "append to", path: path, code: errno) }
            appendFiles[relative] = fd
        }
        try LocalFile.append(data, fd: appendFiles[relative]!, path: path)
    }
}

/// A run directory that exists in this process only; `directory` names it in messages.
final class MemoryStorage: RunStorage, @unchecked Sendable {
    let directory: URL
    private let lock = NSLock()
    private var files: [String: Data] = [:]

    init(name: String) { directory = URL(fileURLWithPath: "/nonexistent/\(name)") }

    func path(_ relative: String) -> String { directory.appendingPathComponent(relative).path }

    private static func normalized(_ relative: String) -> String { relative.split(separator: "/").joined(separator: "/") }

    private func locked<T>(_ body: (inout [String: Data]) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&files)
    }

    func write(_ data: Data, to relative: String) throws(LocalWriteError) {
        locked { $0[Self.normalized(relative)] = data }
    }

    func read(_ relative: String) throws -> Data? { locked { $0[Self.normalized(relative)] } }

    func size(_ relative: String) -> Int? { try? read(relative)?.count }

    func exists(_ relative: String) -> Bool {
        let path = Self.normalized(relative)
        return locked { $0.keys.contains { $0 == path || $0.hasPrefix(path + "/") } }
    }

    func contents(of relative: String) -> [String] {
        let prefix = Self.normalized(relative) + "/"
        let names = locked { $0.keys.filter { $0.hasPrefix(prefix) } }.map { String($0.dropFirst(prefix.count).prefix { $0 != "/" }) }
        return Array(Set(names)).sorted()
    }

    func remove(_ relative: String) {
        let path = Self.normalized(relative)
        locked { $0 = $0.filter { $0.key != path && !$0.key.hasPrefix(path + "/") } }
    }

    func append(_ data: Data, to relative: String) throws(LocalWriteError) {
        locked { $0[Self.normalized(relative), default: Data()].append(data) }
    }
}
