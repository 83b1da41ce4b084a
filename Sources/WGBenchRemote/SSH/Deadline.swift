import Glibc

/// A point on the monotonic clock by which an operation must finish.
struct Deadline {
    let nanoseconds: UInt64

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    init(milliseconds: Int) {
        nanoseconds = Self.now() + UInt64(max(0, milliseconds)) * 1_000_000
    }

    /// Milliseconds left, at least 0.
    var remainingMilliseconds: Int32 {
        let now = Self.now()
        guard nanoseconds > now else { return 0 }
        return Int32(clamping: (nanoseconds - now + 999_999) / 1_000_000)
    }
}
