// The parallel engine's core (the kernel's "vanilla" design): batches are queued in order per
// peer and, at the same time, on one work queue served by a pool of worker threads that seal or
// open them in any order; one consumer thread takes each peer's batches off the front of its queue
// strictly in order, as soon as the one at the front is done. Invariant: when a worker finishes
// the batch at the front of a peer's queue it wakes the consumer, so a finished head never waits
// (the kernel's 2026 RX stall was a missing wake-up there). Batches at other places need no
// wake-up: the consumer cannot deliver them before the head anyway.
//
// The queues hold batches unretained: batches come from the engine's pools, which own them for
// the engine's life, so a batch changes hands between threads without reference counting (the
// caller of `submit` keeps it alive until it is delivered).

import Foundation

final class OrderedPipeline: @unchecked Sendable {
    private let condition = NSCondition()
    private var work = Ring<Unmanaged<PacketBatch>>()
    private var queues: [Int: Ring<Unmanaged<PacketBatch>>] = [:]
    /// Peers (their ids) with batches queued, in the order their queues were created (consumer round-robin).
    private var keys: [Int] = []
    /// The peer whose batch the consumer is delivering with the lock released, if any.
    private var delivering: Int?
    private var stopping = false
    private var threads: [PinnedThread] = []
    private let workAvailable = NSCondition()
    private let process: @Sendable (PacketBatch) -> Void
    private let deliver: @Sendable (PacketBatch) -> Void

    /// `process` runs on the workers, `deliver` on the consumer, in order per key.
    init(name: String, workerCPUs: [[Int]], consumerCPUs: [Int],
         process: @escaping @Sendable (PacketBatch) -> Void, deliver: @escaping @Sendable (PacketBatch) -> Void) {
        self.process = process
        self.deliver = deliver
        for (number, cpus) in workerCPUs.enumerated() {
            threads.append(PinnedThread(name: "\(name)-w\(number)", cpus: cpus) { [self] in workerLoop(process) })
        }
        threads.append(PinnedThread(name: "\(name)-serial", cpus: consumerCPUs) { [self] in consumerLoop(deliver) })
    }

    /// Processes and delivers `batch` on the calling thread if peer `key` has nothing queued or
    /// being delivered (then nothing of the peer can be overtaken: batches are submitted by one
    /// thread per direction, which is busy here); false otherwise, and nothing was done.
    func runHereIfIdle(_ batch: PacketBatch, key: Int) -> Bool {
        condition.lock()
        let idle = queues[key]?.isEmpty != false && delivering != key
        condition.unlock()
        guard idle else { return false }
        process(batch)
        deliver(batch)
        return true
    }

    /// Queues `batch` behind the earlier batches of peer `key` and hands it to the workers.
    func submit(_ batch: PacketBatch, key: Int) {
        let unretained = Unmanaged.passUnretained(batch)
        condition.lock()
        batch.done = false
        batch.peer = key
        if queues[key] == nil {
            queues[key] = Ring()
            keys.append(key)
        }
        queues[key]!.append(unretained)
        condition.unlock()
        workAvailable.lock()
        work.append(unretained)
        workAvailable.signal()
        workAvailable.unlock()
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        workAvailable.lock()
        workAvailable.broadcast()
        workAvailable.unlock()
        for thread in threads { thread.join() }
        threads = []
    }

    private func workerLoop(_ process: (PacketBatch) -> Void) {
        while true {
            workAvailable.lock()
            while work.isEmpty && !isStopping { workAvailable.wait() }
            guard let next = work.popFirst() else {
                workAvailable.unlock()
                return
            }
            workAvailable.unlock()
            next._withUnsafeGuaranteedRef { batch in
                process(batch)
                condition.lock()
                batch.done = true
                if queues[batch.peer]?.first?.toOpaque() == next.toOpaque() { condition.signal() }  // the head re-wake
                condition.unlock()
            }
        }
    }

    private var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    private func consumerLoop(_ deliver: (PacketBatch) -> Void) {
        condition.lock()
        while !stopping {
            var delivered = false
            for position in keys.indices {  // (by index: iterating `keys` itself would retain its storage)
                let key = keys[position]
                while let head = queues[key]?.first, head._withUnsafeGuaranteedRef({ $0.done }) {
                    _ = queues[key]!.popFirst()
                    delivering = key
                    condition.unlock()
                    head._withUnsafeGuaranteedRef { deliver($0) }
                    condition.lock()
                    delivering = nil
                    delivered = true
                }
            }
            if !delivered { condition.wait() }
        }
        condition.unlock()
    }
}

/// A FIFO over a growable circular buffer: no allocation once it has reached its working size.
struct Ring<Element> {
    private var storage: [Element?] = Array(repeating: nil, count: 16)
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }
    var first: Element? { count == 0 ? nil : storage[head] }

    mutating func append(_ element: Element) {
        if count == storage.count {
            let old = (0..<count).map { storage[(head + $0) % storage.count] }
            storage = old + Array(repeating: nil, count: old.count)
            head = 0
        }
        storage[(head + count) % storage.count] = element
        count += 1
    }

    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return element
    }
}
