import Foundation
import Glibc
import Testing
import WireGuard
@testable import WireGuardSystem

/// Issue #23, part 4: the one syscall wrapper (EINTR retried, EAGAIN a value, any other errno a
/// typed error with the call's name), TUN reads that fail typed rather than as "closed", and TUN
/// writes the kernel refuses counted by reason. Real descriptors: a non-blocking pipe gives
/// EAGAIN, the wrong end of it EBADF.
struct SystemCallTests {
    /// A non-blocking pipe: (read end, write end).
    static func pipeEnds() -> (Int32, Int32) {
        var ends: [Int32] = [0, 0]
        precondition(pipe(&ends) == 0)
        for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        return (ends[0], ends[1])
    }

    @Test func anEmptyNonBlockingDescriptorWouldBlock() throws {
        let (readEnd, writeEnd) = Self.pipeEnds()
        defer { close(readEnd); close(writeEnd) }
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(try systemCall("read") { read(readEnd, &buffer, buffer.count) } == .wouldBlock)
        _ = write(writeEnd, "abc", 3)
        #expect(try systemCall("read") { read(readEnd, &buffer, buffer.count) } == .processed(3))
    }

    @Test func anotherErrorIsTypedWithTheCallAndErrno() throws {
        let (readEnd, writeEnd) = Self.pipeEnds()
        defer { close(readEnd); close(writeEnd) }
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(throws: SystemError(call: "read", code: EBADF)) { try systemCall("read") { read(writeEnd, &buffer, buffer.count) } }
        #expect(SystemError(call: "read", code: EBADF).description == "read: Bad file descriptor")
    }

    @Test func anInterruptedCallIsRetried() throws {
        var calls = 0
        let result = try systemCall("read") { () -> Int in
            calls += 1
            if calls < 3 { errno = EINTR; return -1 }
            return 7
        }
        #expect(result == .processed(7) && calls == 3)
    }

    @Test func aShimsNegativeErrnoReadsTheSameWay() throws {
        #expect(try shimResult("recvmmsg", 4) == .processed(4))
        #expect(try shimResult("recvmmsg", -Int(EAGAIN)) == .wouldBlock)
        #expect(throws: SystemError(call: "recvmmsg", code: ENOMEM)) { try shimResult("recvmmsg", -Int(ENOMEM)) }
    }

    @Test func aTunReadThatFailsIsTypedNotClosed() throws {
        let (readEnd, writeEnd) = Self.pipeEnds()
        defer { close(readEnd) }
        // Reading the write end of a pipe: EBADF, an error of the device, not its deletion.
        let tun = TunDevice(name: "fake0", descriptor: writeEnd, offloaded: false, header: false)
        #expect(throws: SystemError(call: "read", code: EBADF)) { try tun.read(into: PacketBatch(capacity: 4)) }
    }

    @Test func aTunReadOfNothingIsEmptyAndOfAPacketRead() throws {
        let (readEnd, writeEnd) = Self.pipeEnds()
        defer { close(writeEnd) }
        let tun = TunDevice(name: "fake0", descriptor: readEnd, offloaded: false, header: false)
        let batch = PacketBatch(capacity: 4)
        #expect(try tun.read(into: batch) == .empty)
        _ = write(writeEnd, [UInt8](repeating: 0x45, count: 40), 40)
        #expect(try tun.read(into: batch) == .read && batch.count == 1 && batch.lengths[0] == 40)
    }

    @Test func tunWritesTheKernelRefusesAreCountedByReason() throws {
        let (readEnd, writeEnd) = Self.pipeEnds()
        defer { close(readEnd) }
        let tun = TunDevice(name: "fake0", descriptor: writeEnd, offloaded: false, header: false)
        let packet = [UInt8](repeating: 0x45, count: 1000)
        // Fill the pipe: a write it has no room for is EAGAIN, no room in the kernel.
        while write(writeEnd, packet, packet.count) > 0 {}
        tun.write(packet)
        tun.write(packet)
        var expected = TunWriteDrops()
        expected.noBuffers = 2
        #expect(tun.writeDrops == expected)
        // Writing the read end of a pipe: EBADF, in `other`.
        let wrong = TunDevice(name: "fake1", descriptor: dup(readEnd), offloaded: false, header: false)
        wrong.write(packet)
        #expect(wrong.writeDrops.named.map(\.count) == [0, 0, 0, 1])
        #expect(wrong.writeDrops.named.map(\.name) == ["tun_write_enobufs", "tun_write_eio", "tun_write_einval", "tun_write_other"])
    }

    /// Which errno goes to which counter.
    @Test(arguments: [
        (ENOBUFS, 0), (ENOMEM, 0), (EAGAIN, 0),
        (EIO, 1),
        (EINVAL, 2),
        (EBADFD, 3), (EFAULT, 3), (EPERM, 3),
    ] as [(Int32, Int)])
    func writeErrorsAreGrouped(code: Int32, counter: Int) {
        var drops = TunWriteDrops()
        drops.count(code, packets: 3)
        #expect(drops.named.map(\.count) == (0..<4).map { $0 == counter ? 3 : 0 })
    }

    /// A datagram the kernel will not take (larger than UDP allows: EMSGSIZE) is counted, not lost unseen.
    @Test func aDatagramTheKernelRefusesIsCounted() throws {
        let socket = try UDPSocket(port: 0, offload: false)
        socket.send([UInt8](repeating: 0, count: 70_000), to: Endpoint("127.0.0.1:9")!)
        #expect(socket.sendDrops == 1)
        socket.send([UInt8](repeating: 0, count: 100), to: Endpoint("127.0.0.1:9")!)
        #expect(socket.sendDrops == 1)
    }
}
