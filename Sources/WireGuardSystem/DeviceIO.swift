// What the daemon's loops (DaemonLoops.swift) need of the TUN device and of the UDP socket: a
// descriptor to poll, what the device holds back beyond it, and a batched read, on top of the
// engines' sinks. TunDevice and UDPSocket are the real ones; tests run the same loops over
// in-memory fakes whose descriptors are pipes (wireguard-go's tuntest and bindtest).

import WireGuard

/// What one read of the TUN side did.
public enum TunReadResult: Equatable, Sendable {
    /// Packets were appended to the batch (possibly none: dropped or only the slow path's).
    case read
    /// Nothing waiting.
    case empty
    /// The interface is gone (deleted: EBADFD).
    case closed
}

/// The TUN side: IP packets to seal are read from it, opened ones written to it.
public protocol TunnelInterface: PacketSink {
    /// Readable (POLLIN) when packets wait; POLLERR/POLLHUP when the interface is gone.
    var fd: Int32 { get }
    /// Packets already read that did not fit the last batch: read again without polling.
    var hasPending: Bool { get }
    /// Throws what a read failed with other than "nothing waiting" and "interface gone".
    func read(into batch: PacketBatch) throws(SystemError) -> TunReadResult
    /// Packets the device dropped as malformed before any batch saw them.
    var malformed: Int { get }
    /// The interface's MTU now (`ip link set mtu` changes it); 0 if unknown.
    var mtu: Int { get }
}

/// The UDP side: messages are read from it and sent through it.
public protocol BoundSocket: DatagramSink {
    var fd: Int32 { get }
    /// The port it is bound to.
    var port: UInt16 { get }
    var hasPending: Bool { get }
    /// Appends what is waiting to the batch; false when nothing was. Throws what a receive failed
    /// with other than "nothing waiting".
    func receive(into batch: PacketBatch) throws(SystemError) -> Bool
    /// Datagrams handed to it that the kernel did not take (no room, no route, too big).
    var sendDrops: Int { get }
    /// Marks what the socket sends (SO_MARK; 0: no mark); false if that was refused.
    func setMark(_ mark: UInt32) -> Bool
}
