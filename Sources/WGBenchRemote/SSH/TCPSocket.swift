import Glibc

/// Opens a TCP connection with a bounded connect time; the descriptor is left non-blocking,
/// as libssh2 is driven in non-blocking mode. `connect(2)`, `poll(2)`, `getaddrinfo(3)`.
enum TCPSocket {
    struct Failure: Error { let reason: String }

    static func connect(host: String, port: UInt16, timeoutMilliseconds: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw Failure(reason: "cannot resolve the address: \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }

        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw Failure(reason: "socket: \(errnoText())") }
        var ok = false
        defer { if !ok { close(fd) } }

        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var one: Int32 = 1
        // Commands are small request/response exchanges: Nagle would add tens of milliseconds.
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))

        if Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else { throw Failure(reason: describe(errno)) }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            var ready: Int32
            repeat { ready = poll(&pfd, 1, Int32(clamping: timeoutMilliseconds)) } while ready < 0 && errno == EINTR
            guard ready > 0 else {
                throw Failure(reason: "no answer within \(Double(timeoutMilliseconds) / 1000) s (host down or filtered?)")
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else { throw Failure(reason: describe(error)) }
        }
        ok = true
        return fd
    }

    private static func describe(_ code: Int32) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused (is sshd running and listening there?)"
        case EHOSTUNREACH, ENETUNREACH: return "no route to the host (\(String(cString: strerror(code))))"
        default: return String(cString: strerror(code))
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
