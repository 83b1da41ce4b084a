import Foundation
import WGBenchCore
import WGBenchRemote

/// A host of the local testbed reached without SSH: its commands run in its network namespace
/// with `ip netns exec`. `testbed down` uses it to take the testbed's lease and remove its run
/// folders even when a host's sshd is gone.
public final class NamespaceHost: RemoteHost, @unchecked Sendable {
    public let name: String
    public let namespace: String
    let runner: LocalRunning
    public var address: String { "namespace \(namespace)" }

    public init(name: String, namespace: String, runner: LocalRunning = LocalCommandRunner()) {
        self.name = name
        self.namespace = namespace
        self.runner = runner
    }

    public func run(_ command: Command) throws -> CommandResult {
        try runner.run(Command(["ip", "netns", "exec", namespace] + command.argv, timeout: command.timeout, stdin: command.stdin))
    }
}
