import Foundation
import Testing
import WGBenchCore
import WGBenchRemote
@testable import WGBenchEngine

/// Issue #23: `testbed down` that could not list the namespaces cannot know that none is left,
/// and must not say the machine is clean.
struct TestbedDownVerificationTests {
    /// Answers every command with success and nothing, but `ip netns list`, which fails.
    final class FailingListRunner: LocalRunning, @unchecked Sendable {
        let throwing: Bool
        init(throwing: Bool) { self.throwing = throwing }

        func run(_ command: Command) throws -> CommandResult {
            guard command.argv == ["ip", "netns", "list"] else { return CommandResult(status: 0, stdout: "", stderr: "") }
            if throwing { throw LocalCommandError(command: command.description, status: -1, stderrTail: "ip: not found") }
            return CommandResult(status: 1, stdout: "", stderr: "Cannot open network namespace directory: Permission denied")
        }
    }

    @Test(arguments: [false, true])
    func downThatCannotListNamespacesIsNotClean(throwing: Bool) throws {
        let base = "/tmp/wgb-down-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let yaml = LocalTestbedPlanFixture.yaml(prefix: "wgbdn", stateDirectory: base + "/state", management: "198.18.246.1/24")
        let local = LocalTestbed(testbed: try TestbedLoader.parse(yaml: yaml, file: "down.yaml"), runner: FailingListRunner(throwing: throwing))
        let left = local.down()
        #expect(left.contains { $0.contains("not verified") && $0.contains("ip netns list") }, "\(left)")
        #expect(left.contains { $0.contains(throwing ? "ip: not found" : "Permission denied") }, "\(left)")
    }
}
