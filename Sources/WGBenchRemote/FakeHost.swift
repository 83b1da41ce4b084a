import Foundation
import WGBenchCore

/// A host that runs nothing: it records every command and answers from a handler.
/// For unit tests of logic that talks to hosts.
public final class FakeHost: RemoteHost, @unchecked Sendable {
    public let name: String
    public let address: String
    private let lock = NSLock()
    private var recorded: [Command] = []
    private let handler: @Sendable (Command) throws -> CommandResult

    /// `handler` answers each command; by default every command succeeds with no output.
    public init(name: String, address: String = "fake",
                handler: @escaping @Sendable (Command) throws -> CommandResult = { _ in CommandResult(status: 0, stdout: "", stderr: "") }) {
        self.name = name
        self.address = address
        self.handler = handler
    }

    public func run(_ command: Command) throws -> CommandResult {
        lock.lock()
        recorded.append(command)
        lock.unlock()
        return try handler(command)
    }

    /// The commands run so far, in order.
    public var commands: [Command] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}
