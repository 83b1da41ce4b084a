import WGBenchCore

/// One long-lived `/bin/sh` on a host, fed framed commands (see `ShellFraming`). The remote
/// user's start-up files run once, when the shell starts, not once per command: this is what
/// brings a round trip from hundreds of milliseconds down to about one.
///
/// Not thread-safe: `SSHHost` serialises access. After any failure the shell is unusable
/// (`isBroken`) and must be replaced.
final class PersistentShell {
    private let channel: SSH2Channel
    private let endpoint: SSHEndpoint
    private(set) var isBroken = false
    /// Extra time the client waits beyond the command's own limit before it gives up on the shell;
    /// the remote `timeout` normally fires first (after the limit plus its 2 s kill grace).
    static let clientGraceMilliseconds = 5000

    init(session: SSH2Session, endpoint: SSHEndpoint) throws {
        self.endpoint = endpoint
        let deadline = Deadline(milliseconds: max(endpoint.connectTimeoutMilliseconds, 10_000))
        channel = try session.openChannel(deadline: deadline)
        try channel.exec("exec /bin/sh", deadline: deadline)
        // Whatever the login shell printed before ours starts is discarded up to the ready marker.
        let nonce = ShellFraming.newNonce()
        try channel.write(Array(ShellFraming.readyLine(nonce: nonce).utf8), deadline: deadline)
        let ready = Array((ShellFraming.marker(nonce: nonce) + "\n").utf8)
        var seen: [UInt8] = []
        var searched = 0
        while ShellFrameParser.find(ready, in: seen, from: &searched) == nil {
            switch try channel.read(.stdout) {
            case .data(let bytes): seen += bytes
            case .wouldBlock: try session.waitSocket(deadline, doing: "waiting for the remote shell")
            case .endOfFile:
                _ = try? channel.read(.stderr)
                throw SSH2Failure(message: "the remote shell exited at start-up", timedOut: false)
            }
            _ = try channel.read(.stderr)  // drain start-up noise so the window never fills
        }
    }

    func run(_ command: Command) throws -> CommandResult {
        precondition(!isBroken, "a broken shell must be replaced")
        let nonce = ShellFraming.newNonce()
        let line = ShellFraming.line(for: command, defaultTimeout: endpoint.commandTimeout, nonce: nonce)
        let limit = (command.timeout ?? endpoint.commandTimeout).milliseconds
        let deadline = Deadline(milliseconds: limit + 2000 + Self.clientGraceMilliseconds)
        var parser = ShellFrameParser(nonce: nonce)
        do {
            try channel.write(Array(line.utf8), deadline: deadline)
            while parser.result == nil {
                var progressed = false
                for stream in [SSH2Channel.Stream.stdout, .stderr] {
                    switch try channel.read(stream) {
                    case .data(let bytes):
                        progressed = true
                        if stream == .stdout { parser.feedStdout(bytes) } else { parser.feedStderr(bytes) }
                    case .endOfFile:
                        isBroken = true
                        throw RemoteError.sessionFailed(host: endpoint.name, address: endpoint.address,
                                                        reason: "the remote shell exited while running `\(command)`")
                    case .wouldBlock:
                        break
                    }
                }
                if !progressed && parser.result == nil {
                    try channel.session.waitSocket(deadline, doing: "waiting for `\(command)`")
                }
            }
        } catch let error as SSH2Failure {
            isBroken = true
            if error.timedOut {
                throw RemoteError.timedOut(host: endpoint.name, address: endpoint.address, command: command.description,
                                           seconds: Double(limit) / 1000)
            }
            throw RemoteError.sessionFailed(host: endpoint.name, address: endpoint.address, reason: error.message)
        }
        let result = parser.result!
        if result.status == ShellFraming.timeoutStatus, command.program != "timeout" {
            throw RemoteError.timedOut(host: endpoint.name, address: endpoint.address, command: command.description,
                                       seconds: Double(limit) / 1000)
        }
        return result
    }
}
