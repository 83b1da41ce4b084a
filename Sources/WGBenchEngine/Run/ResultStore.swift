import Foundation
import WGBenchCore

/// A run directory. Every file is written atomically (temporary file, then rename), so an
/// interrupted run never leaves a half-written result, and `--resume` can trust what it finds.
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

    public init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    public func url(_ relative: String) -> URL { directory.appendingPathComponent(relative) }

    public func write(_ data: Data, to relative: String) throws {
        let target = url(relative)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())")
        try data.write(to: temporary)
        if rename(temporary.path, target.path) != 0 {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target.path])
        }
    }

    public func write(_ text: String, to relative: String) throws { try write(Data(text.utf8), to: relative) }

    public func writeJSON<T: Encodable>(_ value: T, to relative: String) throws { try write(encoder.encode(value), to: relative) }

    public func readJSON<T: Decodable>(_ type: T.Type, from relative: String) throws -> T {
        try decoder.decode(type, from: Data(contentsOf: url(relative)))
    }

    public func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: url(relative).path) }

    /// Appends a line (command logs); not atomic, but only ever grows. Files stay open for the run.
    public func append(_ line: String, to relative: String) {
        appendLock.lock()
        defer { appendLock.unlock() }
        if appendHandles[relative] == nil {
            let target = url(relative)
            try? FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: target.path) {
                _ = FileManager.default.createFile(atPath: target.path, contents: nil)
            }
            appendHandles[relative] = try? FileHandle(forWritingTo: target)
            _ = try? appendHandles[relative]??.seekToEnd()
        }
        try? appendHandles[relative]??.write(contentsOf: Data((line + "\n").utf8))
    }

    private let appendLock = NSLock()
    private var appendHandles: [String: FileHandle?] = [:]

    deinit {
        for handle in appendHandles.values { try? handle?.close() }
    }

    // MARK: Run records

    public func writeRecord(_ record: RunRecord) throws { try writeJSON(record, to: "run.json") }
    public func readRecord() throws -> RunRecord { try readJSON(RunRecord.self, from: "run.json") }

    public func resultPath(_ key: RunKey) -> String { "\(key.directory)/result.json" }

    public func writeResult(_ result: RepetitionResult) throws { try writeJSON(result, to: resultPath(result.key)) }

    /// Results already recorded, in the run's order.
    public func results(for order: [RunKey]) -> [RepetitionResult] {
        order.compactMap { key in try? readJSON(RepetitionResult.self, from: resultPath(key)) }
    }
}
