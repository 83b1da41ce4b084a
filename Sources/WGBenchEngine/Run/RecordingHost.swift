import Foundation
import WGBenchCore
import WGBenchRemote

/// A host that logs every command it runs (with exit status and duration) to the run's
/// `commands/<host>.log`: the exact commands executed, as the results must record.
public final class RecordingHost: RemoteHost, @unchecked Sendable {
    private let inner: RemoteHost
    private let store: ResultStore
    public var name: String { inner.name }
    public var address: String { inner.address }

    public init(_ inner: RemoteHost, store: ResultStore) {
        self.inner = inner
        self.store = store
    }

    public func run(_ command: Command) throws -> CommandResult { try record(command) { try inner.run(command) } }

    /// The operation goes to the inner host as an operation (a simulated host interprets it); the
    /// log shows the command it renders to.
    public func perform(_ operation: HostOperation) throws -> CommandResult {
        try record(ShellRenderer.command(operation)) { try inner.perform(operation) }
    }

    private func record(_ command: Command, _ body: () throws -> CommandResult) throws -> CommandResult {
        let start = Date()
        let stdin = command.stdin.map { " <stdin: \($0.count) bytes>" } ?? ""
        do {
            let result = try body()
            log(start, "\(command)\(stdin) -> \(result.status)")
            return result
        } catch {
            log(start, "\(command)\(stdin) -> error: \(error)")
            throw error
        }
    }

    private func log(_ start: Date, _ text: String) {
        let milliseconds = Int(Date().timeIntervalSince(start) * 1000)
        store.append("\(Self.timestamp(start)) [\(milliseconds) ms] \(text)", to: RunLayout.commandLog(name))
    }

    /// UTC `2026-11-27T10:41:10.123Z`, without a formatter object per line (they are costly to make).
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = Int((date.timeIntervalSince1970 - Double(seconds)) * 1000)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millis)
    }
}
