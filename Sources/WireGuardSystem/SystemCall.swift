// The one place that retries a system call a signal interrupted (EINTR): the daemon takes
// SIGTERM, SIGINT and SIGUSR1, and any of them may land in the middle of a read, a write or a
// poll. Every call that can fail with EINTR goes through here; the C shims retry on their own.

import Glibc

/// Calls `call` until it does not fail with EINTR; returns its result (errno holds the error of a
/// negative one).
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
