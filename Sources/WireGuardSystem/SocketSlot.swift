// The UDP socket of the moment: `wg set listen-port` replaces it, while the engines keep sending
// through this one object. Sockets are opened by a closure: UDPSocket in the daemon, an in-memory
// one in tests.

import Foundation
import WireGuard

public final class SocketSlot: DatagramSink, @unchecked Sendable {
    private let lock = NSLock()
    private var socket: BoundSocket?
    private var port: UInt16 = 0
    private let open: (UInt16) throws -> BoundSocket

    /// `open` binds a socket to a port (0: an ephemeral one).
    public init(open: @escaping (UInt16) throws -> BoundSocket) { self.open = open }

    public var current: BoundSocket? {
        lock.lock()
        defer { lock.unlock() }
        return socket
    }

    /// Binds the port the configuration names, if it changed; for 0, an ephemeral port, which
    /// `bound` is told of (the device then names it). A port that cannot be bound leaves no socket:
    /// the next call tries again.
    public func follow(_ wanted: UInt16, bound: (UInt16) -> Void = { _ in }) {
        lock.lock()
        defer { lock.unlock() }
        guard wanted != port || socket == nil else { return }
        socket = nil
        socket = try? open(wanted)
        port = socket?.port ?? 0
        if wanted == 0, let socket { bound(socket.port) }
    }

    public func send(_ batch: PacketBatch) { current?.send(batch) }
    public func send(_ payload: [UInt8], to endpoint: Endpoint) { current?.send(payload, to: endpoint) }
}
