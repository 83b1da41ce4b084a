import CShims
import Foundation
import Glibc
import WireGuard

// The TUN device: reads and writes batches of IP packets. With offloads (IFF_VNET_HDR and TSO,
// the default where the kernel has them) one read may return a TCP super-packet, cut here into
// segments, and consecutive segments of a flow are written back as one (Segmentation, Coalescer).
// Without them, one packet per read(2) and write(2). Non-blocking; the caller polls `fd`.
// Every read and write goes through `systemCall` (SystemCall.swift): EINTR retried, EAGAIN a
// value. A read that fails otherwise is a `SystemError` (EBADFD alone means the interface was
// deleted: `.closed`); a write that fails is counted by reason in `writeDrops`, never thrown.

public final class TunDevice: TunnelInterface, @unchecked Sendable {
    public let name: String
    public let fd: Int32
    /// Whether the kernel took the offloads (else plain packets, one per system call).
    public let offloaded: Bool
    private let hasHeader: Bool
    /// One read's worth: a virtio header and up to 64 KiB.
    private let scratch = UnsafeMutableRawPointer.allocate(byteCount: 65536 + VirtioNetHeader.size, alignment: 16)
    private var scratchLength = 0
    /// The next segment of the super-packet in `scratch` still to be split (it filled a batch).
    private var scratchNext = 0
    private let coalescer: Coalescer
    /// One writev's parts: a virtio header and up to a batch of packets.
    private let iovecs: UnsafeMutablePointer<iovec>
    private let vnetHeader = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 8)
    private let writeLock = NSLock()
    public private(set) var malformed = 0
    /// Under `writeLock`.
    private var drops = TunWriteDrops()

    /// WireGuard's default: 1500 minus the largest outer headers (IPv6 40, UDP 8, WireGuard 32).
    public static let defaultMTU = 1420

    /// `wgb_tun_open` (open(2) of /dev/net/tun + TUNSETIFF, TUNSETVNETHDRSZ, TUNSETOFFLOAD), then the
    /// MTU, as wireguard-go sets it.
    public convenience init(name: String, offload: Bool = true, mtu: Int = TunDevice.defaultMTU, batchCapacity: Int = PacketBatch.defaultCapacity) throws {
        var offloaded: Int32 = 0
        let fd = wgb_tun_open(name, offload ? 1 : 0, &offloaded)
        guard fd >= 0 else { throw SystemError(call: "TUNSETIFF \(name)", code: -fd) }
        let rc = wgb_set_mtu(name, Int32(mtu))
        guard rc == 0 else {
            close(fd)
            throw SystemError(call: "SIOCSIFMTU \(name) \(mtu)", code: -rc)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        self.init(name: name, descriptor: fd, offloaded: offloaded == 1, header: offload, batchCapacity: batchCapacity)
    }

    /// Over a descriptor already open (tests give it a pipe's or a socket's end); it is closed in `deinit`.
    init(name: String, descriptor fd: Int32, offloaded: Bool, header: Bool, batchCapacity: Int = PacketBatch.defaultCapacity) {
        self.name = name
        self.fd = fd
        self.offloaded = offloaded
        hasHeader = header
        coalescer = Coalescer(capacity: batchCapacity)
        iovecs = .allocate(capacity: batchCapacity + 2)
        iovecs.initialize(repeating: iovec(), count: batchCapacity + 2)
    }

    /// Packets lost to writes the kernel refused, by reason.
    public var writeDrops: TunWriteDrops {
        writeLock.lock()
        defer { writeLock.unlock() }
        return drops
    }

    /// SIOCGIFMTU: the MTU as set now; 0 when the interface is gone.
    public var mtu: Int { max(0, Int(wgb_get_mtu(name))) }

    deinit {
        close(fd)
        scratch.deallocate()
        iovecs.deallocate()
        vnetHeader.deallocate()
    }

    /// Part of a super-packet is still to be handed out: read again without waiting for poll(2),
    /// which cannot know about it.
    public var hasPending: Bool { scratchLength > 0 }

    /// Reads what is waiting into `batch` until it is full or nothing is left. A read that fails
    /// after packets were read returns them (`.read`); the next read meets the failure again.
    public func read(into batch: PacketBatch) throws(SystemError) -> TunReadResult {
        var any = false
        while batch.count < batch.capacity {
            if hasHeader {
                if scratchLength == 0 {
                    let scratch = self.scratch, fd = self.fd
                    switch try readOnce(any, { Glibc.read(fd, scratch, 65536 + VirtioNetHeader.size) }) {
                    case .bytes(let count): scratchLength = count
                    case .none: return any ? .read : .empty
                    case .closed: return any ? .read : .closed
                    }
                }
                switch Segmentation.split(scratch, length: scratchLength, into: batch, from: scratchNext) {
                case .more(let next):
                    scratchNext = next  // the rest goes into the next batch
                    return .read
                case .malformed:
                    malformed += 1
                case .done:
                    break
                }
                scratchLength = 0
                scratchNext = 0
            } else {
                // One byte more than a slot can seal (the slot has room for it): a packet that long was
                // cut short by the read, and is dropped rather than sent truncated (a slot holds 64 KiB:
                // only a TUN device with a larger MTU than IP allows could do that).
                let area = batch.packetArea(batch.count), fd = self.fd
                let count: Int
                switch try readOnce(any, { Glibc.read(fd, area.baseAddress, area.count + 1) }) {
                case .bytes(let read): count = read
                case .none: return any ? .read : .empty
                case .closed: return any ? .read : .closed
                }
                if count > area.count {
                    malformed += 1
                    continue
                }
                batch.lengths[batch.count] = count
                batch.count += 1
            }
            any = true
        }
        return .read
    }

    /// What one read(2) found.
    private enum ReadStep { case bytes(Int), none, closed }

    /// One read(2): `.none` when nothing waits, `.closed` when the interface was deleted (EBADFD);
    /// another failure throws, unless packets were read before it (`any`: they go first, and the
    /// next read meets the failure again).
    @inline(__always)
    private func readOnce(_ any: Bool, _ call: () -> Int) throws(SystemError) -> ReadStep {
        do {
            guard case .processed(let count) = try systemCall("read", call) else { return .none }
            return .bytes(count)
        } catch let error where error.code == EBADFD {
            return .closed
        } catch {
            if any { return .none }
            throw error
        }
    }

    /// One write(2) or writev(2) of `packets` packets; a refused one is counted. Under `writeLock`.
    @inline(__always)
    private func counted(_ packets: Int, _ name: StaticString, _ call: () -> Int) {
        do throws(SystemError) {
            if case .wouldBlock = try systemCall(name, call) { drops.count(EAGAIN, packets: packets) }
        } catch {
            drops.count(error.code, packets: packets)
        }
    }

    /// Writes the batch's IP packets (length > 0), coalesced where offloads allow.
    public func write(_ batch: PacketBatch) {
        writeLock.lock()
        defer { writeLock.unlock() }
        guard hasHeader else {
            for index in 0..<batch.count where batch.lengths[index] > 0 {
                counted(1, "write") { Glibc.write(fd, batch.packet(index).baseAddress, batch.lengths[index]) }
            }
            return
        }
        if offloaded {
            coalescer.plan(batch)
            for number in 0..<coalescer.headCount { writeGroup(coalescer.head(number), batch) }
        } else {
            for index in 0..<batch.count where batch.lengths[index] > 0 { writeWithHeader(batch.packet(index)) }
        }
    }

    public func write(_ packet: [UInt8]) {
        writeLock.lock()
        defer { writeLock.unlock() }
        packet.withUnsafeBytes { bytes in
            if hasHeader {
                writeWithHeader(UnsafeMutableRawBufferPointer(mutating: bytes))
            } else {
                counted(1, "write") { Glibc.write(fd, bytes.baseAddress, bytes.count) }
            }
        }
    }

    /// With a zero virtio header: nothing for the kernel to do. Under `writeLock`.
    private func writeWithHeader(_ packet: UnsafeMutableRawBufferPointer) {
        VirtioNetHeader().write(to: vnetHeader)
        iovecs[0] = iovec(iov_base: vnetHeader, iov_len: VirtioNetHeader.size)
        iovecs[1] = iovec(iov_base: packet.baseAddress, iov_len: packet.count)
        counted(1, "writev") { writev(fd, iovecs, 2) }
    }

    /// A group's head with its virtio header, then each member's payload. Under `writeLock`.
    private func writeGroup(_ head: Int, _ batch: PacketBatch) {
        let header = coalescer.header(of: head)
        header.write(to: vnetHeader)
        iovecs[0] = iovec(iov_base: vnetHeader, iov_len: VirtioNetHeader.size)
        var parts = 1
        let headersLength = coalescer.isGroup(head) ? Int(header.headerLength) : 0
        var member = head
        while member >= 0 {
            let skip = member == head ? 0 : headersLength
            iovecs[parts] = iovec(iov_base: batch.slot(member).baseAddress! + Device.headroom + skip, iov_len: batch.lengths[member] - skip)
            parts += 1
            member = coalescer.next(of: member)
        }
        counted(parts - 1, "writev") { writev(fd, iovecs, Int32(parts)) }
    }
}
