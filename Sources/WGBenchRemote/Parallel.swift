import Dispatch
import Foundation

/// Runs `body` once per item, each on a thread of its own, and waits for all; results keep the
/// input order. Blocking SSH calls must not wait for a free worker: neither Swift's cooperative
/// pool nor Dispatch's global queue on Linux grows past the core count for blocked threads.
public func onEachHost<Item: Sendable, Value: Sendable>(
    _ items: [Item], _ body: @escaping @Sendable (Item) throws -> Value
) -> [Result<Value, Error>] {
    let results = ResultBox<Value>(count: items.count)
    let group = DispatchGroup()
    for (index, item) in items.enumerated() {
        group.enter()
        let thread = Thread {
            results.set(index, Result { try body(item) })
            group.leave()
        }
        thread.start()
    }
    group.wait()
    return results.values
}

/// Like `onEachHost`, but throws the first error (in input order) once all have finished.
public func onEachHostOrThrow<Item: Sendable, Value: Sendable>(
    _ items: [Item], _ body: @escaping @Sendable (Item) throws -> Value
) throws -> [Value] {
    try onEachHost(items, body).map { try $0.get() }
}

private final class ResultBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<Value, Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<Value, Error>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    var values: [Result<Value, Error>] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}
