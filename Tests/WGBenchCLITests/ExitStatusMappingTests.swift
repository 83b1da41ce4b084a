import ArgumentParser
import Foundation
import Testing
@testable import WGBenchCore
import WGBenchEngine
import WGBenchRemote
@testable import WGBenchCLI
@testable import WGBenchReport

/// What each command exits with for each outcome, and the summary lines it prints; the mapping
/// of reports and errors themselves is ExitStatus's (ExitStatusTests), reused here.
struct ExitStatusMappingTests {
    static let record = LeaseRecord(holder: LeaseHolder(run: "r", controller: "c", pid: 1, pidStart: 1, boot: "b", token: "t"), renewed: 0)

    @Test func errorsEndingACommandExitWithTheirStatus() {
        #expect(WGBench.exitStatus(for: ValidationError("bad")) == ExitStatus.badInput.rawValue)
        #expect(WGBench.exitStatus(for: BadInput("no run.json")) == 2)
        #expect(WGBench.exitStatus(for: SpecError(file: "f", line: 1, column: 1, keyPath: "", message: "m")) == 2)
        #expect(WGBench.exitStatus(for: LeaseError.busy(host: .gw1, record: Self.record, age: 3)) == 4)
        #expect(WGBench.exitStatus(for: RemoteError.unreachable(host: "gw1", address: "a", port: 22, reason: "refused")) == 1)
        #expect(WGBench.exitStatus(for: ExitCode(3)) == 3)  // a command's own status passes through
        #expect(WGBench.exitStatus(for: CleanExit.helpRequest()) == 0)
    }

    @Test func compareExitsOneWhenAPointRegressed() {
        let row = { (regression: Bool) in
            PointComparison(series: "wg", point: "tunnels=1", baselineGbps: 10, newGbps: 9, baselineRepetitions: 3, newRepetitions: 3,
                            deltaPercent: -10, p: 0.01, significant: true, regression: regression, note: "")
        }
        let regressed = CompareCommand.verdict([row(true), row(false), row(true)], threshold: Percentage(2.5))
        #expect(regressed.status == 1 && regressed.line == "2 point(s) regressed by more than 2.5%")
        let fine = CompareCommand.verdict([row(false)], threshold: Percentage(5))
        #expect(fine.status == 0 && fine.line == nil)
    }

    @Test func testbedDownAndCheckStatuses() {
        #expect(TestbedCommand.Down.status(residue: []) == .ok)
        #expect(TestbedCommand.Down.status(residue: ["namespace wgb-gw1"]) == .residue)
        let limitation = MissingItem(what: "no ntuple filters", fix: "-", limitation: true)
        let blocker = MissingItem(what: "iperf3 is not installed", fix: "apt-get install iperf3", limitation: false)
        #expect(TestbedCommand.Check.status(missing: []) == .ok)
        #expect(TestbedCommand.Check.status(missing: [limitation]) == .ok)
        #expect(TestbedCommand.Check.status(missing: [limitation, blocker]) == .badInput)
    }
}
