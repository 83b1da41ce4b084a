import Foundation
import Testing
import WGBenchCore
@testable import WGBenchEngine
@testable import WGBenchCLI

/// `wgbench run`'s closing lines and exit status, from a report and the stored results.
struct RunOutcomeTests {
    static func report(failed: Int = 0, residue: [String] = [], stop: RunStop? = nil) -> ExperimentRunner.Report {
        ExperimentRunner.Report(summary: [], ratios: [], executed: 4, failed: failed, wallSeconds: 12.34, overheadRatio: 1.5, residue: residue,
                                samplerCoreFraction: 0, swept: [], stop: stop)
    }

    static func result(_ repetition: Int, _ status: RepetitionResult.Status) -> RepetitionResult {
        RepetitionResult(key: RunKey(series: "wg", point: Point([.init(name: "tunnels", value: "1")]), repetition: repetition), status: status,
                         reason: status == .failed ? "iperf3 refused\nmore" : nil, attempts: 2, started: Date(timeIntervalSince1970: 0),
                         finished: Date(timeIntervalSince1970: 30), throughput: nil, flows: [], cpu: [:], samplerCPUSeconds: [:],
                         sampledSeconds: nil, knobs: [:], steps: [])
    }

    static func outcome(_ report: ExperimentRunner.Report, _ results: [RepetitionResult], total: Int = 4) -> RunOutcome {
        RunOutcome(report: report, results: results, total: total, baseline: nil, resultsPath: "results/x",
                   resumeCommand: "wgbench run --resume results/x --testbed testbeds/local.yaml")
    }

    @Test func aCompleteRunExitsZeroAndSaysSo() {
        let outcome = Self.outcome(Self.report(), (1...4).map { Self.result($0, .ok) })
        #expect(outcome.status == .ok && outcome.notes.isEmpty)
        let lines = outcome.summary.split(separator: "\n").map(String.init)
        #expect(lines.contains("4 repetitions run, 0 failed, in 12.3 s; wall time / (runs x (duration + omit)) = 1.50"))
        #expect(lines.contains("CPU sampler cost: 0.000% of one core (below the 10 ms resolution of its own accounting in every run)"))
        #expect(lines.contains("residue check: hosts clean") && lines.contains("results: results/x"))
        #expect(!outcome.summary.contains("failed repetitions"))
    }

    @Test func failuresAreNamedAndResumable() {
        let outcome = Self.outcome(Self.report(failed: 1), [Self.result(1, .ok), Self.result(2, .failed), Self.result(3, .ok)])
        #expect(outcome.status == .failed)
        #expect(outcome.summary.contains("failed repetitions (1):\n  wg tunnels=1 rep 2: iperf3 refused (2 attempt(s))\n"))
        #expect(outcome.missing == 2)  // rep 2 failed, rep 4 never ran
        #expect(outcome.notes == ["2 of 4 repetitions still to measure; resume with: wgbench run --resume results/x --testbed testbeds/local.yaml"])
    }

    @Test func residueAndALostLeaseHaveTheirOwnStatusAndLines() {
        let left = Self.outcome(Self.report(residue: ["gw1: interface wgb1-1"]), (1...4).map { Self.result($0, .ok) })
        #expect(left.status == .residue && left.summary.contains("residue check: LEFT ON HOSTS: gw1: interface wgb1-1\n"))
        let lost = Self.outcome(Self.report(stop: .leaseLost(.lost(host: .gw1, record: nil))), [Self.result(1, .ok)])
        #expect(lost.status == .busy && lost.summary.contains("residue check: skipped (the testbed is another run's now)\n"))
        #expect(lost.notes.count == 2 && lost.notes[0].hasPrefix("stopped: ") && lost.notes[1].hasPrefix("3 of 4 repetitions still to measure"))
    }

    @Test func aLostHostIsNamedWithWhatToDo() {
        let outcome = Self.outcome(Self.report(stop: .hostLost(HostLost(host: .gw2, reason: "gone"))), [Self.result(1, .ok)])
        #expect(outcome.status == .failed)
        #expect(outcome.notes.contains { $0.hasPrefix("gw2 was not torn down; once it answers again, resume") })
    }
}
