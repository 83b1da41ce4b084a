// The engines' threads: a joinable POSIX thread, named and optionally pinned to a set of CPUs.

import CShims
import Foundation
import POSIXThread

public final class PinnedThread: @unchecked Sendable {
    private let thread: JoinableThread

    /// Starts `body` on a new thread pinned to `cpus` (all allowed CPUs when empty).
    public init(name: String, cpus: [Int] = [], body: @escaping @Sendable () -> Void) {
        guard let thread = JoinableThread({
            wgb_name_self(name)
            PinnedThread.pinCurrent(to: cpus)
            body()
        }) else { preconditionFailure("no thread could be made for \(name)") }
        self.thread = thread
    }

    public func join() { thread.join() }

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

}
