import Foundation
import Glibc
import WGBenchCore

/// A run directory. Every file is written atomically (temporary file, flushed, then renamed), so
/// an interrupted run never leaves a half-written result, and `--resume` can trust what it finds.
/// A write that fails is a `LocalWriteError` (path and errno) and leaves no temporary file; a
/// command log that cannot grow records its first failure in `fault`, which the runner checks.
/// Where each file lies is `RunLayout`'s (the report reads the same layout). A file that is not
/// there is "not measured"; one that is there and cannot be read or decoded is an
/// `UnreadableRunFile`, never taken for a missing one.
///
/// `inMemory()` is a store that never touches the disk: `wgbench plan` promises to write nothing.
public final class ResultStore: @unchecked Sendable {
    public let directory: URL
    private let storage: RunStorage
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    public init(directory: URL) throws(LocalWriteError) {
        self.directory = directory
        try LocalFile.createDirectories(directory.path)
        storage = DiskStorage(directory: directory)
    }

    private init(storage: MemoryStorage) {
        directory = storage.directory
        self.storage = storage
    }

    /// A store whose files live in this process only (nothing is made on disk).
    public static func inMemory(name: String = "in-memory") -> ResultStore { ResultStore(storage: MemoryStorage(name: name)) }

    public func url(_ relative: String) -> URL { directory.appendingPathComponent(relative) }

    public func write(_ data: Data, to relative: String) throws(LocalWriteError) { try storage.write(data, to: relative) }

    public func write(_ text: String, to relative: String) throws(LocalWriteError) { try write(Data(text.utf8), to: relative) }

    public func writeJSON<T: Encodable>(_ value: T, to relative: String) throws { try write(encoder.encode(value), to: relative) }

    /// A file that must be there, decoded.
    public func readJSON<T: Decodable>(_ type: T.Type, from relative: String) throws -> T {
        guard let value = try readJSONIfPresent(type, from: relative) else {
            throw UnreadableRunFile(path: storage.path(relative), reason: "there is no such file")
        }
        return value
    }

    /// A file decoded; nil when it is not there. There but unreadable or undecodable: the error names it.
    public func readJSONIfPresent<T: Decodable>(_ type: T.Type, from relative: String) throws(UnreadableRunFile) -> T? {
        do {
            guard let data = try storage.read(relative) else { return nil }
            return try Self.decoder.decode(type, from: data)
        } catch {
            throw UnreadableRunFile(path: storage.path(relative), error: error)
        }
    }

    /// A file's bytes.
    public func read(_ relative: String) throws -> Data {
        guard let data = try storage.read(relative) else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: storage.path(relative)]) }
        return data
    }

    public func exists(_ relative: String) -> Bool { storage.exists(relative) }

    /// The names in a directory of the run (empty if there is none).
    public func contents(of relative: String) -> [String] { storage.contents(of: relative) }

    /// Removes a file or directory of the run if it is there (raw files of an earlier attempt).
    public func remove(_ relative: String) { storage.remove(relative) }

    /// Appends a line (command logs): whole lines only, never torn. Files stay open for the run.
    /// A failure is kept in `fault` (the first one) rather than thrown: logging happens inside host
    /// calls, and the runner stops the run at its next check.
    public func append(_ line: String, to relative: String) {
        appendLock.lock()
        defer { appendLock.unlock() }
        guard appendFault == nil else { return }
        do throws(LocalWriteError) {
            try storage.append(Data((line + "\n").utf8), to: relative)
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
    private var appendFault: LocalWriteError?

    // MARK: Run records

    public func writeRecord(_ record: RunRecord) throws { try writeJSON(record, to: RunLayout.record) }

    /// run.json as `--resume` reads it: refused unless every id and name in it is one wgbench writes.
    public func readRecord() throws -> RunRecord { try Self.readRecord(from: storage) }

    /// run.json of the run directory `directory`, checked as `readRecord` does, without making anything.
    public static func readRecord(in directory: URL) throws -> RunRecord { try readRecord(from: DiskStorage(directory: directory)) }

    private static func readRecord(from storage: RunStorage) throws -> RunRecord {
        let path = storage.path(RunLayout.record)
        guard (storage.size(RunLayout.record) ?? 0) <= 64 * InputLimits.maxFileBytes else {
            throw BadInput("\(path) is larger than \(64 * InputLimits.maxFileBytes / 1_048_576) MiB: not a run.json wgbench wrote")
        }
        guard let data = try storage.read(RunLayout.record) else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        let record = try decoder.decode(RunRecord.self, from: data)
        try record.validate(file: path)
        return record
    }

    public func resultPath(_ key: RunKey) -> String { RunLayout.result(key) }

    public func writeResult(_ result: RepetitionResult) throws { try writeJSON(result, to: resultPath(result.key)) }

    /// A repetition's result; nil when it was not measured (no result.json). One that is there
    /// but cannot be read is an error: a resume must neither measure it again nor overwrite it.
    public func readResult(_ key: RunKey) throws(UnreadableRunFile) -> RepetitionResult? {
        try readJSONIfPresent(RepetitionResult.self, from: resultPath(key))
    }

    /// Results already recorded, in the run's order.
    public func results(for order: [RunKey]) throws(UnreadableRunFile) -> [RepetitionResult] {
        var results: [RepetitionResult] = []
        for key in order { if let result = try readResult(key) { results.append(result) } }
        return results
    }

    /// The crypto floor and whether the gateways share a machine; nil until it is measured.
    public func readCostContext() throws(UnreadableRunFile) -> CPUCostContext? {
        try readJSONIfPresent(CPUCostContext.self, from: RunLayout.cpuCost)
    }
}
