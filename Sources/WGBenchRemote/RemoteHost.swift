import WGBenchCore

/// A host the controller runs commands on. The real one is `SSHHost`; tests use `FakeHost`.
///
/// Calls are synchronous and may block for up to the command's timeout; run hosts in parallel
/// with `onEachHost`. Every failure is a `RemoteError` that names the host.
public protocol RemoteHost: AnyObject, Sendable {
    /// The host's role or name, for messages.
    var name: String { get }
    /// Where it is reached, for messages.
    var address: String { get }
    /// Runs a command; a non-zero exit status is a result, not an error.
    func run(_ command: Command) throws -> CommandResult
    /// Carries out an operation; by default, the command `ShellRenderer` makes of it. The
    /// simulated testbed interprets operations instead, and runs no command.
    func perform(_ operation: HostOperation) throws -> CommandResult
}

extension RemoteHost {
    public func perform(_ operation: HostOperation) throws -> CommandResult { try run(ShellRenderer.command(operation)) }

    /// Carries out an operation that must succeed and returns its output.
    @discardableResult
    public func check(_ operation: HostOperation) throws -> String { try output(of: perform(operation), operation.description) }

    /// Runs a command that must succeed and returns its stdout.
    @discardableResult
    public func check(_ command: Command) throws -> String { try output(of: run(command), command.description) }

    /// Reads a fact and returns what it means; an answer that means nothing is an error naming the host and the command.
    public func read<Value>(_ reading: HostReading<Value>) throws -> Value {
        let operation = HostOperation.read(reading.fact)
        switch reading.value(of: try perform(operation)) {
        case .success(let value):
            return value
        case .failure(.failed(let status, let stderr)):
            throw RemoteError.commandFailed(host: name, address: address, command: operation.description, status: status, stderrTail: stderr)
        case .failure(.unreadable(let output)):
            throw RemoteError.unreadableAnswer(host: name, address: address, command: operation.description, output: output)
        }
    }

    private func output(of result: CommandResult, _ command: String) throws -> String {
        guard result.succeeded else {
            throw RemoteError.commandFailed(host: name, address: address, command: command, status: result.status, stderrTail: result.stderrTail)
        }
        return result.stdout
    }

    @discardableResult
    public func check(_ argv: String...) throws -> String { try check(Command(argv)) }
}

/// Everything that can go wrong reaching a host or running a command there.
public enum RemoteError: Error, CustomStringConvertible, Equatable {
    case unreachable(host: String, address: String, port: UInt16, reason: String)
    case hostKeyRejected(host: String, address: String, reason: String)
    case authenticationFailed(host: String, address: String, user: String, reason: String)
    /// The connection broke or the remote shell misbehaved.
    case sessionFailed(host: String, address: String, reason: String)
    case commandFailed(host: String, address: String, command: String, status: Int32, stderrTail: String)
    case timedOut(host: String, address: String, command: String, seconds: Double)
    /// A command succeeded but its output is not what it prints.
    case unreadableAnswer(host: String, address: String, command: String, output: String)

    public var description: String {
        switch self {
        case let .unreachable(host, address, port, reason):
            return "cannot reach host \(host) at \(address):\(port): \(reason)"
        case let .hostKeyRejected(host, address, reason):
            return "host key of \(host) (\(address)) refused: \(reason)"
        case let .authenticationFailed(host, address, user, reason):
            return "cannot log in to \(host) (\(address)) as \(user): \(reason)"
        case let .sessionFailed(host, address, reason):
            return "SSH session to \(host) (\(address)) failed: \(reason)"
        case let .commandFailed(host, address, command, status, stderrTail):
            let tail = stderrTail.isEmpty ? "" : "\n  stderr: " + stderrTail.replacingOccurrences(of: "\n", with: "\n          ")
            return "on \(host) (\(address)): `\(command)` exited with status \(status)\(tail)"
        case let .unreadableAnswer(host, address, command, output):
            return "on \(host) (\(address)): `\(command)` answered what wgbench cannot read: \(output.isEmpty ? "nothing" : output)"
        case let .timedOut(host, address, command, seconds):
            return "on \(host) (\(address)): `\(command)` did not finish within \(seconds) s and was killed"
        }
    }
}
