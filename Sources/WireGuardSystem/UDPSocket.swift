import CShims
import Foundation
import Glibc
import WireGuard

// The UDP socket: one dual-stack IPv6 socket (IPv4 peers as v4-mapped addresses), or IPv4 only
// where the host has no IPv6. Batched: recvmmsg(2) for reading, and for sending one sendmsg(2)
// per run of equal-sized messages to one endpoint with UDP GSO (UDP_SEGMENT), or sendmmsg(2)
// where GSO is not available. With UDP GRO the kernel hands over runs of datagrams in one buffer,
// split here. Non-blocking; the caller polls `fd`. Sticky: each received datagram's endpoint
// carries the local address it came to (IP_PKTINFO/IPV6_PKTINFO), and sends go from an
// endpoint's source address (see Endpoint).
//
// GSO refused: EINVAL, which the kernel answers when a run's datagrams exceed the route's MTU (a
// tunnel MTU above the underlay's, carried as IP fragments), sends that run one by one; GSO stays
// on unless that keeps happening. Any other refusal turns GSO off.

public final class UDPSocket: BoundSocket, @unchecked Sendable {
    public let fd: Int32
    public let port: UInt16
    public let ipv4Only: Bool
    public private(set) var gso = true
    public let gro: Bool

    /// Receiving: with GRO, a few large buffers split into the batch; without, straight into slots.
    private static let groBuffers = 8
    private static let groBufferSize = 65536
    private let groScratch: UnsafeMutableRawPointer
    // Per datagram of one recvmmsg(2) and of one send, allocated once.
    private let batchCapacity: Int
    private let receivePointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private let receiveLengths: UnsafeMutablePointer<Int>
    private let sources: UnsafeMutablePointer<wgb_address>
    private let segments: UnsafeMutablePointer<UInt16>
    // Sending, under `sendLock`.
    private let sendLock = NSLock()
    /// Datagrams the kernel did not take (no room for a second, no route, too big), under `sendLock`.
    private var unsent = 0
    private let sendVectors: UnsafeMutablePointer<iovec>
    private let destinations: UnsafeMutablePointer<wgb_address>

    public init(port: UInt16, batchCapacity: Int = PacketBatch.defaultCapacity, offload: Bool = true) throws {
        var fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var ipv4Only = false
        if fd >= 0 {
            var zero: Int32 = 0
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            if Self.bind(fd, &address) != 0 {
                close(fd)
                fd = -1
            }
        }
        if fd < 0 {
            ipv4Only = true
            fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { throw SystemError(call: "socket", code: errno) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            guard Self.bind(fd, &address) == 0 else {
                let code = errno
                close(fd)
                throw SystemError(call: "bind UDP port \(port)", code: code)
            }
        }
        if port == 0 {
            // An ephemeral port: the one the kernel chose.
            var address = sockaddr_in6()
            var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            self.port = UInt16(bigEndian: address.sin6_port)  // sin_port lies at the same offset
        } else {
            self.port = port
        }
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        _ = wgb_udp_enable_pktinfo(fd, ipv4Only ? 1 : 0)  // without it, replies leave from what routing chooses
        self.fd = fd
        self.ipv4Only = ipv4Only
        gso = offload
        gro = offload && wgb_udp_enable_gro(fd) == 0
        groScratch = UnsafeMutableRawPointer.allocate(byteCount: Self.groBuffers * Self.groBufferSize, alignment: 64)
        let count = max(batchCapacity, Self.groBuffers)
        self.batchCapacity = batchCapacity
        receivePointers = .allocate(capacity: count)
        receivePointers.initialize(repeating: nil, count: count)
        receiveLengths = .allocate(capacity: count)
        receiveLengths.initialize(repeating: 0, count: count)
        sources = .allocate(capacity: count)
        sources.initialize(repeating: wgb_address(), count: count)
        segments = .allocate(capacity: count)
        segments.initialize(repeating: 0, count: count)
        sendVectors = .allocate(capacity: count)
        sendVectors.initialize(repeating: iovec(), count: count)
        destinations = .allocate(capacity: count)
        destinations.initialize(repeating: wgb_address(), count: count)
    }

    private static func bind<Address>(_ fd: Int32, _ address: inout Address) -> Int32 {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
    }

    deinit {
        close(fd)
        groScratch.deallocate()
        receivePointers.deallocate()
        receiveLengths.deallocate()
        sources.deallocate()
        segments.deallocate()
        sendVectors.deallocate()
        destinations.deallocate()
    }

    /// SO_MARK (needs CAP_NET_ADMIN): routing rules may then select on the mark.
    public func setMark(_ mark: UInt32) -> Bool {
        var value = mark
        return setsockopt(fd, SOL_SOCKET, SO_MARK, &value, socklen_t(MemoryLayout<UInt32>.size)) == 0
    }

    // MARK: Receiving

    /// GRO buffers received but not yet handed out in full: the next to read, of how many, and
    /// where in it (a batch may fill up halfway through a buffer).
    private var groNext = 0
    private var groCount = 0
    private var groOffset = 0

    /// Reads waiting datagrams into `batch` (messages at slot 0, sources in `endpoints`); false when
    /// nothing was waiting. A receive that failed otherwise throws (recvmmsg and its errno).
    @discardableResult
    public func receive(into batch: PacketBatch) throws(SystemError) -> Bool {
        guard batch.count < batch.capacity else { return true }
        if gro {
            if groNext == groCount {
                for index in 0..<Self.groBuffers { receivePointers[index] = groScratch + index * Self.groBufferSize }
                let received = wgb_udp_receive(fd, receivePointers, Self.groBufferSize, Int32(Self.groBuffers), receiveLengths, sources, segments)
                guard case .processed(let count) = try shimResult("recvmmsg", Int(received)), count > 0 else { return false }
                (groNext, groCount, groOffset) = (0, count, 0)
            }
            drainGRO(into: batch)
            return true
        }
        let room = min(batch.capacity - batch.count, batchCapacity)
        for index in 0..<room { receivePointers[index] = batch.slot(batch.count + index).baseAddress }
        let received = wgb_udp_receive(fd, receivePointers, batch.slotSize, Int32(room), receiveLengths, sources, segments)
        guard case .processed(let count) = try shimResult("recvmmsg", Int(received)), count > 0 else { return false }
        for index in 0..<count {
            batch.lengths[batch.count] = receiveLengths[index]
            batch.endpoints[batch.count] = source(index)
            batch.count += 1
        }
        return true
    }

    /// Cuts the received GRO buffers into datagrams until the batch is full; what does not fit waits.
    private func drainGRO(into batch: PacketBatch) {
        while groNext < groCount && batch.count < batch.capacity {
            let buffer = UnsafeRawBufferPointer(start: groScratch + groNext * Self.groBufferSize, count: receiveLengths[groNext])
            let step = segments[groNext] > 0 ? Int(segments[groNext]) : max(buffer.count, 1)
            let from = source(groNext)
            while groOffset < buffer.count && batch.count < batch.capacity {
                let length = min(step, buffer.count - groOffset)
                batch.appendDatagram(UnsafeRawBufferPointer(rebasing: buffer[groOffset..<(groOffset + length)]), from: from)
                groOffset += length
            }
            if groOffset >= buffer.count {
                groNext += 1
                groOffset = 0
            }
        }
    }

    /// Datagrams are waiting in the GRO buffers: read again without waiting for poll(2).
    public var hasPending: Bool { groNext < groCount }

    private func source(_ index: Int) -> Endpoint {
        let address = UnsafeRawPointer(sources + index)  // `bytes`, then `source`: the struct's first fields
        return Endpoint(ipv6: UnsafeRawBufferPointer(start: address, count: 16), port: sources[index].port)
            .from(source: UnsafeRawBufferPointer(start: address + 16, count: 16))
    }

    // MARK: Sending

    /// Sends the batch's messages (length > 0) to their endpoints: runs of equal length to one
    /// endpoint go as one GSO send (the last of a run may be shorter).
    public func send(_ batch: PacketBatch) {
        sendLock.lock()
        defer { sendLock.unlock() }
        var count = 0
        for index in 0..<batch.count where count < batchCapacity && batch.lengths[index] > 0 && !(ipv4Only && batch.endpoints[index].isIPv6) {
            let message = batch.message(index)
            sendVectors[count] = iovec(iov_base: message.baseAddress, iov_len: message.count)
            destinations[count] = Self.address(batch.endpoints[index])
            count += 1
        }
        var start = 0
        while start < count {
            guard gso else {
                sendEach(from: start, count: count - start)
                return
            }
            // The run: same destination, same length, at most 64 segments and 64 KiB.
            let size = sendVectors[start].iov_len
            var end = start + 1
            var total = size
            while end < count, end - start < 64, total + sendVectors[end].iov_len <= 65000,
                  sendVectors[end].iov_len <= size, Self.same(destinations[end], destinations[start]) {
                total += sendVectors[end].iov_len
                end += 1
                if sendVectors[end - 1].iov_len < size { break }  // a shorter one ends the run
            }
            if end - start == 1 {
                sendEach(from: start, count: 1)
            } else {
                let sent = wgb_udp_send(fd, ipv4Only ? 1 : 0, sendVectors + start, Int32(end - start), destinations + start, UInt16(size))
                if sent >= 0 {
                    gsoRefusals = 0
                } else if sent == -Int(EAGAIN) || sent == -Int(ENOBUFS) {  // (those only after a second without room)
                    unsent += end - start
                } else {
                    // Too big for the route (EINVAL): this run one by one. Otherwise, or when every
                    // run is too big, the kernel or the route refuses GSO: one by one from now on.
                    gsoRefusals += 1
                    if sent != -Int(EINVAL) || gsoRefusals >= Self.gsoRefusalLimit { gso = false }
                    sendEach(from: start, count: end - start)
                }
            }
            start = end
        }
    }

    /// GSO sends refused with EINVAL in a row (under `sendLock`); at the limit GSO goes off.
    private var gsoRefusals = 0
    private static let gsoRefusalLimit = 64

    private func sendEach(from start: Int, count: Int) {
        let sent = wgb_udp_send_each(fd, ipv4Only ? 1 : 0, sendVectors + start, destinations + start, Int32(count))
        unsent += count - Int(max(sent, 0))
    }

    /// Datagrams the kernel did not take: no room for a second (EAGAIN, ENOBUFS), no route, too big.
    public var sendDrops: Int {
        sendLock.lock()
        defer { sendLock.unlock() }
        return unsent
    }

    public func send(_ payload: [UInt8], to endpoint: Endpoint) {
        guard !(ipv4Only && endpoint.isIPv6) else { return }
        var destination = Self.address(endpoint)
        payload.withUnsafeBytes { bytes in
            var vector = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
            if wgb_udp_send(fd, ipv4Only ? 1 : 0, &vector, 1, &destination, 0) < 0 {
                sendLock.lock()
                unsent += 1
                sendLock.unlock()
            }
        }
    }

    /// The endpoint as a v4-mapped or IPv6 address.
    static func address(_ endpoint: Endpoint) -> wgb_address {
        var address = wgb_address()
        address.port = endpoint.port
        withUnsafeMutableBytes(of: &address.source) { raw in endpoint.withSourceBytes { raw.copyMemory(from: $0) } }
        withUnsafeMutableBytes(of: &address.bytes) { raw in
            if endpoint.isIPv6 {
                endpoint.withAddressBytes { raw.copyMemory(from: $0) }
            } else {
                raw.storeBytes(of: UInt32(0x0000_ffff).bigEndian, toByteOffset: 8, as: UInt32.self)  // ::ffff:a.b.c.d
                raw.storeBytes(of: endpoint.ipv4NetworkOrder, toByteOffset: 12, as: UInt32.self)
            }
        }
        return address
    }

    private static func same(_ a: wgb_address, _ b: wgb_address) -> Bool {
        var (a, b) = (a, b)
        return a.port == b.port && memcmp(&a.bytes, &b.bytes, 16) == 0 && memcmp(&a.source, &b.source, 16) == 0
    }
}
