// One POSIX thread that can be joined: what the harness runs blocking SSH work on (one thread per
// host) and what the datapath's engines run on (pinned by the caller). pthread_create(3),
// pthread_join(3).

import Foundation
#if canImport(Glibc)
import Glibc
#endif

public final class JoinableThread: @unchecked Sendable {
    private var thread = pthread_t()

    /// Starts `body` on a new thread; nil if the system would not make one. What `body` captured is
    /// released on that thread when it ends, before `join` returns.
    public init?(_ body: @escaping () -> Void) {
        let work = Unmanaged.passRetained(Work(body)).toOpaque()
        let rc = pthread_create(&thread, nil, { context in
            Unmanaged<Work>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, work)
        guard rc == 0 else {
            Unmanaged<Work>.fromOpaque(work).release()
            return nil
        }
    }

    /// Waits until the thread has ended.
    public func join() { pthread_join(thread, nil) }

    private final class Work {
        private var body: (() -> Void)?
        init(_ body: @escaping () -> Void) { self.body = body }

        func run() {
            body?()
            body = nil
        }
    }
}
