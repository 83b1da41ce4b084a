import Foundation
import Glibc

/// Runs `body` once per item, each on a thread of its own, and waits until every thread has
/// ended; results keep the input order. Blocking SSH calls must not wait for a free worker:
/// neither Swift's cooperative pool nor Dispatch's global queue on Linux grows past the core
/// count for blocked threads. The threads are joined, not just waited for, so nothing they held
/// (an SSH session, say) is released on them after this returns.
public func onEachHost<Item: Sendable, Value: Sendable>(
    _ items: [Item], _ body: @escaping @Sendable (Item) throws -> Value
) -> [Result<Value, Error>] {
    let slots = Slots<Value>(count: items.count)
    let jobs = items.enumerated().map { index, item in
        ThreadJob { slots.set(index, Result { try body(item) }) }
    }
    var threads: [pthread_t] = []
    for job in jobs {
        if let thread = job.start() { threads.append(thread) } else { job.run() }  // no thread to be had: run it here
    }
    for thread in threads { pthread_join(thread, nil) }
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

/// Work for one POSIX thread. What the work captured is released on that thread, before the join.
private final class ThreadJob: @unchecked Sendable {
    private var work: (() -> Void)?

    init(_ work: @escaping () -> Void) { self.work = work }

    func run() {
        work?()
        work = nil
    }

    /// `pthread_create`; nil if no thread could be made.
    func start() -> pthread_t? {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { context in
            Unmanaged<ThreadJob>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<ThreadJob>.fromOpaque(context).release()
            return nil
        }
        return thread
    }
}
