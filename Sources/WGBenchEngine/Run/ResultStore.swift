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
public final class ResultStore: @unchecked Sendable {
    public let directory: URL
    /// Whether files are flushed to disk before they are renamed into place (a plan's scratch store need not).
    public var syncs = true
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

    public func url(_ relative: String) -> URL { directory.appendingPathComponent(relative) }

    public func write(_ data: Data, to relative: String) throws(LocalWriteError) {
        try LocalFile.writeAtomically(data, to: url(relative).path, sync: syncs)
    }

    public func write(_ text: String, to relative: String) throws(LocalWriteError) { try write(Data(text.utf8), to: relative) }

    public func writeJSON<T: Encodable>(_ value: T, to relative: String) throws { try write(encoder.encode(value), to: relative) }

    public func readJSON<T: Decodable>(_ type: T.Type, from relative: String) throws -> T {
        try decoder.decode(type, from: Data(contentsOf: url(relative)))
    }

    public func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: url(relative).path) }

    /// Removes a file or directory of the run if it is there (raw files of an earlier attempt).
    public func remove(_ relative: String) { try? FileManager.default.removeItem(at: url(relative)) }

    /// Appends a line (command logs): whole lines only, never torn. Files stay open for the run.
    /// A failure is kept in `fault` (the first one) rather than thrown: logging happens inside host
    /// calls, and the runner stops the run at its next check.
    public func append(_ line: String, to relative: String) {
        appendLock.lock()
        defer { appendLock.unlock() }
        guard appendFault == nil else { return }
        let path = url(relative).path
        do throws(LocalWriteError) {
            if appendFiles[relative] == nil {
                try LocalFile.createDirectories((path as NSString).deletingLastPathComponent)
                let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
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
    public func readRecord() throws -> RunRecord { try Self.readRecord(in: directory) }

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
