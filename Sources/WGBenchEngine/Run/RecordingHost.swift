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

    public func run(_ command: Command) throws -> CommandResult {
        let start = Date()
        let stdin = command.stdin.map { " <stdin: \($0.count) bytes>" } ?? ""
        do {
            let result = try inner.run(command)
            log(start, "\(command)\(stdin) -> \(result.status)")
            return result
        } catch {
            log(start, "\(command)\(stdin) -> error: \(error)")
            throw error
        }
    }

    private func log(_ start: Date, _ text: String) {
        let milliseconds = Int(Date().timeIntervalSince(start) * 1000)
        store.append("\(ISO8601DateFormatter().string(from: start)) [\(milliseconds) ms] \(text)", to: "commands/\(name).log")
    }
}
