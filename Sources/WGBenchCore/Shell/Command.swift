import Foundation

/// A command to run on a host, as an argument vector: never a string pasted together.
/// The transport turns it into shell text with `ShellQuoting`, quoting every argument.
public struct Command: Hashable, Sendable, CustomStringConvertible {
    public var argv: [String]
    /// Limit for this command; nil means the host's default.
    public var timeout: SpecDuration?
    /// Bytes fed to the command's standard input (e.g. a key), never placed on its command line.
    public var stdin: [UInt8]?

    public init(_ argv: [String], timeout: SpecDuration? = nil, stdin: [UInt8]? = nil) {
        precondition(!argv.isEmpty, "a command needs a program")
        self.argv = argv
        self.timeout = timeout
        self.stdin = stdin
    }

    public init(_ argv: String..., timeout: SpecDuration? = nil) {
        self.init(argv, timeout: timeout)
    }

    public var program: String { argv[0] }

    /// The command as a person would type it; for logs and error messages. Standard input is not shown.
    public var description: String { argv.map(ShellQuoting.quote).joined(separator: " ") }
}

/// The outcome of a command that ran to completion (whatever its exit status).
public struct CommandResult: Sendable, Equatable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    public var succeeded: Bool { status == 0 }

    /// The last lines of stderr, for error messages.
    public var stderrTail: String { ShellQuoting.tail(stderr) }
}

public enum ShellQuoting {
    /// Quotes one argument for a POSIX shell: safe words stay as they are, anything else goes in
    /// single quotes with embedded single quotes written as `'\''`.
    public static func quote(_ argument: String) -> String {
        if !argument.isEmpty, argument.utf8.allSatisfy(isSafe) { return argument }
        return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    private static func isSafe(_ c: UInt8) -> Bool {
        isAlphanumeric(c) || Array("@%_+=:,./-".utf8).contains(c)
    }

    /// The last `lines` non-empty lines of a text, at most `limit` characters.
    public static func tail(_ text: String, lines: Int = 5, limit: Int = 600) -> String {
        let kept = text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).joined(separator: "\n")
        return kept.count > limit ? "…" + String(kept.suffix(limit)) : kept
    }
}
