import Foundation
import WGBenchCore
@testable import WGBenchReport

/// A result directory written by a test, laid out as `wgbench run` writes one: run.json from an
/// experiment file's text (claims included), and per repetition a result.json plus the sampler's
/// raw `cpu-<host>.txt`, generated from second-by-second core loads in /proc/stat's own format so
/// that the report parses it exactly as it parses a real run.
struct SyntheticRun {
    /// What one core did in one second, in percent.
    struct Load {
        var softirq: Double
        var user: Double = 0
    }

    let url: URL
    let record: RunRecord

    /// `in`: the directory to make the run in (a directory of runs), else a new temporary one.
    init(yaml: String, in parent: URL? = nil, name: String? = nil, started: Date = Date(timeIntervalSince1970: 1_800_000_000),
         commit: String? = nil) throws {
        url = (parent ?? FileManager.default.temporaryDirectory).appendingPathComponent(name ?? "wgb-synthetic-\(UUID().uuidString)")
        let spec = try ExperimentLoader.parse(yaml: yaml, file: "experiments/synthetic.yaml")
        // A directory may be named anything (a test of links does that); the id is what wgbench writes.
        var record = RunRecord(id: name.flatMap { RunRecord.isValidID($0) ? $0 : nil } ?? "synthetic", experimentFile: "experiments/synthetic.yaml", spec: spec, seed: 1,
                               order: RunSchedule.order(spec, seed: 1), testbedFile: "testbeds/synthetic.yaml", testbedName: "synthetic",
                               started: started)
        record.commit = commit
        self.record = record
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try write(record, to: "run.json")
    }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// Writes run.json again, changed as a hand (or an attacker) would change it.
    func rewriteRecord(_ change: (inout RunRecord) -> Void) throws {
        var changed = record
        change(&changed)
        try write(changed, to: "run.json")
    }

    func load() throws -> RunDirectory { try RunDirectory(url) }

    /// One repetition. `loads[host][second][core]`: the window's per-core CPU in result.json is
    /// computed from the generated samples, as the engine does; with `warmUp`, the samples start
    /// with the traffic and the window after the warm-up, with the saturation onsets recorded.
    func add(series: String, point: [String: String] = [:], repetition: Int, gbps: Double?, status: RepetitionResult.Status = .ok,
             reason: String? = nil, loads: [String: [[Load]]] = [:], placement: [String: [CoreAssignment]] = [:], warmUp: Int? = nil) throws {
        let variables = record.spec.sweep.map(\.name)
        let key = RunKey(series: series, point: Point(variables.map { name in
            Point.Assignment(name: name, value: point[name] ?? record.spec.sweep.first { $0.name == name }!.values[0])
        }), repetition: repetition)
        var cpu: [String: [CoreUsage]] = [:]
        var steadyFrom: Double?
        var saturation: [String: [SaturationOnset]]?
        for (host, seconds) in loads {
            let text = Self.samplerOutput(seconds)
            try Data(text.utf8).write(to: directory(key).appendingPathComponent("cpu-\(host).txt"))
            let samples = ProcStatParser.samples(text)
            guard let warmUp else {
                cpu[host] = ProcStatParser.usage(from: samples.first!, to: samples.last!)
                continue
            }
            let window = SamplerCommand.steadyWindow(samples, warmUpSeconds: warmUp, intervalMilliseconds: 1000)!
            cpu[host] = ProcStatParser.usage(from: window.from, to: window.to)
            steadyFrom = window.from.uptime - samples[0].uptime
            saturation = (saturation ?? [:]).merging([host: CPUTimeline(samples: samples)!.saturationOnsets]) { a, _ in a }
        }
        let result = RepetitionResult(key: key, status: status, reason: reason, attempts: 1, started: record.started,
                                      finished: record.started.addingTimeInterval(30), throughput: gbps.map { $0 * 1e9 }, flows: [], cpu: cpu,
                                      samplerCPUSeconds: [:], sampledSeconds: Double(loads.values.first?.count ?? 0), knobs: [:], steps: [],
                                      placement: placement, steadyFrom: steadyFrom, saturation: saturation)
        try write(result, to: "\(key.directory)/result.json")
    }

    /// `@sample` blocks of /proc/uptime and /proc/stat, 100 jiffies a second per core, then `@times`.
    static func samplerOutput(_ seconds: [[Load]]) -> String {
        var samples = [CPUSample.start(cores: seconds.first?.count ?? 0, uptime: 5000)]
        for second in seconds {
            let usage = second.enumerated().map { CoreUsage(cpu: $0.offset, user: $0.element.user, system: 0, irq: 0, softirq: $0.element.softirq, idle: 0) }
            samples.append(samples.last!.advanced(by: 1, usage: usage))
        }
        return SamplerCommand.output(samples)
    }

    private func directory(_ key: RunKey) throws -> URL {
        let directory = url.appendingPathComponent(key.directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    private func write<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let file = url.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(value).write(to: file)
    }

    /// `count` seconds of `cores` cores at `background`% softirq, where `hot(second, core)` may
    /// give a core another load.
    static func seconds(_ count: Int, cores: Int, background: Double, hot: (Int, Int) -> Double? = { _, _ in nil }) -> [[Load]] {
        (0..<count).map { second in (0..<cores).map { core in Load(softirq: hot(second, core) ?? background) } }
    }
}
