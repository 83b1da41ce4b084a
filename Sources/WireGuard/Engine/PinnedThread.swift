// A POSIX thread, optionally pinned to a set of CPUs, that can be joined. The engines' threads.

import CShims
import Foundation

public final class PinnedThread: @unchecked Sendable {
    private var thread = pthread_t()

    /// Starts `body` on a new thread pinned to `cpus` (all allowed CPUs when empty).
    public init(name: String, cpus: [Int] = [], body: @escaping @Sendable () -> Void) {
        let start = Unmanaged.passRetained(Box {
            wgb_name_self(name)
            PinnedThread.pinCurrent(to: cpus)
            body()
        })
        let rc = pthread_create(&thread, nil, { context in
            let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
            box.body()
            return nil
        }, start.toOpaque())
        precondition(rc == 0, "pthread_create \(name): \(rc)")
    }

    public func join() { pthread_join(thread, nil) }

    /// Pins the calling thread; an empty list leaves it where it is.
    @discardableResult
    public static func pinCurrent(to cpus: [Int]) -> Bool {
        guard !cpus.isEmpty else { return true }
        return cpus.withUnsafeBufferPointer { buffer in
            let ints = buffer.map { Int32($0) }
            return ints.withUnsafeBufferPointer { wgb_pin_self($0.baseAddress, Int32($0.count)) == 0 }
        }
    }

    /// How many CPUs this process may use.
    public static var allowedCPUs: Int { Int(wgb_allowed_cpus()) }

    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }
}
