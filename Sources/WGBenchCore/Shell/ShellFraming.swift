import Foundation

/// How commands travel over one long-lived remote shell (`/bin/sh` reading its standard input).
///
/// Each command is one shell line: the quoted argv wrapped in `timeout` (so a stuck command is
/// killed on the host), its standard input from /dev/null or from a base64 literal, then two end
/// markers carrying a fresh random nonce: `\n<marker> <status>\n` on stdout and `\n<marker>\n` on
/// stderr. Output that merely imitates a marker cannot guess the nonce. The leading newline of each
/// marker is added by us and removed by `ShellFrameParser`, so output is returned byte for byte.
public enum ShellFraming {
    /// Exit status `timeout` returns when it killed the command.
    public static let timeoutStatus: Int32 = 124

    public static func marker(nonce: String) -> String { "__WGB_END_\(nonce)" }

    /// The line that asks the shell to print a readiness marker (the shell's start-up output before it is discarded).
    public static func readyLine(nonce: String) -> String {
        "export LC_ALL=C; printf '%s\\n' '\(marker(nonce: nonce))'\n"
    }

    public static func line(for command: Command, defaultTimeout: SpecDuration, nonce: String) -> String {
        let seconds = max(1, ((command.timeout ?? defaultTimeout).milliseconds + 999) / 1000)
        let argv = ["timeout", "-k", "2", String(seconds)] + command.argv
        let quoted = argv.map(ShellQuoting.quote).joined(separator: " ")
        // printf is a shell builtin: the data never shows up in a process's argv.
        let body = command.stdin.map { "printf '%s' '\(Data($0).base64EncodedString())' | base64 -d | \(quoted)" }
            ?? "\(quoted) </dev/null"
        let end = marker(nonce: nonce)
        return "\(body); printf '\\n%s %d\\n' '\(end)' \"$?\"; printf '\\n%s\\n' '\(end)' >&2\n"
    }

    /// A random nonce of 16 hex digits.
    public static func newNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(format: "%016llx", generator.next() as UInt64)
    }
}

/// Collects a framed command's stdout and stderr until both end markers have arrived.
public struct ShellFrameParser {
    private let stdoutMarker: [UInt8]
    private let stderrMarker: [UInt8]
    private var out: [UInt8] = []
    private var err: [UInt8] = []
    private var status: Int32?
    // Where the next marker search starts, so long outputs are scanned once.
    private var outSearched = 0
    private var errSearched = 0
    private var stdoutBody: [UInt8]?
    private var stderrBody: [UInt8]?

    public init(nonce: String) {
        let marker = ShellFraming.marker(nonce: nonce)
        stdoutMarker = Array("\n\(marker) ".utf8)
        stderrMarker = Array("\n\(marker)\n".utf8)
    }

    public mutating func feedStdout(_ bytes: some Sequence<UInt8>) {
        guard stdoutBody == nil else { return }
        out.append(contentsOf: bytes)
        guard let start = Self.find(stdoutMarker, in: out, from: &outSearched) else { return }
        let rest = out[(start + stdoutMarker.count)...]
        guard let newline = rest.firstIndex(of: UInt8(ascii: "\n")) else { return }
        status = Int32(String(decoding: rest[rest.startIndex..<newline], as: UTF8.self))
        stdoutBody = Array(out[..<start])
    }

    public mutating func feedStderr(_ bytes: some Sequence<UInt8>) {
        guard stderrBody == nil else { return }
        err.append(contentsOf: bytes)
        if let start = Self.find(stderrMarker, in: err, from: &errSearched) { stderrBody = Array(err[..<start]) }
    }

    /// The result once both markers have been seen.
    public var result: CommandResult? {
        guard let stdoutBody, let stderrBody else { return nil }
        return CommandResult(status: status ?? -1,
                             stdout: String(decoding: stdoutBody, as: UTF8.self),
                             stderr: String(decoding: stderrBody, as: UTF8.self))
    }

    /// Finds `needle` at or after `from`; on a miss, moves `from` to where a later match could still start.
    public static func find(_ needle: [UInt8], in haystack: [UInt8], from: inout Int) -> Int? {
        guard haystack.count >= needle.count, let first = needle.first else { return nil }
        let last = haystack.count - needle.count
        var index = from
        while index <= last {
            if haystack[index] == first, haystack[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        from = index
        return nil
    }
}
