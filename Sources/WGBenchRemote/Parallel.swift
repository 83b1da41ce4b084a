import Foundation
import POSIXThread

/// Runs `body` once per item, each on a thread of its own, and waits until every thread has
/// ended; results keep the input order. Blocking SSH calls must not wait for a free worker:
/// neither Swift's cooperative pool nor Dispatch's global queue on Linux grows past the core
/// count for blocked threads. The threads are joined, not just waited for, so nothing they held
/// (an SSH session, say) is released on them after this returns.
public func onEachHost<Item: Sendable, Value: Sendable>(
    _ items: [Item], _ body: @escaping @Sendable (Item) throws -> Value
) -> [Result<Value, Error>] {
    let slots = Slots<Value>(count: items.count)
    var threads: [JoinableThread] = []
    for (index, item) in items.enumerated() {
        let work = { slots.set(index, Result { try body(item) }) }
        if let thread = JoinableThread(work) { threads.append(thread) } else { work() }  // no thread to be had: run it here
    }
    for thread in threads { thread.join() }
    return slots.values.map { $0! }
}

/// Like `onEachHost`, but throws the first error (in input order) once all have finished.
public func onEachHostOrThrow<Item: Sendable, Value: Sendable>(
    _ items: [Item], _ body: @escaping @Sendable (Item) throws -> Value
) throws -> [Value] {
    try onEachHost(items, body).map { try $0.get() }
}

/// Results by index, filled by the threads.
private final class Slots<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<Value, Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Result<Value, Error>) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    var values: [Result<Value, Error>?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}
