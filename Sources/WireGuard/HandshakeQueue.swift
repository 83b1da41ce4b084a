// Handshake messages leave the data path here (the kernel's handshake_queue, wireguard-go's
// queue.handshake): the thread that reads datagrams only checks a message's type and length and
// copies it in; the handshake thread takes them out and does the costly part (mac1, X25519).
// Bounded: when full, the newest are dropped and counted, so that a flood costs the reader one
// copy per message and cannot grow memory. Its length is the device's measure of load.

import Foundation

public final class HandshakeQueue: @unchecked Sendable {
    public let capacity: Int
    private let condition = NSCondition()
    /// A ring of `capacity` entries; `head` is the oldest.
    private var ring: [(message: [UInt8], source: Endpoint, receivedAt: Double)?]
    private var head = 0
    private var count_ = 0

    public init(capacity: Int = WireConstants.maxQueuedHandshakes) {
        precondition(capacity > 0)
        self.capacity = capacity
        ring = Array(repeating: nil, count: capacity)
    }

    /// How many messages wait.
    public var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return count_
    }

    /// Copies the message in, with when it was read (the time it is handled at); false (dropped)
    /// when the queue is full.
    func push(_ message: UnsafeRawBufferPointer, from source: Endpoint, receivedAt: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard count_ < capacity else { return false }
        ring[(head + count_) % capacity] = (Array(message), source, receivedAt)
        count_ += 1
        condition.signal()
        return true
    }

    /// The oldest message, waiting up to `timeout` seconds for one; nil if none came.
    func pop(timeout: Double) -> (message: [UInt8], source: Endpoint, receivedAt: Double)? {
        condition.lock()
        defer { condition.unlock() }
        if count_ == 0 {
            _ = condition.wait(until: Date(timeIntervalSinceNow: timeout))
            guard count_ > 0 else { return nil }
        }
        let entry = ring[head]
        ring[head] = nil
        head = (head + 1) % capacity
        count_ -= 1
        return entry
    }
}
