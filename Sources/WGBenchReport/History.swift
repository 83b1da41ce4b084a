import Foundation
import WGBenchCore

/// Every run of a directory of runs (a nightly job's), point by point over time: throughput and
/// CPU-s/GB per run, and each run compared with the previous run of the same experiment
/// (`Comparison.compare`: paired ratios over a common baseline series, else absolute), so
/// regressions and improvements can be marked where they appeared.
public struct History: Sendable {
    /// One run, as the history lists it.
    public struct Run: Sendable, Equatable {
        /// The run directory's name, relative to the runs directory (links go there).
        public var name: String
        public var experiment: String
        public var started: Date
        public var commit: String?
        public var kernel: String?
        /// Tool name -> version, from gw1's metadata.
        public var versions: [String: String]
    }

    /// One point of one series of one experiment in one run.
    public struct Entry: Sendable, Equatable {
        public var run: Int
        public var gbps: SampleStatistics?
        public var cpuSecondsPerGB: Double?
        /// Against the previous run of the experiment: nil for the first run.
        public var comparison: PointComparison?

        public var regression: Bool { comparison?.regression ?? false }
        public var improvement: Bool {
            guard let comparison, comparison.significant, let delta = comparison.deltaPercent else { return false }
            return delta > 0 && !comparison.regression
        }
    }

    /// A time line: an experiment's series at a point, across runs.
    public struct Line: Sendable, Equatable {
        public var experiment: String
        public var series: String
        public var point: String
        public var entries: [Entry]
    }

    public var runs: [Run]
    public var lines: [Line]
    /// Subdirectories that looked like runs but could not be read, with why.
    public var skipped: [String]

    /// Reads every run directory (one with run.json) directly under `directory`, ordered by start time.
    public static func build(directory: URL, thresholdPercent: Double) throws -> History {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        var loaded: [(name: String, run: RunDirectory)] = []
        var skipped: [String] = []
        for name in names where FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).appendingPathComponent(RunLayout.record).path) {
            do { loaded.append((name, try RunDirectory(directory.appendingPathComponent(name)))) } catch { skipped.append("\(name): \(error)") }
        }
        loaded.sort { ($0.run.record.started, $0.name) < ($1.run.record.started, $1.name) }
        let runs = loaded.map { name, run in
            Run(name: name, experiment: run.record.spec.name, started: run.record.started, commit: run.record.commit,
                kernel: run.metadata["gw1"]?["uname"].flatMap { $0.split(separator: " ").dropFirst(2).first.map(String.init) },
                versions: Dictionary(uniqueKeysWithValues: CheckedTool.allCases.compactMap { tool in
                    run.metadata["gw1"]?["version_\(tool.rawValue)"].flatMap(VersionParser.version).map { (tool.rawValue, $0) }
                }))
        }
        var lines: [String: Line] = [:]
        var order: [String] = []
        var previous: [String: Int] = [:]  // experiment -> index of its last run
        for (index, (_, run)) in loaded.enumerated() {
            let experiment = run.record.spec.name
            let comparisons = previous[experiment].map {
                Comparison.compare(baseline: loaded[$0].run, new: run, thresholdPercent: thresholdPercent)
            } ?? []
            let paired = previous[experiment].flatMap { Comparison.commonBaseline(loaded[$0].run, run) }
            for row in run.summary {
                let key = "\(experiment)|\(row.series)|\(row.point.id)"
                if lines[key] == nil {
                    lines[key] = Line(experiment: experiment, series: row.series, point: row.point.id, entries: [])
                    order.append(key)
                }
                let label = paired.map { $0 == row.series ? row.series : "\(row.series) / \($0)" } ?? row.series
                lines[key]!.entries.append(Entry(run: index, gbps: row.throughputGbps, cpuSecondsPerGB: row.cpuSecondsPerGB?.mean,
                                                 comparison: comparisons.first { $0.series == label && $0.point == row.point.id }))
            }
            previous[experiment] = index
        }
        return History(runs: runs, lines: order.map { lines[$0]! }, skipped: skipped)
    }

    /// history.csv: one line per run and point.
    public func csv() -> String {
        let formatter = ISO8601DateFormatter()
        let number = { (value: Double?) in value.map { String(format: "%.4f", $0) } ?? "" }
        var out = ["run,started,commit,kernel,experiment,series,point,mean_gbps,ci95_gbps,cpu_s_per_gb,delta_pct,p,verdict"]
        for line in lines {
            for entry in line.entries {
                let run = runs[entry.run]
                let verdict = entry.regression ? "regression" : (entry.improvement ? "improvement" : (entry.comparison == nil ? "" : "same"))
                out.append([run.name, formatter.string(from: run.started), run.commit ?? "", run.kernel ?? "", line.experiment, line.series, line.point,
                            number(entry.gbps?.mean), number(entry.gbps?.ci95), number(entry.cpuSecondsPerGB),
                            number(entry.comparison?.deltaPercent), number(entry.comparison?.p), verdict].map(RunSummary.csvField).joined(separator: ","))
            }
        }
        return out.joined(separator: "\n") + "\n"
    }
}
