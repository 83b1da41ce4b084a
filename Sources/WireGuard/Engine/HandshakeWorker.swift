// The handshake thread (the kernel's handshake work queue, wireguard-go's RoutineHandshake):
// serves the device's handshake queue, so that verifying mac1 and the X25519 of a handshake never
// run on a thread that reads or seals packets, and a flood of handshake messages costs the data
// path one copy per message. Every engine runs one; `stop` ends it.

import Foundation

public final class HandshakeWorker: @unchecked Sendable {
    private let stopping = StopFlag()
    private let lock = NSLock()
    private var thread: PinnedThread?

    public init(device: Device, tun: PacketSink, udp: DatagramSink) {
        thread = PinnedThread(name: "wg-handshake") { [self] in
            while !stopping.isSet {
                // Woken when the queue turns non-empty; the timeout bounds how long `stop` waits.
                device.serviceHandshakes(timeout: 0.1)?.deliver(tun: tun, udp: udp)
            }
        }
    }

    /// Ends the thread (within 100 ms) and waits for it; what is still queued stays there.
    public func stop() {
        stopping.set()
        lock.lock()
        let thread = self.thread
        self.thread = nil
        lock.unlock()
        thread?.join()
    }
}
