// Receive-side replay protection (whitepaper 5.4.6, RFC 6479): a sliding window of 8192 bits
// over the 64-bit transport counters, as the kernel's counter_validate. Invariant: a counter
// is accepted once, and only if it is newer than the window's bottom and below the reject limit.

/// The sliding window of one receiving key. Its bitmap lives in memory of its own, owned by this
/// non-copyable value: a session checks it per packet without touching a reference count.
public struct ReplayCounter: ~Copyable, @unchecked Sendable {
    static let bitsTotal = 8192
    static let bitsPerWord = 64
    static let words = bitsTotal / bitsPerWord
    /// How far behind the newest counter a packet may still arrive.
    public static let windowSize = UInt64(bitsTotal - bitsPerWord)

    private var newest: UInt64 = 0
    private let bitmap: UnsafeMutablePointer<UInt64>

    public init() {
        bitmap = .allocate(capacity: Self.words)
        bitmap.initialize(repeating: 0, count: Self.words)
    }

    deinit { bitmap.deallocate() }

    /// True the first time a counter in the window is seen; false for replays, counters too old
    /// for the window, and counters at or past the reject limit.
    public mutating func accept(_ counter: UInt64) -> Bool {
        guard newest < WireConstants.rejectAfterMessages + 1, counter < WireConstants.rejectAfterMessages else { return false }
        let theirs = counter + 1
        guard Self.windowSize + theirs >= newest else { return false }
        var index = Int(truncatingIfNeeded: theirs >> 6)
        if theirs > newest {
            let current = Int(truncatingIfNeeded: newest >> 6)
            let top = min(index - current, Self.words)
            if top >= 1 { for i in 1...top { bitmap[(i + current) & (Self.words - 1)] = 0 } }
            newest = theirs
        }
        index &= Self.words - 1
        let bit = UInt64(1) << (theirs & 63)
        defer { bitmap[index] |= bit }
        return bitmap[index] & bit == 0
    }
}
