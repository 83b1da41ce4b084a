// Log lines that the network can cause (a junk datagram, a handshake), rate-limited as the
// kernel's net_ratelimit (lib/ratelimit.c) limits its wireguard debug lines: at most `logBurst`
// lines in each `logInterval`; the others are only counted, and the count is told in one
// "N messages suppressed" line once the interval is over. So a flood costs an increment per
// packet, not a formatted and written line, and the log stays bounded. Driven by the device's
// clock (`now`), tested with a manual one.

struct LogRateLimiter {
    private var begin = -Double.infinity
    private var printed = 0
    private var missed = 0

    /// Whether a line may be written at `now`; `suppressed`: how many the interval that just ended
    /// held back (0 if none, or if it has not ended), to be told before the line.
    mutating func admit(now: Double) -> (allowed: Bool, suppressed: Int) {
        let suppressed = expire(now: now)
        guard printed < WireConstants.logBurst else {
            missed += 1
            return (false, suppressed)
        }
        printed += 1
        return (true, suppressed)
    }

    /// Ends the interval if it is over (a new one begins at `now`): how many lines it held back.
    /// The device's timers call it, so that the count is told even when the flood has stopped.
    mutating func expire(now: Double) -> Int {
        guard now - begin >= WireConstants.logInterval else { return 0 }
        defer { (begin, printed, missed) = (now, 0, 0) }
        return missed
    }
}

extension Device {
    /// Writes a line through the rate limiter, under the lock; the text is made only if it is written.
    func logLimited(_ now: Double, _ message: @autoclosure () -> String) {
        guard let log_ else { return }
        let (allowed, suppressed) = logLimiter.admit(now: now)
        if suppressed > 0 { log_("\(suppressed) messages suppressed") }
        if allowed { log_(message()) }
    }

    /// Tells what the last interval suppressed, once it is over (the timers' tick), under the lock.
    func expireLogLimit(_ now: Double) {
        let suppressed = logLimiter.expire(now: now)
        if suppressed > 0 { log_?("\(suppressed) messages suppressed") }
    }
}
