// Handshake messages leave the data path here (the kernel's handshake_queue, wireguard-go's
// queue.handshake): the thread that reads datagrams only checks a message's type and length and
// copies it in; the handshake thread takes them out in batches and does the costly part (mac1,
// X25519). Bounded: when full, the newest are dropped and counted, so that a flood costs the
// reader one copy per message and cannot grow memory. The consumer is woken only when the queue
// turns non-empty (it drains what is there before it sleeps again): a flood does not cost a
// thread switch per message. Its length is the device's measure of load.

import Foundation

public final class HandshakeQueue: @unchecked Sendable {
    public typealias Entry = (message: [UInt8], source: Endpoint, receivedAt: Double)

    public let capacity: Int
    /// The largest handshake message (an initiation).
    static let slotSize = WireConstants.initiationLength
    private let condition = NSCondition()
    /// `capacity` slots of `slotSize` bytes, with each one's length, source and arrival time; a
    /// ring whose oldest entry is at `head`.
    private let storage: UnsafeMutableRawPointer
    private var lengths: [Int]
    private var sources: [Endpoint]
    private var times: [Double]
    private var head = 0
    private var count_ = 0
    /// When the queue was last found at least as long as the load threshold.
    private var lastLong = -Double.infinity

    public init(capacity: Int = WireConstants.maxQueuedHandshakes) {
        precondition(capacity > 0)
        self.capacity = capacity
        storage = .allocate(byteCount: capacity * Self.slotSize, alignment: 16)
        lengths = Array(repeating: 0, count: capacity)
        sources = Array(repeating: Endpoint(ipv4: 0, port: 0), count: capacity)
        times = Array(repeating: 0, count: capacity)
    }

    deinit { storage.deallocate() }

    /// How many messages wait.
    public var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return count_
    }

    /// Copies the message in (at most `slotSize` bytes: the caller checked its length), with when
    /// it was read (the time it is handled at); false (dropped) when the queue is full.
    func push(_ message: UnsafeRawBufferPointer, from source: Endpoint, receivedAt: Double) -> Bool {
        precondition(message.count <= Self.slotSize)
        condition.lock()
        defer { condition.unlock() }
        guard count_ < capacity else { return false }
        let slot = (head + count_) % capacity
        (storage + slot * Self.slotSize).copyMemory(from: message.baseAddress!, byteCount: message.count)
        lengths[slot] = message.count
        sources[slot] = source
        times[slot] = receivedAt
        count_ += 1
        if count_ == 1 { condition.signal() }
        return true
    }

    /// Up to `limit` of the oldest messages, waiting up to `timeout` seconds for one; empty if none came.
    func pop(upTo limit: Int, timeout: Double) -> [Entry] {
        condition.lock()
        defer { condition.unlock() }
        if count_ == 0 {
            _ = condition.wait(until: Date(timeIntervalSinceNow: timeout))
        }
        var entries: [Entry] = []
        entries.reserveCapacity(min(limit, count_))
        while count_ > 0 && entries.count < limit {
            let bytes = UnsafeRawBufferPointer(start: storage + head * Self.slotSize, count: lengths[head])
            entries.append((Array(bytes), sources[head], times[head]))
            head = (head + 1) % capacity
            count_ -= 1
        }
        return entries
    }

    /// The kernel's measure of load: at least `threshold` messages wait, or did less than
    /// UNDER_LOAD_AFTER_TIME before `now` (the time of the message being handled).
    func underLoad(now: Double, threshold: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if count_ >= threshold {
            lastLong = max(lastLong, now)
            return true
        }
        return now - lastLong < WireConstants.underLoadAfterTime
    }
}
