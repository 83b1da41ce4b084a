// Opened packets the TUN device would not take: the kernel refused the write(2) or writev(2)
// that carried them, and they are lost. The datapath does not stop for that (a full queue, an
// interface set down for a moment); it counts the packets by reason, and the daemon exports the
// counts in its stats file beside the device's drops, where wgbench reads them per repetition.

import Glibc

/// Packets lost to refused TUN writes, by reason (each write's packets: a coalesced group counts
/// every packet in it).
public struct TunWriteDrops: Equatable, Sendable {
    /// ENOBUFS, ENOMEM, EAGAIN: no room in the kernel now.
    public var noBuffers = 0
    /// EIO: the interface is down (or not attached).
    public var io = 0
    /// EINVAL: the kernel refused the packet or its virtio header.
    public var invalid = 0
    /// Any other errno (EBADFD when the interface is gone, EFAULT...).
    public var other = 0

    public init() {}

    /// Counts `packets` lost to a write that failed with `code`.
    public mutating func count(_ code: Int32, packets: Int) {
        switch code {
        case ENOBUFS, ENOMEM, EAGAIN: noBuffers += packets
        case EIO: io += packets
        case EINVAL: invalid += packets
        default: other += packets
        }
    }

    /// The counters as the stats file names them.
    public var named: [(name: String, count: Int)] {
        [("tun_write_enobufs", noBuffers), ("tun_write_eio", io), ("tun_write_einval", invalid), ("tun_write_other", other)]
    }
}
