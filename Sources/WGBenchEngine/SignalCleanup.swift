import Dispatch
import Foundation
import Glibc

/// Runs a clean-up when SIGINT or SIGTERM arrives, then exits with 128 + the signal number.
/// Long operations (bringing a testbed up, a run) install one, so that Ctrl-C leaves hosts clean.
public final class SignalCleanup: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "wgbench.signals")

    public init(_ cleanup: @escaping @Sendable () -> Void) {
        for signo in [SIGINT, SIGTERM] {
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: queue)
            source.setEventHandler {
                FileHandle.standardError.write(Data("\nwgbench: signal \(signo) received, cleaning up…\n".utf8))
                cleanup()
                exit(128 + signo)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Restores the default behaviour.
    public func cancel() {
        for source in sources { source.cancel() }
        sources = []
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
