import Foundation
import WGBenchCore

/// An authenticated SSH connection to one host: TCP connect with a bounded time, handshake,
/// host key check against known_hosts, public key authentication.
public final class SSHConnection {
    public let endpoint: SSHEndpoint
    let session: SSH2Session

    public init(_ endpoint: SSHEndpoint) throws {
        self.endpoint = endpoint
        let deadline = Deadline(milliseconds: endpoint.connectTimeoutMilliseconds)
        let socket: Int32
        do {
            socket = try TCPSocket.connect(host: endpoint.address, port: endpoint.port,
                                           timeoutMilliseconds: endpoint.connectTimeoutMilliseconds)
        } catch let error as TCPSocket.Failure {
            throw RemoteError.unreachable(host: endpoint.name, address: endpoint.address, port: endpoint.port, reason: error.reason)
        }
        do {
            session = try SSH2Session(socket: socket, deadline: deadline)
        } catch let error as SSH2Failure {
            throw RemoteError.unreachable(host: endpoint.name, address: endpoint.address, port: endpoint.port,
                                          reason: "SSH handshake failed: \(error.message)")
        }
        try verifyHostKey()
        try authenticate(deadline: deadline)
    }

    private func verifyHostKey() throws {
        let reject = { (reason: String) in
            RemoteError.hostKeyRejected(host: self.endpoint.name, address: self.endpoint.address, reason: reason)
        }
        let fingerprint = session.hostKeyFingerprint()
        switch session.checkKnownHost(file: endpoint.knownHosts, host: endpoint.address, port: Int32(endpoint.port)) {
        case .match:
            return
        case .mismatch:
            throw reject("the key (\(fingerprint)) does NOT match the one recorded in \(endpoint.knownHosts): "
                         + "the host was reinstalled or someone is in the middle; remove the old entry only if you know which")
        case .pinnedWithAnotherType:
            throw reject("\(endpoint.knownHosts) pins this host with a key of another type, and the host now offers "
                         + "\(session.hostKey().flatMap(KnownHostsLine.keyType) ?? "another key") (\(fingerprint)): treated as a mismatch, "
                         + "whatever host_key_checking says; remove the old entry only if you know the host changed its keys")
        case .unreadable(let why):
            throw reject(why)
        case .notFound:
            guard endpoint.hostKeyPolicy == .acceptNew else {
                throw reject("the host is not in \(endpoint.knownHosts) and host_key_checking is strict (key \(fingerprint)); "
                             + "add it with ssh-keyscan after checking the fingerprint, or set host_key_checking: accept-new")
            }
            guard let key = session.hostKey(), let line = KnownHostsLine.format(host: endpoint.address, port: endpoint.port, keyBlob: key)
            else { throw reject("cannot read the host key") }
            do {
                try KnownHostsLine.append(line, to: endpoint.knownHosts)
            } catch {
                throw reject("cannot record the new key in \(endpoint.knownHosts): \(error)")
            }
        }
    }

    private func authenticate(deadline: Deadline) throws {
        let fail = { (reason: String) in
            RemoteError.authenticationFailed(host: self.endpoint.name, address: self.endpoint.address,
                                             user: self.endpoint.user, reason: reason)
        }
        guard FileManager.default.isReadableFile(atPath: endpoint.identity) else {
            throw fail("the identity file \(endpoint.identity) does not exist or is not readable")
        }
        if let problem = IdentityFile.problem(endpoint.identity) { throw fail(problem) }
        let publicKey = endpoint.identity + ".pub"
        do {
            try session.authenticate(user: endpoint.user, privateKey: endpoint.identity,
                                     publicKey: FileManager.default.fileExists(atPath: publicKey) ? publicKey : nil,
                                     deadline: deadline)
        } catch let error as SSH2Failure {
            throw fail("the key \(endpoint.identity) was not accepted (\(error.message))")
        }
    }

    /// Opens the long-lived remote shell that `SSHHost` runs all its commands through.
    func openShell() throws -> PersistentShell {
        do {
            return try PersistentShell(session: session, endpoint: endpoint)
        } catch let error as SSH2Failure {
            throw RemoteError.sessionFailed(host: endpoint.name, address: endpoint.address,
                                            reason: "cannot start the remote shell: \(error.message)")
        }
    }

    /// Runs one command on a channel of its own and waits for it: the classic `ssh host cmd`
    /// path, with the remote user's shell start-up each time. Used as the baseline in `bench ssh`.
    public func runOnce(_ command: Command) throws -> CommandResult {
        let seconds = (command.timeout ?? endpoint.commandTimeout).seconds
        let deadline = Deadline(milliseconds: Int(seconds * 1000))
        do {
            let channel = try session.openChannel(deadline: deadline)
            try channel.exec(command.description, deadline: deadline)
            var out: [UInt8] = [], err: [UInt8] = []
            var outDone = false, errDone = false
            while !(outDone && errDone) {
                var progressed = false
                for (stream, isDone) in [(SSH2Channel.Stream.stdout, outDone), (.stderr, errDone)] where !isDone {
                    switch try channel.read(stream) {
                    case .data(let bytes):
                        progressed = true
                        if stream == .stdout { out += bytes } else { err += bytes }
                    case .endOfFile:
                        if stream == .stdout { outDone = true } else { errDone = true }
                    case .wouldBlock:
                        break
                    }
                }
                if !progressed && !(outDone && errDone) { try session.waitSocket(deadline, doing: "reading the output") }
            }
            let status = try channel.finish(deadline: deadline)
            return CommandResult(status: status, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
        } catch let error as SSH2Failure {
            if error.timedOut {
                throw RemoteError.timedOut(host: endpoint.name, address: endpoint.address, command: command.description, seconds: seconds)
            }
            throw RemoteError.sessionFailed(host: endpoint.name, address: endpoint.address, reason: error.message)
        }
    }
}
