import Foundation
import Glibc
import WGBenchCore

/// A run directory. Every file is written atomically (temporary file, flushed, then renamed), so
/// an interrupted run never leaves a half-written result, and `--resume` can trust what it finds.
/// A write that fails is a `LocalWriteError` (path and errno) and leaves no temporary file; a
/// command log that cannot grow records its first failure in `fault`, which the runner checks.
///
/// ```
/// <dir>/run.json                                 RunRecord: resolved spec, seed, order
/// <dir>/metadata/<host>.json                     raw host metadata, once per run
/// <dir>/commands/<host>.log                      every command run on the host
/// <dir>/points/<series>/<point>/rep-<k>/result.json   RepetitionResult
///                                       .../client-<i>.json, server-<i>.json, cpu-<host>.txt   raw
/// <dir>/summary.json, summary.csv, repetitions.csv
/// ```
///
/// `inMemory()` is a store that never touches the disk: `wgbench plan` promises to write nothing.
public final class ResultStore: @unchecked Sendable {
    public let directory: URL
    /// The files of an in-memory store, by relative path; nil for a store on disk.
    private var memory: [String: Data]?
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
    private let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    public init(directory: URL) throws(LocalWriteError) {
        self.directory = directory
        try LocalFile.createDirectories(directory.path)
    }

    private init(memoryNamed name: String) {
        directory = URL(fileURLWithPath: "/nonexistent/\(name)")
        memory = [:]
    }

    /// A store whose files live in this process only (nothing is made on disk).
    public static func inMemory(name: String = "in-memory") -> ResultStore { ResultStore(memoryNamed: name) }

    public func url(_ relative: String) -> URL { directory.appendingPathComponent(relative) }

    public func write(_ data: Data, to relative: String) throws(LocalWriteError) {
        if memory != nil { return withLock { memory![Self.normalized(relative)] = data } }
        try LocalFile.writeAtomically(data, to: url(relative).path, sync: true, within: directory.path)
    }

    public func write(_ text: String, to relative: String) throws(LocalWriteError) { try write(Data(text.utf8), to: relative) }

    public func writeJSON<T: Encodable>(_ value: T, to relative: String) throws { try write(encoder.encode(value), to: relative) }

    public func readJSON<T: Decodable>(_ type: T.Type, from relative: String) throws -> T {
        try decoder.decode(type, from: read(relative))
    }

    /// A file's bytes.
    public func read(_ relative: String) throws -> Data {
        if memory != nil {
            guard let data = withLock({ memory![Self.normalized(relative)] }) else { throw CocoaError(.fileReadNoSuchFile) }
            return data
        }
        return try Data(contentsOf: url(relative))
    }

    public func exists(_ relative: String) -> Bool {
        if memory != nil {
            let path = Self.normalized(relative)
            return withLock { memory!.keys.contains { $0 == path || $0.hasPrefix(path + "/") } }
        }
        return FileManager.default.fileExists(atPath: url(relative).path)
    }

    /// The names in a directory of the run (empty if there is none).
    public func contents(of relative: String) -> [String] {
        if memory != nil {
            let prefix = Self.normalized(relative) + "/"
            let names = withLock { memory!.keys.filter { $0.hasPrefix(prefix) } }
                .map { String($0.dropFirst(prefix.count).prefix { $0 != "/" }) }
            return Array(Set(names)).sorted()
        }
        return (try? FileManager.default.contentsOfDirectory(atPath: url(relative).path)) ?? []
    }

    /// Removes a file or directory of the run if it is there (raw files of an earlier attempt).
    public func remove(_ relative: String) {
        if memory != nil {
            let path = Self.normalized(relative)
            return withLock { memory = memory!.filter { $0.key != path && !$0.key.hasPrefix(path + "/") } }
        }
        try? FileManager.default.removeItem(at: url(relative))
    }

    private static func normalized(_ relative: String) -> String { relative.split(separator: "/").joined(separator: "/") }

    private func withLock<T>(_ body: () -> T) -> T {
        appendLock.lock()
        defer { appendLock.unlock() }
        return body()
    }

    /// Appends a line (command logs): whole lines only, never torn. Files stay open for the run.
    /// A failure is kept in `fault` (the first one) rather than thrown: logging happens inside host
    /// calls, and the runner stops the run at its next check.
    public func append(_ line: String, to relative: String) {
        appendLock.lock()
        defer { appendLock.unlock() }
        guard appendFault == nil else { return }
        if memory != nil {
            memory![Self.normalized(relative), default: Data()].append(Data((line + "\n").utf8))
            return
        }
        let path = url(relative).path
        do throws(LocalWriteError) {
            if appendFiles[relative] == nil {
                try LocalFile.createDirectories((path as NSString).deletingLastPathComponent, within: directory.path)
                // A command log planted as a link (commands/gw1.log -> /etc/passwd) is not appended to.
                let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw LocalWriteError(operation: "append to", path: path, code: errno) }
                appendFiles[relative] = fd
            }
            try LocalFile.append(Data((line + "\n").utf8), fd: appendFiles[relative]!, path: path)
        } catch {
            appendFault = error
        }
    }

    /// The first command log write that failed, if any.
    public var fault: LocalWriteError? {
        appendLock.lock()
        defer { appendLock.unlock() }
        return appendFault
    }

    /// Throws the first failed log write, so a run stops on it as on any other local write.
    public func checkFault() throws(LocalWriteError) {
        if let fault { throw fault }
    }

    private let appendLock = NSLock()
    private var appendFiles: [String: Int32] = [:]
    private var appendFault: LocalWriteError?

    deinit {
        for fd in appendFiles.values { close(fd) }
    }

    // MARK: Run records

    public func writeRecord(_ record: RunRecord) throws { try writeJSON(record, to: "run.json") }

    /// run.json as `--resume` reads it: refused unless every id and name in it is one wgbench writes.
    public func readRecord() throws -> RunRecord {
        if memory != nil {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let record = try decoder.decode(RunRecord.self, from: read("run.json"))
            try record.validate(file: "run.json")
            return record
        }
        return try Self.readRecord(in: directory)
    }

    /// run.json of the run directory `directory`, checked as `readRecord` does, without making anything.
    public static func readRecord(in directory: URL) throws -> RunRecord {
        let file = directory.appendingPathComponent("run.json")
        let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        guard size <= 64 * InputLimits.maxFileBytes else {
            throw BadInput("\(file.path) is larger than \(64 * InputLimits.maxFileBytes / 1_048_576) MiB: not a run.json wgbench wrote")
        }
        let data = try Data(contentsOf: file)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let record = try decoder.decode(RunRecord.self, from: data)
        try record.validate(file: file.path)
        return record
    }

    public func resultPath(_ key: RunKey) -> String { "\(key.directory)/result.json" }

    public func writeResult(_ result: RepetitionResult) throws { try writeJSON(result, to: resultPath(result.key)) }

    public func readResult(_ key: RunKey) -> RepetitionResult? { try? readJSON(RepetitionResult.self, from: resultPath(key)) }

    /// Results already recorded, in the run's order.
    public func results(for order: [RunKey]) -> [RepetitionResult] {
        order.compactMap(readResult)
    }
}
