import Foundation
import WGBenchCore

/// A host reached over SSH, with one persistent session and remote shell reused for every
/// command. Connects on first use (or `connect()`), reconnects after a broken session.
/// Commands to one host are serialised; run several hosts in parallel with `onEachHost`.
public final class SSHHost: RemoteHost, @unchecked Sendable {
    public let endpoint: SSHEndpoint
    public var name: String { endpoint.name }
    public var address: String { endpoint.address }

    private let lock = NSLock()
    private var connection: SSHConnection?
    private var shell: PersistentShell?

    public init(_ endpoint: SSHEndpoint) {
        self.endpoint = endpoint
    }

    /// Connects now, so that an unreachable host is reported before any work starts.
    public func connect() throws {
        lock.lock()
        defer { lock.unlock() }
        _ = try currentShell()
    }

    public func run(_ command: Command) throws -> CommandResult {
        lock.lock()
        defer { lock.unlock() }
        let shell = try currentShell()
        defer { if shell.isBroken { disconnectLocked() } }
        return try shell.run(command)
    }

    /// Closes the session; the next command opens a new one.
    public func disconnect() {
        lock.lock()
        defer { lock.unlock() }
        disconnectLocked()
    }

    private func disconnectLocked() {
        shell = nil
        connection = nil
    }

    private func currentShell() throws -> PersistentShell {
        if let shell { return shell }
        let connection = try self.connection ?? SSHConnection(endpoint)
        self.connection = connection
        let shell = try connection.openShell()
        self.shell = shell
        return shell
    }
}
