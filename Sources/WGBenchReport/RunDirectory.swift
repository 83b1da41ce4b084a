import Foundation
import Glibc
import WGBenchCore

/// A result directory as the report reads it: never a host, only files.
public struct RunDirectory: Sendable {
    public let url: URL
    public let record: RunRecord
    public let results: [RepetitionResult]
    /// host -> metadata entry name -> raw output
    public let metadata: [String: [String: String]]
    /// The crypto floor and whether the gateways are one machine (runs before it was recorded: nil).
    public let cost: CPUCostContext?

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// As `wgbench run --resume` reads run.json: 64 times an input file's limit.
    static let maxRecordBytes = 64 * InputLimits.maxFileBytes

    public init(_ url: URL) throws {
        self.url = url
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            let file = url.appendingPathComponent(RunLayout.record)
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
            guard size <= Self.maxRecordBytes else { throw Failure(description: "larger than \(Self.maxRecordBytes / 1_048_576) MiB") }
            record = try decoder.decode(RunRecord.self, from: Data(contentsOf: file))
        } catch {
            throw Failure(description: "\(url.path) is not a wgbench result directory (run.json: \(error.localizedDescription))")
        }
        guard record.format <= RunRecord.currentFormat else {
            throw Failure(description: "\(url.path) has result format \(record.format); this wgbench reads up to \(RunRecord.currentFormat)")
        }
        // Series and points name the files read here and the plots written from them: a record that
        // could climb out of its directory (`../`) is refused as `--resume` refuses it.
        do { try record.validate(file: url.appendingPathComponent(RunLayout.record).path, action: "read it") } catch {
            throw Failure(description: error.description)
        }
        // A file that is not there was not measured (or not recorded); one that is there but cannot
        // be read fails the whole read, naming the file, rather than showing as a blank.
        do throws(UnreadableRunFile) {
            var results: [RepetitionResult] = []
            for key in record.order {
                if let result = try Self.decode(RepetitionResult.self, RunLayout.result(key), in: url, decoder) { results.append(result) }
            }
            self.results = results
            struct Entry: Decodable { var name: String; var stdout: String }
            var metadata: [String: [String: String]] = [:]
            for role in HostRole.allCases {
                guard let entries = try Self.decode([Entry].self, RunLayout.metadata(role), in: url, decoder) else { continue }
                metadata[role.rawValue] = Dictionary(entries.map { ($0.name, $0.stdout) }, uniquingKeysWith: { a, _ in a })
            }
            self.metadata = metadata
            cost = try Self.decode(CPUCostContext.self, RunLayout.cpuCost, in: url, decoder)
        } catch {
            throw Failure(description: error.description)
        }
    }

    /// One file of the run, decoded; nil when it is not there.
    private static func decode<T: Decodable>(_ type: T.Type, _ relative: String, in url: URL, _ decoder: JSONDecoder) throws(UnreadableRunFile) -> T? {
        let file = url.appendingPathComponent(relative)
        // Not there: no such file, or a component of the path is not a directory.
        var info = stat()
        if lstat(file.path, &info) != 0 && (errno == ENOENT || errno == ENOTDIR) { return nil }
        do {
            return try decoder.decode(type, from: Data(contentsOf: file))
        } catch {
            throw UnreadableRunFile(path: file.path, error: error)
        }
    }

    public var summary: [PointSummary] { RunSummary.build(record: record, results: results, cost: cost) }
    /// Each series against the baseline (or every pair), paired by round in a run in blocks.
    public var ratios: [PairedRatio] { PairedRatios.build(record: record, results: results) }

    /// The experiment's claims checked against these results.
    public var claims: [ClaimResult] { Claims.evaluate(record.spec, results: results) }

    /// The CPU sampler's raw samples of one host in one repetition (`cpu-<host>.txt`); nil when
    /// the file is missing (not sampled, or a fixture kept without raw files).
    public func cpuSamples(_ key: RunKey, host: String) -> [CPUSample]? {
        let file = url.appendingPathComponent(RunLayout.cpuSamples(key, host: host))
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return nil }
        return ProcStatParser.samples(text)
    }

    /// Throughputs (Gbit/s) of the successful repetitions of one point.
    public func throughputs(series: String, point: Point) -> [Double] {
        results.filter { $0.key.series == series && $0.key.point == point && $0.status == .ok }
            .compactMap { $0.throughput.map { $0 / 1e9 } }
    }
}
