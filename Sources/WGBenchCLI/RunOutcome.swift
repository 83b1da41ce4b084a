import Foundation
import WGBenchCore
import WGBenchEngine

/// What `wgbench run` prints once the runner returns, and the status it exits with: decided from
/// the report and the stored results alone, so a test can check it without hosts.
struct RunOutcome {
    var report: ExperimentRunner.Report
    /// Every repetition of the run's order that has a result (this invocation's and earlier ones').
    var results: [RepetitionResult]
    /// How many repetitions the run has in all.
    var total: Int
    var baseline: String?
    var resultsPath: String
    var resumeCommand: String

    /// Standard output: the summary table, the counts, failures, the residue check, the result
    /// directory, and last the line people want (each series against the baseline).
    var summary: String {
        var text = RunSummary.table(report.summary) + RunSummary.comparisons(report.summary, ratios: report.ratios)
        text += "\(report.executed) repetitions run, \(report.failed) failed, in \(String(format: "%.1f", report.wallSeconds)) s"
        if let ratio = report.overheadRatio {
            text += String(format: "; wall time / (runs x (duration + omit)) = %.2f", ratio)
        }
        text += "\n"
        if let cost = report.samplerCoreFraction {
            // `times` counts in clock ticks (10 ms): say so when the cost is below one tick per run.
            text += String(format: "CPU sampler cost: %.3f%% of one core", cost * 100)
                + (cost == 0 ? " (below the 10 ms resolution of its own accounting in every run)" : "") + "\n"
        }
        let failures = results.filter { $0.status == .failed }
        if !failures.isEmpty {
            text += "failed repetitions (\(failures.count)):\n"
            for result in failures {
                text += "  \(result.key): \((result.reason ?? "?").split(separator: "\n").first ?? "") (\(result.attempts) attempt(s))\n"
            }
        }
        if case .leaseLost = report.stop {
            text += "residue check: skipped (the testbed is another run's now)\n"
        } else {
            text += report.residue.isEmpty ? "residue check: hosts clean\n" : "residue check: LEFT ON HOSTS: \(report.residue.joined(separator: "; "))\n"
        }
        text += "results: \(resultsPath)\n"
        for line in RunSummary.relativeLines(report.summary, ratios: report.ratios, baseline: baseline) { text += line + "\n" }
        return text
    }

    /// Standard error, after the summary: why the run stopped, and how to finish it.
    var notes: [String] {
        var lines: [String] = []
        if let stop = report.stop {
            lines.append("stopped: \(stop)")
            if case .hostLost(let lost) = stop {
                lines.append("\(lost.host) was not torn down; once it answers again, resume: the sweep at the start removes what is left on it")
            }
        }
        if report.stop != nil || missing > 0 {
            lines.append("\(missing) of \(total) repetitions still to measure; resume with: \(resumeCommand)")
        }
        return lines
    }

    /// Repetitions without a result that counts (none, or failed).
    var missing: Int { total - results.filter { $0.status != .failed }.count }

    var status: ExitStatus { ExitStatus.of(report) }
}
