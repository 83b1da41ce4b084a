import Foundation
import Testing
import WGBenchCore
import WGBenchRemote
@testable import WGBenchEngine
import WGBenchSimulation

/// Issue #23: a teardown step that fails on a host comes back in the run's list of problems,
/// with the command and what it said, rather than only as whatever residue it leaves.
struct TeardownProblemTests {
    @Test func aTunnelDeleteThatFailsIsReportedWithItsReason() throws {
        let lab = recordedLab()
        let runner = try RunResilienceTests.runner(try RunResilienceTests.spec(tunnels: "[1]"), lab: lab)
        lab.failing = { _, operation in
            if case .deleteLink = operation { return "RTNETLINK answers: Operation not permitted" } else { return nil }
        }
        let report = try runner.run()
        #expect(report.residue.contains { $0.contains("ip link del wgb1-1") && $0.contains("Operation not permitted") }, "\(report.residue)")
    }

    @Test func aRunFolderThatCannotBeRemovedIsReportedWithItsReason() throws {
        let lab = recordedLab()
        let runner = try RunResilienceTests.runner(try RunResilienceTests.spec(tunnels: "[1]"), lab: lab)
        let folder = HostFolders.run(runner.record.id)
        lab.failing = { _, operation in operation == .removeTree(folder) ? "rm: cannot remove: Device or resource busy" : nil }
        let report = try runner.run()
        #expect(report.residue.contains { $0.contains("rm -rf") && $0.contains("Device or resource busy") }, "\(report.residue)")
    }
}
