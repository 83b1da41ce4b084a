import Foundation
import WGBenchCore

/// Runs commands on this machine, in the root namespace: how the local testbed is built.
/// `Process` (fork/exec), with the output collected and a bounded run time.
public protocol LocalRunning: Sendable {
    func run(_ command: Command) throws -> CommandResult
}

/// A local command that could not run or failed.
public struct LocalCommandError: Error, CustomStringConvertible {
    public let command: String
    public let status: Int32
    public let stderrTail: String

    public var description: String {
        "`\(command)` exited with status \(status)" + (stderrTail.isEmpty ? "" : ": \(stderrTail)")
    }
}

public struct LocalCommandRunner: LocalRunning {
    public var defaultTimeout = SpecDuration(milliseconds: 30_000)

    public init() {}

    public func run(_ command: Command) throws -> CommandResult {
        let process = Process()
        guard let executable = Self.resolve(command.program) else {
            throw LocalCommandError(command: command.description, status: 127, stderrTail: "\(command.program): not found")
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.argv.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C"
        process.environment = environment
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin = command.stdin { input.fileHandleForWriting.write(Data(stdin)) }
        try? input.fileHandleForWriting.close()

        // Drain both pipes concurrently so a chatty command cannot block on a full pipe.
        let collected = Collected()
        let group = DispatchGroup()
        for (pipe, isOut) in [(out, true), (err, false)] {
            DispatchQueue.global().async(group: group) {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.set(data, stdout: isOut)
            }
        }
        let timeout = (command.timeout ?? defaultTimeout).seconds
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = group.wait(timeout: .now() + 2)
            throw LocalCommandError(command: command.description, status: -1,
                                    stderrTail: "did not finish within \(timeout) s and was terminated")
        }
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             stdout: String(decoding: collected.stdout, as: UTF8.self),
                             stderr: String(decoding: collected.stderr, as: UTF8.self))
    }

    /// Finds a program on PATH plus the sbin directories (ip, sshd and sysctl live there).
    static func resolve(_ program: String) -> String? {
        if program.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

extension LocalRunning {
    @discardableResult
    public func check(_ command: Command) throws -> String {
        let result = try run(command)
        guard result.succeeded else {
            throw LocalCommandError(command: command.description, status: result.status, stderrTail: result.stderrTail)
        }
        return result.stdout
    }
}

private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()

    func set(_ data: Data, stdout: Bool) {
        lock.lock()
        if stdout { out = data } else { err = data }
        lock.unlock()
    }

    var stdout: Data { lock.lock(); defer { lock.unlock() }; return out }
    var stderr: Data { lock.lock(); defer { lock.unlock() }; return err }
}
