import Foundation
import Testing
import WGBenchCore
import WGBenchRemote
@testable import WGBenchEngine

/// wgbench's exit statuses, as documented in the README, from what a run reports or throws.
struct ExitStatusTests {
    static func report(failed: Int = 0, residue: [String] = [], stop: RunStop? = nil) -> ExperimentRunner.Report {
        ExperimentRunner.Report(summary: [], ratios: [], executed: 4, failed: failed, wallSeconds: 1, overheadRatio: nil, residue: residue,
                                samplerCoreFraction: nil, swept: [], stop: stop)
    }

    static let record = LeaseRecord(holder: LeaseHolder(run: "r", controller: "c", pid: 1, pidStart: 1, boot: "b", token: "t"), renewed: 0)

    @Test func reportsMapToTheirStatus() {
        #expect(ExitStatus.of(Self.report()) == .ok)
        #expect(ExitStatus.of(Self.report(failed: 1)) == .failed)
        #expect(ExitStatus.of(Self.report(stop: .hostLost(HostLost(host: .gw2, reason: "gone")))) == .failed)
        #expect(ExitStatus.of(Self.report(stop: .localWrite(LocalWriteError(operation: "write", path: "/x", code: 28)))) == .failed)
        #expect(ExitStatus.of(Self.report(failed: 2, residue: ["gw1: interface wgb1-1"])) == .residue)  // residue wins over failures
        #expect(ExitStatus.of(Self.report(residue: ["x"], stop: .leaseLost(.lost(host: .gw1, record: nil)))) == .busy)
    }

    @Test func errorsMapToTheirStatus() {
        #expect(ExitStatus.of(SpecError(file: "f", line: 1, column: 1, keyPath: "", message: "m")) == .badInput)
        #expect(ExitStatus.of(RunRecordError(file: "run.json", field: "id", value: "..", expectation: "e")) == .badInput)
        #expect(ExitStatus.of(BadInput("no run.json")) == .badInput)
        #expect(ExitStatus.of(LeaseError.busy(host: .gw1, record: Self.record, age: 3)) == .busy)
        #expect(ExitStatus.of(LeaseError.stale(host: .gw1, record: nil, age: 99, damaged: "x")) == .busy)
        #expect(ExitStatus.of(LocalLock.Busy(path: "/run/wgbench/.wgb.lock", holder: "process 1")) == .busy)
        #expect(ExitStatus.of(LeaseError.failed(host: .gw1, detail: "no flock")) == .failed)
        #expect(ExitStatus.of(RemoteError.unreachable(host: "gw1", address: "a", port: 22, reason: "refused")) == .failed)
        #expect(ExitStatus.of(LocalWriteError(operation: "write", path: "/x", code: 28)) == .failed)
        #expect([ExitStatus.ok, .failed, .badInput, .residue, .busy].map(\.rawValue) == [0, 1, 2, 3, 4])
        #expect(ExitStatus.interruptedBySIGINT == 128 + SIGINT && ExitStatus.interruptedBySIGTERM == 128 + SIGTERM)
    }
}
