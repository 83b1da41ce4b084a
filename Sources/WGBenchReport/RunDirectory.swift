import Foundation
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
            let file = url.appendingPathComponent("run.json")
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
        do { try record.validate(file: url.appendingPathComponent("run.json").path, action: "read it") } catch {
            throw Failure(description: error.description)
        }
        results = record.order.compactMap { key in
            try? decoder.decode(RepetitionResult.self, from: Data(contentsOf: url.appendingPathComponent("\(key.directory)/result.json")))
        }
        struct Entry: Decodable { var name: String; var stdout: String }
        var metadata: [String: [String: String]] = [:]
        for role in HostRole.allCases {
            let file = url.appendingPathComponent("metadata/\(role).json")
            guard let entries = try? decoder.decode([Entry].self, from: Data(contentsOf: file)) else { continue }
            metadata[role.rawValue] = Dictionary(entries.map { ($0.name, $0.stdout) }, uniquingKeysWith: { a, _ in a })
        }
        self.metadata = metadata
        cost = try? decoder.decode(CPUCostContext.self, from: Data(contentsOf: url.appendingPathComponent("metadata/cpu-cost.json")))
    }

    public var summary: [PointSummary] { RunSummary.build(record: record, results: results, cost: cost) }
    /// Each series against the baseline (or every pair), paired by round in a run in blocks.
    public var ratios: [PairedRatio] { PairedRatios.build(record: record, results: results) }

    /// The experiment's claims checked against these results.
    public var claims: [ClaimResult] { Claims.evaluate(record.spec, results: results) }

    /// The CPU sampler's raw samples of one host in one repetition (`cpu-<host>.txt`); nil when
    /// the file is missing (not sampled, or a fixture kept without raw files).
    public func cpuSamples(_ key: RunKey, host: String) -> [CPUSample]? {
        let file = url.appendingPathComponent("\(key.directory)/cpu-\(host).txt")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return nil }
        return ProcStatParser.samples(text)
    }

    /// Throughputs (Gbit/s) of the successful repetitions of one point.
    public func throughputs(series: String, point: Point) -> [Double] {
        results.filter { $0.key.series == series && $0.key.point == point && $0.status == .ok }
            .compactMap { $0.throughput.map { $0 / 1e9 } }
    }
}
