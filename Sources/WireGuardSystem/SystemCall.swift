// The one place that wraps a system call of the daemon's I/O (swift-nio's System.swift): a call
// a signal interrupted (EINTR) is retried (the daemon takes SIGTERM, SIGINT and SIGUSR1, and any
// of them may land in the middle of a read, a write or a poll); on a non-blocking descriptor,
// "nothing now" (EAGAIN) is a value, `.wouldBlock`; any other failure is a `SystemError` naming
// the call and its errno. The C shims retry EINTR on their own and return -errno.
// On the success path nothing is allocated: the error is a struct, thrown as a typed error.

import Glibc

/// What a non-blocking system call did (swift-nio's `IOResult`).
public enum IOResult<Value: Equatable & Sendable>: Equatable, Sendable {
    /// It did its work: for a read or a write, the byte count.
    case processed(Value)
    /// The descriptor had nothing to give or no room to take now (EAGAIN, EWOULDBLOCK).
    case wouldBlock
}

/// Calls `call`, a system call that returns -1 and sets errno on failure, until no signal
/// interrupts it (EINTR): its result, `.wouldBlock` for EAGAIN, or a `SystemError` named `name`.
@inline(__always)
func systemCall(_ name: StaticString, _ call: () -> Int) throws(SystemError) -> IOResult<Int> {
    while true {
        let result = call()
        if result >= 0 { return .processed(result) }
        let code = errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
        throw SystemError(call: name.description, code: code)
    }
}

/// The result of a C shim that retried EINTR itself and returns -errno on failure, as `systemCall` says it.
@inline(__always)
func shimResult(_ name: StaticString, _ result: Int) throws(SystemError) -> IOResult<Int> {
    if result >= 0 { return .processed(result) }
    let code = Int32(-result)
    if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
    throw SystemError(call: name.description, code: code)
}

/// Calls `call` until it does not fail with EINTR; returns its result (errno holds the error of a
/// negative one). For calls whose failure is not an I/O result (poll).
@inline(__always)
func retryingEINTR<Result: SignedInteger>(_ call: () -> Result) -> Result {
    while true {
        let result = call()
        if result >= 0 || errno != EINTR { return result }
    }
}

/// Seconds on the monotonic clock: clock_gettime(CLOCK_MONOTONIC).
public func monotonicNow() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
