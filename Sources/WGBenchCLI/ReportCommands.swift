import ArgumentParser
import Foundation
import WGBenchCore
import WGBenchReport

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write plots (SVG), one self-contained HTML report and CSVs from a result directory; print the paper's claims checked.")

    @Argument(help: "A result directory of `wgbench run`.") var results: String
    @Option(help: "Where to write the report (default: <results>/report).") var out: String?

    func run() throws {
        let directory = try RunDirectory(URL(fileURLWithPath: results))
        let html = try ReportWriter.write(run: directory, to: URL(fileURLWithPath: out ?? "\(results)/report"))
        print(ClaimsReport.text(directory.claims), terminator: "")
        print("report: \(html.path)")
    }
}

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare a run with a baseline run; exits 1 when a point regressed significantly beyond the threshold.")

    @Argument(help: "The baseline result directory.") var baseline: String
    @Argument(help: "The new result directory.") var new: String
    @Option(help: "Slow-down that counts as a regression, e.g. 5% or 2.5.") var threshold = Percentage(5)
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let old = try RunDirectory(URL(fileURLWithPath: baseline)), fresh = try RunDirectory(URL(fileURLWithPath: new))
        let rows = Comparison.compare(baseline: old, new: fresh, thresholdPercent: threshold.value)
        let paired = Comparison.commonBaseline(old, fresh)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
        } else {
            if let paired { print("both runs were measured in blocks with baseline series \(paired): comparing ratios over it, round by round") }
            print(Comparison.table(rows, ratios: paired != nil), terminator: "")
        }
        let verdict = Self.verdict(rows, threshold: threshold)
        if let line = verdict.line, !json { print(line) }
        if verdict.status != 0 { throw ExitCode(verdict.status) }
    }

    /// Exit 1 and a line counting them when a point regressed; 0 and nothing otherwise.
    static func verdict(_ rows: [PointComparison], threshold: Percentage) -> (status: Int32, line: String?) {
        let regressions = rows.filter(\.regression).count
        return regressions == 0 ? (0, nil) : (1, "\(regressions) point(s) regressed by more than \(threshold)")
    }
}

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Write a trend page (history.html, history.csv) of every run in a directory of runs, regressions and improvements marked.")

    @Argument(help: "A directory holding result directories (a nightly job's).") var runs: String
    @Option(help: "Where to write history.html and history.csv (default: <runs>).") var out: String?
    @Option(help: "Slow-down that counts as a regression between consecutive runs, e.g. 5% or 2.5.") var threshold = Percentage(5)

    func run() throws {
        let directory = URL(fileURLWithPath: runs)
        let history = try History.build(directory: directory, thresholdPercent: threshold.value)
        let html = try HistoryWriter.write(history, title: directory.lastPathComponent, to: URL(fileURLWithPath: out ?? runs))
        for line in Self.summary(history) { print(line) }
        print("history: \(html.path)")
    }

    /// What was marked, and which directories could not be read.
    static func summary(_ history: History) -> [String] {
        let marks = history.lines.flatMap(\.entries).filter { $0.regression || $0.improvement }
        return ["\(history.runs.count) runs; \(marks.filter(\.regression).count) regression(s), \(marks.filter(\.improvement).count) improvement(s) marked"]
            + history.skipped.map { "not read: \($0)" }
    }
}
