import Foundation
import Testing
import WGBenchCore
@testable import WGBenchReport

/// Issue #23, part 3: a result file that is there but cannot be read is an error naming the
/// file, in `report`, `compare` and `history`; a file that is not there is "not measured".
struct UnreadableRunFileTests {
    static func run(in parent: URL? = nil, name: String? = nil) throws -> SyntheticRun {
        let run = try SyntheticRun(yaml: UntrustedRunTests.yaml, in: parent, name: name)
        try run.add(series: "go", point: ["tunnels": "1"], repetition: 1, gbps: 1)
        try run.add(series: "go", point: ["tunnels": "2"], repetition: 1, gbps: 2)
        return run
    }

    static func resultFile(_ run: SyntheticRun, _ index: Int) -> URL {
        run.url.appendingPathComponent(run.record.order[index].directory).appendingPathComponent("result.json")
    }

    @Test func aMissingResultIsNotMeasured() throws {
        let run = try Self.run()
        defer { run.remove() }
        try FileManager.default.removeItem(at: Self.resultFile(run, 1))
        #expect(try run.load().results.count == 1)
    }

    @Test func aCorruptResultIsAnErrorNamingTheFile() throws {
        let run = try Self.run()
        defer { run.remove() }
        let file = Self.resultFile(run, 1)
        try Data("{\"key\": tru".utf8).write(to: file)
        #expect {
            try run.load()
        } throws: { error in
            "\(error)".contains(file.path) && "\(error)".contains("result.json")
        }
    }

    @Test func aCorruptCostFileIsAnErrorNamingTheFile() throws {
        let run = try Self.run()
        defer { run.remove() }
        let file = run.url.appendingPathComponent("metadata/cpu-cost.json")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("[1, 2".utf8).write(to: file)
        #expect {
            try run.load()
        } throws: { error in
            "\(error)".contains(file.path)
        }
    }

    @Test func historyNamesTheRunAndTheFileItCouldNotRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-unreadable-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try Self.run(in: directory, name: "good")
        let bad = try Self.run(in: directory, name: "bad")
        try Data("not json".utf8).write(to: Self.resultFile(bad, 0))
        let history = try History.build(directory: directory, thresholdPercent: 5)
        #expect(history.runs.map(\.name) == ["good"])
        #expect(history.skipped.count == 1 && history.skipped[0].hasPrefix("bad: ") && history.skipped[0].contains("result.json"),
                "\(history.skipped)")
    }
}
