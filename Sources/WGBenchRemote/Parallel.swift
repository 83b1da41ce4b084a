import Dispatch
import Foundation

/// Runs `body` once per item on its own thread and waits for all; results keep the input order.
/// Blocking SSH calls must not run on Swift's cooperative pool (two threads on two cores), so
/// this uses Dispatch's global queue, which grows threads for blocking work.
public func onEachHost<Item: Sendable, Value: Sendable>(
    _ items: [Item], _ body: @escaping @Sendable (Item) throws -> Value
) -> [Result<Value, Error>] {
    let results = ResultBox<Value>(count: items.count)
    let group = DispatchGroup()
    for (index, item) in items.enumerated() {
        DispatchQueue.global().async(group: group) {
            results.set(index, Result { try body(item) })
        }
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
