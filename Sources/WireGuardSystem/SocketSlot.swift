// The UDP socket of the moment: `wg set listen-port` replaces it (and `wg set fwmark` marks it), while the engines keep sending
// through this one object. Sockets are opened by a closure: UDPSocket in the daemon, an in-memory
// one in tests.

import Foundation
import WireGuard

public final class SocketSlot: DatagramSink, @unchecked Sendable {
    private let lock = NSLock()
    private var socket: BoundSocket?
    private var port: UInt16 = 0
    /// The mark the socket carries (nil: not set yet).
    private var mark: UInt32?
    private let open: (UInt16) throws -> BoundSocket

    /// `open` binds a socket to a port (0: an ephemeral one).
    public init(open: @escaping (UInt16) throws -> BoundSocket) { self.open = open }

    public var current: BoundSocket? {
        lock.lock()
        defer { lock.unlock() }
        return socket
    }

    /// Follows the device's configuration: binds the listen port it names if it changed (for 0, an
    /// ephemeral one, which the device then names) and marks the socket with its fwmark (SO_MARK,
    /// for policy routing: `ip rule add fwmark ...`), a new socket as soon as it is bound. A port
    /// that cannot be bound leaves no socket: the next call tries again.
    public func follow(_ device: Device) {
        lock.lock()
        defer { lock.unlock() }
        let wanted = device.listenPort, wantedMark = device.fwmark
        if wanted != port || socket == nil {
            retiredSendDrops += socket?.sendDrops ?? 0
            socket = nil
            socket = try? open(wanted)
            port = socket?.port ?? 0
            mark = nil
            if wanted == 0, let socket { device.listenPortBound(socket.port) }
        }
        if let socket, mark != wantedMark {
            // A mark that cannot be set (no CAP_NET_ADMIN) is tried again at the next call.
            mark = socket.setMark(wantedMark) ? wantedMark : nil
        }
    }

    /// Receives that failed (not "nothing waiting"), counted by the loops that read the socket:
    /// the daemon exports them as `udp_receive_errors`.
    public var receiveErrors: Int {
        lock.lock()
        defer { lock.unlock() }
        return receiveFailures
    }
    private var receiveFailures = 0

    /// Datagrams the kernel did not take, over every socket this slot has held: the daemon exports
    /// them as `udp_send_dropped`.
    public var sendDrops: Int {
        lock.lock()
        defer { lock.unlock() }
        return retiredSendDrops + (socket?.sendDrops ?? 0)
    }
    private var retiredSendDrops = 0

    /// The current socket's receive, with a failure counted and read as "nothing" (wireguard-go
    /// goes on reading after a failed receive too).
    public func receive(from socket: BoundSocket, into batch: PacketBatch) -> Bool {
        do {
            return try socket.receive(into: batch)
        } catch {
            lock.lock()
            receiveFailures += 1
            lock.unlock()
            return false
        }
    }

    public func send(_ batch: PacketBatch) { current?.send(batch) }
    public func send(_ payload: [UInt8], to endpoint: Endpoint) { current?.send(payload, to: endpoint) }
}
