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
    @Option(help: "Slow-down that counts as a regression, e.g. 5%.") var threshold = "5%"
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard thresholdPercent != nil else { throw ValidationError("--threshold takes a percentage such as 5% or 2.5") }
    }

    var thresholdPercent: Double? {
        let text = threshold.hasSuffix("%") ? String(threshold.dropLast()) : threshold
        return Double(text).flatMap { $0 >= 0 ? $0 : nil }
    }

    func run() throws {
        let old = try RunDirectory(URL(fileURLWithPath: baseline)), fresh = try RunDirectory(URL(fileURLWithPath: new))
        let rows = Comparison.compare(baseline: old, new: fresh, thresholdPercent: thresholdPercent!)
        let paired = Comparison.commonBaseline(old, fresh)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
        } else {
            if let paired { print("both runs were measured in blocks with baseline series \(paired): comparing ratios over it, round by round") }
            print(Comparison.table(rows, ratios: paired != nil), terminator: "")
        }
        let regressions = rows.filter(\.regression)
        if !regressions.isEmpty {
            if !json { print("\(regressions.count) point(s) regressed by more than \(threshold)") }
            throw ExitCode(1)
        }
    }
}
