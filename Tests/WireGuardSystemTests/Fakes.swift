// In-memory TUN devices and UDP sockets for running the daemon's loops in a test (wireguard-go's
// tuntest and bindtest): each has a real pipe as its descriptor, so the loops poll it exactly as
// they poll the real ones; a byte in the pipe says "something waits".

import Foundation
import Glibc
import WireGuard
import WireGuardSystem

/// A pipe whose read end is polled: `signal` makes it readable, `drain` empties it.
final class Doorbell: @unchecked Sendable {
    let readEnd: Int32
    private var writeEnd: Int32

    init() {
        var ends: [Int32] = [0, 0]
        precondition(pipe(&ends) == 0)
        for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        (readEnd, writeEnd) = (ends[0], ends[1])
    }

    deinit {
        close(readEnd)
        if writeEnd >= 0 { close(writeEnd) }
    }

    func signal() { var byte: UInt8 = 1; _ = write(writeEnd, &byte, 1) }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(readEnd, &buffer, buffer.count) > 0 {}
    }

    /// The read end reports POLLHUP from now on.
    func hangUp() {
        close(writeEnd)
        writeEnd = -1
    }
}

/// Lock-protected state, with waiting for a condition on it.
final class Guarded<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func with<T>(_ body: (inout Value) -> T) -> T {
        condition.lock()
        defer { condition.broadcast(); condition.unlock() }
        return body(&value)
    }

    /// Waits up to `timeout` seconds for `predicate`; whether it came true.
    func wait(timeout: Double = 10, until predicate: (Value) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(value) {
            guard condition.wait(until: deadline) else { return predicate(value) }
        }
        return true
    }
}

final class FakeTun: TunnelInterface, @unchecked Sendable {
    private let doorbell = Doorbell()
    private let incoming = Guarded<(packets: [[UInt8]], closed: Bool, failure: SystemError?)>(([], false, nil))
    /// What the device wrote: opened IP packets.
    let written = Guarded<[[UInt8]]>([])
    var fd: Int32 { doorbell.readEnd }
    var hasPending: Bool { incoming.with { !$0.packets.isEmpty } }
    var malformed: Int { 0 }
    var mtu: Int { 1420 }

    /// A packet the host sends into the tunnel.
    func inject(_ packet: [UInt8]) {
        incoming.with { $0.packets.append(packet) }
        doorbell.signal()
    }

    /// The next read fails with `error` (an I/O error of the device, not its deletion).
    func fail(_ error: SystemError) {
        incoming.with { $0.failure = error }
        doorbell.signal()
    }

    /// The interface goes away.
    func delete() {
        incoming.with { $0.closed = true }
        doorbell.hangUp()
    }

    func read(into batch: PacketBatch) throws(SystemError) -> TunReadResult {
        doorbell.drain()
        let (result, failure) = incoming.with { state -> (TunReadResult, SystemError?) in
            if let failure = state.failure { return (.empty, failure) }
            if state.packets.isEmpty { return (state.closed ? .closed : .empty, nil) }
            while let packet = state.packets.first, packet.withUnsafeBytes({ batch.appendPacket($0) }) { state.packets.removeFirst() }
            return (.read, nil)
        }
        if let failure { throw failure }
        return result
    }

    func write(_ batch: PacketBatch) {
        let packets = (0..<batch.count).filter { batch.lengths[$0] > 0 }.map { Array(batch.packet($0)) }
        if !packets.isEmpty { written.with { $0 += packets } }
    }

    func write(_ packet: [UInt8]) { written.with { $0.append(packet) } }
}

/// Delivers datagrams between the fake sockets bound on it, by address and port.
final class FakeNetwork: @unchecked Sendable {
    private let sockets = Guarded<[Endpoint: FakeSocket]>([:])

    func bind(_ address: String, port: UInt16) throws -> BoundSocket {
        let port = port == 0 ? UInt16.random(in: 40000...50000) : port
        let socket = FakeSocket(network: self, endpoint: Endpoint("\(address):\(port)")!)
        let taken = sockets.with { bound in
            defer { if bound[socket.endpoint] == nil { bound[socket.endpoint] = socket } }
            return bound[socket.endpoint] != nil
        }
        if taken { throw POSIXError(.EADDRINUSE) }
        return socket
    }

    func deliver(_ payload: [UInt8], from source: Endpoint, to destination: Endpoint) {
        sockets.with { $0[destination] }?.arrive(payload, from: source)
    }
}

final class FakeSocket: BoundSocket, @unchecked Sendable {
    let endpoint: Endpoint
    private unowned let network: FakeNetwork
    private let doorbell = Doorbell()
    private let incoming = Guarded<[([UInt8], Endpoint)]>([])
    var fd: Int32 { doorbell.readEnd }
    var port: UInt16 { endpoint.port }
    var hasPending: Bool { incoming.with { !$0.isEmpty } }
    var sendDrops: Int { 0 }

    init(network: FakeNetwork, endpoint: Endpoint) {
        self.network = network
        self.endpoint = endpoint
    }

    func arrive(_ payload: [UInt8], from source: Endpoint) {
        incoming.with { $0.append((payload, source)) }
        doorbell.signal()
    }

    /// The next receive fails with `error`.
    func fail(_ error: SystemError) {
        failure.with { $0 = error }
        doorbell.signal()
    }
    private let failure = Guarded<SystemError?>(nil)

    func receive(into batch: PacketBatch) throws(SystemError) -> Bool {
        doorbell.drain()
        if let error = failure.with({ state in defer { state = nil }; return state }) { throw error }
        return incoming.with { queue in
            var any = false
            while let (payload, source) = queue.first, payload.withUnsafeBytes({ batch.appendDatagram($0, from: source) }) {
                queue.removeFirst()
                any = true
            }
            return any
        }
    }

    func send(_ batch: PacketBatch) {
        for index in 0..<batch.count where batch.lengths[index] > 0 {
            network.deliver(Array(batch.message(index)), from: endpoint, to: batch.endpoints[index])
        }
    }

    func send(_ payload: [UInt8], to destination: Endpoint) { network.deliver(payload, from: endpoint, to: destination) }

    /// The mark set last (SO_MARK's fake).
    let mark = Guarded<UInt32?>(nil)
    func setMark(_ mark: UInt32) -> Bool {
        self.mark.with { $0 = mark }
        return true
    }
}
