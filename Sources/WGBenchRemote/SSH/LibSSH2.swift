import CLibSSH2
import Foundation
import Glibc

// The only file that touches libssh2 pointers. Sessions run in non-blocking mode: every call
// that would block returns EAGAIN, and we wait on the socket with poll(2) up to a deadline, so
// no operation can hang past its limit.

/// A libssh2 call that failed, with libssh2's own message.
struct SSH2Failure: Error {
    let message: String
    let timedOut: Bool
}

private let libraryReady: Bool = libssh2_init(0) == 0

/// One SSH transport connection (`LIBSSH2_SESSION`) over a connected TCP socket, which it owns.
final class SSH2Session {
    private let session: OpaquePointer
    private let socket: Int32

    /// Takes ownership of `socket` (closed in deinit) and performs the SSH handshake.
    init(socket: Int32, deadline: Deadline) throws {
        guard libraryReady, let session = wgb_ssh2_session_init() else {
            close(socket)
            throw SSH2Failure(message: "libssh2 could not start a session", timedOut: false)
        }
        self.session = session
        self.socket = socket
        libssh2_session_set_blocking(session, 0)
        try call(deadline, "SSH handshake") { libssh2_session_handshake(session, socket) }
    }

    deinit {
        // Best effort: the peer may be gone already, and disconnect must not block.
        _ = wgb_ssh2_session_disconnect(session, "wgbench done")
        libssh2_session_free(session)
        close(socket)
    }

    // MARK: Host key

    /// The server's host key as the SSH wire blob (type name, then key material).
    func hostKey() -> [UInt8]? {
        var length = 0
        var type: Int32 = 0
        guard let key = libssh2_session_hostkey(session, &length, &type), length > 0 else { return nil }
        return key.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    /// `SHA256:<base64>` as OpenSSH prints it.
    func hostKeyFingerprint() -> String {
        guard let hash = libssh2_hostkey_hash(session, Int32(LIBSSH2_HOSTKEY_HASH_SHA256)) else { return "unknown" }
        let bytes = hash.withMemoryRebound(to: UInt8.self, capacity: 32) { Array(UnsafeBufferPointer(start: $0, count: 32)) }
        return "SHA256:" + Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    enum KnownHostCheck { case match, mismatch, pinnedWithAnotherType, notFound, unreadable(String) }

    /// Looks the session's host key up in an OpenSSH known_hosts file.
    func checkKnownHost(file: String, host: String, port: Int32) -> KnownHostCheck {
        var length = 0
        var type: Int32 = 0
        guard let key = libssh2_session_hostkey(session, &length, &type) else { return .unreadable("the server sent no host key") }
        guard let known = libssh2_knownhost_init(session) else { return .unreadable("libssh2_knownhost_init failed") }
        defer { libssh2_knownhost_free(known) }
        guard FileManager.default.fileExists(atPath: file) else { return .notFound }
        if wgb_ssh2_knownhost_readfile(known, file) < 0 { return .unreadable("cannot parse \(file): \(lastError())") }
        let mask = wgb_ssh2_knownhost_typemask(wgb_ssh2_knownhost_keytype(type))
        switch libssh2_knownhost_checkp(known, host, port, key, length, mask, nil) {
        case Int32(LIBSSH2_KNOWNHOST_CHECK_MATCH): return .match
        case Int32(LIBSSH2_KNOWNHOST_CHECK_MISMATCH): return .mismatch
        case Int32(LIBSSH2_KNOWNHOST_CHECK_NOTFOUND):
            // libssh2 looks only at entries of the offered key's type: a host pinned with a key of
            // another type reads "not found", and accept-new would add the new type beside the pin.
            // Compared with the entries of every type, it is a mismatch.
            let anyType = libssh2_knownhost_checkp(known, host, port, key, length, wgb_ssh2_knownhost_anytype_mask(), nil)
            return anyType == Int32(LIBSSH2_KNOWNHOST_CHECK_MISMATCH) ? .pinnedWithAnotherType : .notFound
        default: return .unreadable(lastError())
        }
    }

    // MARK: Authentication

    func authenticate(user: String, privateKey: String, publicKey: String?, deadline: Deadline) throws {
        try call(deadline, "public key authentication") {
            wgb_ssh2_userauth_publickey_fromfile(session, user, UInt32(user.utf8.count), publicKey, privateKey)
        }
    }

    // MARK: Channels

    func openChannel(deadline: Deadline) throws -> SSH2Channel {
        while true {
            if let channel = wgb_ssh2_channel_open_session(session) { return SSH2Channel(channel, session: self) }
            let code = libssh2_session_last_errno(session)
            guard code == LIBSSH2_ERROR_EAGAIN else { throw failure("opening a channel", code) }
            try waitSocket(deadline, doing: "opening a channel")
        }
    }

    // MARK: Plumbing

    /// Repeats a non-blocking libssh2 call until it stops saying EAGAIN; negative results throw.
    @discardableResult
    func call(_ deadline: Deadline, _ what: String, _ operation: () -> Int32) throws -> Int32 {
        while true {
            let rc = operation()
            if rc >= 0 { return rc }
            guard rc == LIBSSH2_ERROR_EAGAIN else { throw failure(what, rc) }
            try waitSocket(deadline, doing: what)
        }
    }

    /// Waits until the socket is ready in the direction libssh2 is blocked on, or the deadline passes.
    func waitSocket(_ deadline: Deadline, doing what: String) throws {
        let directions = libssh2_session_block_directions(session)
        var events: Int16 = 0
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        if events == 0 { events = Int16(POLLIN) }
        var pfd = pollfd(fd: socket, events: events, revents: 0)
        while true {
            let remaining = deadline.remainingMilliseconds
            if remaining == 0 { throw SSH2Failure(message: "\(what): timed out", timedOut: true) }
            let ready = poll(&pfd, 1, remaining)
            if ready > 0 || (ready < 0 && errno != EINTR) { return }
        }
    }

    func lastError() -> String {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        libssh2_session_last_error(session, &message, &length, 0)
        return message.map { String(cString: $0) } ?? "unknown libssh2 error"
    }

    func failure(_ what: String, _ code: Int32) -> SSH2Failure {
        SSH2Failure(message: "\(what): \(lastError()) (libssh2 error \(code))", timedOut: code == LIBSSH2_ERROR_TIMEOUT)
    }
}

/// One channel (`LIBSSH2_CHANNEL`) of a session: a remote command with stdin, stdout and stderr.
final class SSH2Channel {
    private let channel: OpaquePointer
    /// Kept alive while the channel is: libssh2 frees channels through their session.
    let session: SSH2Session

    fileprivate init(_ channel: OpaquePointer, session: SSH2Session) {
        self.channel = channel
        self.session = session
    }

    deinit {
        _ = libssh2_channel_close(channel)
        libssh2_channel_free(channel)
    }

    func exec(_ command: String, deadline: Deadline) throws {
        let channel = self.channel
        try session.call(deadline, "starting the remote command") {
            wgb_ssh2_channel_exec(channel, command, UInt32(command.utf8.count))
        }
    }

    /// Writes all of `bytes` to the remote command's standard input.
    func write(_ bytes: [UInt8], deadline: Deadline) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    wgb_ssh2_channel_write(channel, $0 + offset, buffer.count - offset)
                }
            }
            if written >= 0 {
                offset += written
            } else if written == LIBSSH2_ERROR_EAGAIN {
                try session.waitSocket(deadline, doing: "sending to the remote shell")
            } else {
                throw session.failure("sending to the remote shell", Int32(written))
            }
        }
    }

    enum Stream: Int32 { case stdout = 0, stderr = 1 }

    /// What one non-blocking read gave.
    enum ReadResult { case data([UInt8]), wouldBlock, endOfFile }

    func read(_ stream: Stream, maxBytes: Int = 65536) throws -> ReadResult {
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        let count = buffer.withUnsafeMutableBufferPointer { raw in
            raw.baseAddress!.withMemoryRebound(to: CChar.self, capacity: maxBytes) {
                wgb_ssh2_channel_read(channel, stream.rawValue, $0, maxBytes)
            }
        }
        if count > 0 { return .data(Array(buffer[..<count])) }
        if count == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
        if count == 0 { return libssh2_channel_eof(channel) != 0 ? .endOfFile : .wouldBlock }
        throw session.failure("reading from the remote command", Int32(count))
    }

    /// Closes the channel and returns the remote exit status.
    func finish(deadline: Deadline) throws -> Int32 {
        let channel = self.channel
        try session.call(deadline, "closing the channel") { libssh2_channel_close(channel) }
        try session.call(deadline, "waiting for the channel to close") { libssh2_channel_wait_closed(channel) }
        return libssh2_channel_get_exit_status(channel)
    }
}
