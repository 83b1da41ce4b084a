import Foundation
import Testing
import WGBenchCore
@testable import WGBenchReport

/// Issue #22, item 2: `report`, `compare` and `history` read result directories that may come
/// from elsewhere. A run.json whose series name climbs (`../`) made `report` read result files
/// outside the run and write SVGs outside the report directory, and a `report` (or `plots`) that
/// is a symbolic link took the report's writes to wherever it pointed.
struct UntrustedRunTests {
    static let yaml = """
    name: t
    repetitions: 1
    sweep: {tunnels: [1, 2]}
    series: [{name: go, target: wireguard-go}]
    """

    static func run() throws -> SyntheticRun {
        let run = try SyntheticRun(yaml: yaml)
        for tunnels in ["1", "2"] {
            try run.add(series: "go", point: ["tunnels": tunnels], repetition: 1, gbps: 1,
                        loads: ["gw1": [[.init(softirq: 50)], [.init(softirq: 50)]]])
        }
        return run
    }

    static func isRefusal(_ error: any Error, field: String) -> Bool {
        "\(error)".contains("\(field) '") && "\(error)".contains("refusing to read it")
    }

    @Test func aRunJSONWhoseNamesClimbIsNotRead() throws {
        let run = try Self.run()
        defer { run.remove() }
        let outside = run.url.deletingLastPathComponent().appendingPathComponent("wgb-outside-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: outside) }
        // A series named to climb two levels, with a result planted where it climbs to.
        let climb = "../../../\(outside.lastPathComponent)"
        try run.rewriteRecord { record in
            record.spec.series[0].name = climb
            for index in record.order.indices { record.order[index].series = climb }
        }
        #expect { _ = try RunDirectory(run.url) } throws: { Self.isRefusal($0, field: "spec.series.name") }

        try run.rewriteRecord { record in record.order[0].point.assignments[0].value = "../../x" }
        #expect { _ = try RunDirectory(run.url) } throws: { Self.isRefusal($0, field: "order[0].point.tunnels") }

        try run.rewriteRecord { record in record.spec.sweep[0].name = "../x" }
        #expect { _ = try RunDirectory(run.url) } throws: { Self.isRefusal($0, field: "spec.sweep") }
        #expect(!FileManager.default.fileExists(atPath: outside.path))
    }

    /// `history` skips such a run, saying why, and reports on the others.
    @Test func historySkipsACraftedRun() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-untrusted-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["good", "crafted"] {
            let run = try SyntheticRun(yaml: Self.yaml, in: directory, name: name)
            try run.add(series: "go", point: ["tunnels": "1"], repetition: 1, gbps: 1)
            if name == "crafted" { try run.rewriteRecord { $0.order[0].series = "../good" } }
        }
        let history = try History.build(directory: directory, thresholdPercent: 5)
        #expect(history.runs.map(\.name) == ["good"])
        #expect(history.skipped.count == 1 && history.skipped[0].hasPrefix("crafted: ") && history.skipped[0].contains("order[0].series"))
    }

    @Test(arguments: ["", "plots"])
    func aReportDirectoryThatIsALinkIsRefused(_ linked: String) throws {
        let run = try Self.run()
        defer { run.remove() }
        let target = run.url.deletingLastPathComponent().appendingPathComponent("wgb-link-target-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: target) }
        let report = run.url.appendingPathComponent("report")
        if linked.isEmpty {
            try FileManager.default.createSymbolicLink(atPath: report.path, withDestinationPath: target.path)
        } else {
            try FileManager.default.createDirectory(at: report, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: report.appendingPathComponent(linked).path, withDestinationPath: target.path)
        }
        let refused = linked.isEmpty ? report : report.appendingPathComponent(linked)
        #expect(throws: ReportWriteError(path: refused.path, reason: "it is a symbolic link")) {
            try ReportWriter.write(run: try run.load(), to: report)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path).isEmpty, "the report was written through the link")
    }

    /// A file of the report that is a link is replaced, not written through.
    @Test func aReportFileThatIsALinkIsReplacedNotFollowed() throws {
        let run = try Self.run()
        defer { run.remove() }
        let victim = run.url.deletingLastPathComponent().appendingPathComponent("wgb-victim-\(UUID().uuidString.prefix(8))")
        try Data("theirs".utf8).write(to: victim)
        defer { try? FileManager.default.removeItem(at: victim) }
        let report = run.url.appendingPathComponent("report")
        try FileManager.default.createDirectory(at: report, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: report.appendingPathComponent("report.html").path, withDestinationPath: victim.path)
        try ReportWriter.write(run: try run.load(), to: report)
        #expect(try String(contentsOf: victim, encoding: .utf8) == "theirs")
        #expect(try String(contentsOf: report.appendingPathComponent("report.html"), encoding: .utf8).contains("<html"))
    }

    @Test func aHistoryDirectoryThatIsALinkIsRefused() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-untrusted-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: base) }
        try FileManager.default.createDirectory(at: base.appendingPathComponent("target"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: base.appendingPathComponent("out").path, withDestinationPath: base.appendingPathComponent("target").path)
        let history = try History.build(directory: base.appendingPathComponent("target"), thresholdPercent: 5)
        #expect(throws: ReportWriteError.self) { try HistoryWriter.write(history, title: "t", to: base.appendingPathComponent("out")) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: base.appendingPathComponent("target").path).isEmpty)
    }
}
