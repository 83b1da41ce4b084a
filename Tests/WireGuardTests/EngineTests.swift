import Foundation
import Testing
@testable import WireGuard
import WireGuardCrypto

/// In-memory sinks: what the engines send and deliver, collected.
final class CollectingSinks: PacketSink, DatagramSink, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var datagrams: [([UInt8], Endpoint)] = []
    private(set) var packets: [[UInt8]] = []

    func write(_ batch: PacketBatch) {
        lock.lock(); defer { lock.unlock() }
        for index in 0..<batch.count where batch.lengths[index] > 0 { packets.append(Array(batch.packet(index))) }
    }
    func write(_ packet: [UInt8]) { lock.lock(); packets.append(packet); lock.unlock() }
    func send(_ batch: PacketBatch) {
        lock.lock(); defer { lock.unlock() }
        for index in 0..<batch.count where batch.lengths[index] > 0 { datagrams.append((Array(batch.message(index)), batch.endpoints[index])) }
    }
    func send(_ payload: [UInt8], to endpoint: Endpoint) { lock.lock(); datagrams.append((payload, endpoint)); lock.unlock() }

    var count: Int { lock.lock(); defer { lock.unlock() }; return datagrams.count + packets.count }
    func take() -> (datagrams: [([UInt8], Endpoint)], packets: [[UInt8]]) {
        lock.lock(); defer { lock.unlock() }
        defer { datagrams = []; packets = [] }
        return (datagrams, packets)
    }
}

/// Both engines between two devices: a stream of numbered packets goes in at one side's TUN and
/// must come out at the other's, every one, in order (the parallel engine with several workers
/// finishing batches out of order included).
struct EngineTests {
    let pair = DeviceTests()

    func connected() throws {
        let ping = DeviceTests.ipv4(from: [198, 19, 0, 1], to: [198, 19, 0, 2], payload: "hello")
        let initiation = pair.a.outbound(ping, now: 0)
        let response = pair.b.inbound(initiation.datagrams[0].payload, from: pair.aEndpoint, now: 0)
        let data = pair.a.inbound(response.datagrams[0].payload, from: pair.bEndpoint, now: 0)
        #expect(pair.b.inbound(data.datagrams[0].payload, from: pair.aEndpoint, now: 0).packets == [ping])
    }

    static func numbered(_ number: Int, size: Int = 1200) -> [UInt8] {
        DeviceTests.ipv4(from: [198, 19, 0, 1], to: [198, 19, 0, 2], payload: String(format: "%08d", number) + String(repeating: "x", count: size))
    }

    /// `sizes`: the batches' sizes, in turn (the parallel engine runs small ones on the reading thread).
    func run(sender: (Device, PacketSink & DatagramSink) -> DatapathEngine,
             receiver: (Device, PacketSink & DatagramSink) -> DatapathEngine, sizes: [Int] = [37, 50]) throws {
        try connected()
        let aSinks = CollectingSinks(), bSinks = CollectingSinks()
        let a = sender(pair.a, aSinks), b = receiver(pair.b, bSinks)
        defer { a.stop(); b.stop() }
        let total = 2000
        var sent = 0, turn = 0
        while sent < total {
            let size = sizes[turn % sizes.count]
            turn += 1
            a.outbound(now: 1) { batch in
                for _ in 0..<min(size, total - sent) {  // batches of odd sizes
                    Self.numbered(sent).withUnsafeBytes { _ = batch.appendPacket($0) }
                    sent += 1
                }
            }
        }
        try waitFor { aSinks.count == total }
        let datagrams = aSinks.take().datagrams
        #expect(datagrams.allSatisfy { $0.1 == pair.bEndpoint })
        var start = 0
        while start < datagrams.count {
            let end = min(start + sizes[turn % sizes.count], datagrams.count)
            turn += 1
            b.inbound(now: 1) { batch in
                for (payload, _) in datagrams[start..<end] {
                    payload.withUnsafeBytes { _ = batch.appendDatagram($0, from: pair.aEndpoint) }
                }
            }
            start = end
        }
        try waitFor { bSinks.count == total }
        let delivered = bSinks.take().packets
        #expect(delivered == (0..<total).map { Self.numbered($0) })
        #expect(pair.b.drops == DropCounters())
    }

    func waitFor(_ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(10)
        while !condition() {
            guard Date() < deadline else { throw Timeout() }
            usleep(1000)
        }
    }
    struct Timeout: Error {}

    @Test func inlineToInline() throws {
        try run(sender: { InlineEngine(device: $0, tun: $1, udp: $1) }, receiver: { InlineEngine(device: $0, tun: $1, udp: $1) })
    }

    @Test func parallelToParallelKeepsOrderWithManyWorkers() throws {
        var options = ParallelOptions()
        options.workers = 4
        options.poolSize = 4
        try run(sender: { ParallelEngine(device: $0, tun: $1, udp: $1, options: options) },
                receiver: { ParallelEngine(device: $0, tun: $1, udp: $1, options: options) })
    }
}

extension EngineTests {
    /// Small batches skip the hand-offs only while their peer has nothing in flight: mixed with
    /// large ones still queued on the workers, every packet still comes out in order.
    @Test func parallelKeepsOrderWhenSmallBatchesRunOnTheReadingThread() throws {
        var options = ParallelOptions()
        options.workers = 3
        options.poolSize = 4
        try run(sender: { ParallelEngine(device: $0, tun: $1, udp: $1, options: options) },
                receiver: { ParallelEngine(device: $0, tun: $1, udp: $1, options: options) }, sizes: [1, 2, 40, 3, 1, 64, 4, 1, 1, 30])
    }
}

/// The ordered pipeline alone: batches finish in a random order on several workers and still come
/// out in submission order; a head that finishes last still wakes the consumer.
struct OrderedPipelineTests {
    final class Log: @unchecked Sendable {
        let lock = NSLock()
        var order: [Int] = []
        func add(_ value: Int) { lock.lock(); order.append(value); lock.unlock() }
        var count: Int { lock.lock(); defer { lock.unlock() }; return order.count }
    }

    @Test func outOfOrderCompletionIsDeliveredInOrder() throws {
        let log = Log()
        let pipeline = OrderedPipeline(name: "test", workerCPUs: [[], [], [], []], consumerCPUs: [],
                                       process: { batch in usleep(batch.lengths[0] == 0 ? 150_000 : UInt32.random(in: 0...300)) },
                                       deliver: { log.add($0.lengths[0]) })
        defer { pipeline.stop() }
        // The pipeline holds batches unretained, as the engines' pools own theirs: these are kept here.
        let batches = (0..<200).map { _ in PacketBatch(capacity: 1, slotSize: 64) }
        for (number, batch) in batches.enumerated() {
            batch.lengths[0] = number  // batch 0, a head, finishes long after all the others
            batch.count = 1
            pipeline.submit(batch, key: number % 2)
        }
        let deadline = Date().addingTimeInterval(3)
        while log.count < 200 && Date() < deadline { usleep(1000) }
        #expect(log.count == 200, "the consumer was not woken for every head")
        let even = log.order.filter { $0 % 2 == 0 }, odd = log.order.filter { $0 % 2 == 1 }
        #expect(even == even.sorted() && odd == odd.sorted())  // in order per peer
        withExtendedLifetime(batches) {}
    }
}

/// One batch with packets for more peers than the parallel engine has batches: it is split per
/// peer without holding the pool (which could wait forever), and each peer's packets come out in order.
struct ManyPeersTests {
    @Test func aBatchForManyPeersIsSplitWithoutExhaustingThePool() throws {
        let hub = Device()
        let hubKey = Curve25519.generatePrivateKey()
        let spokes = (0..<6).map { _ in (Device(), Curve25519.generatePrivateKey()) }
        let hex = { (key: [UInt8]) in UAPI.hex(Curve25519.publicKey(privateKey: key)) }
        var config = "set=1\nprivate_key=\(UAPI.hex(hubKey))\nlisten_port=51820\n"
        for (number, (spoke, key)) in spokes.enumerated() {
            config += "public_key=\(hex(key))\nendpoint=198.18.4.\(number + 1):51820\nallowed_ip=198.19.4.\(number + 1)/32\n"
            _ = spoke.handleUAPI("set=1\nprivate_key=\(UAPI.hex(key))\npublic_key=\(hex(hubKey))\nallowed_ip=198.19.0.1/32\n\n")
        }
        _ = hub.handleUAPI(config + "\n")
        let hubEndpoint = Endpoint("198.18.4.100:51820")!
        let packet = { (spoke: Int, number: Int) in
            DeviceTests.ipv4(from: [198, 19, 0, 1], to: [198, 19, 4, UInt8(spoke + 1)], payload: "\(spoke)-\(number)")
        }
        // A session with every spoke (the hub initiates).
        for (number, (spoke, _)) in spokes.enumerated() {
            let initiation = hub.outbound(packet(number, -1), now: 0).datagrams[0]
            let response = spoke.inbound(initiation.payload, from: hubEndpoint, now: 0).datagrams[0]
            let data = hub.inbound(response.payload, from: initiation.to, now: 0).datagrams[0]
            #expect(spoke.inbound(data.payload, from: hubEndpoint, now: 0).packets.count == 1)
        }
        var options = ParallelOptions()
        options.workers = 2
        options.poolSize = 2
        let sinks = CollectingSinks()
        let engine = ParallelEngine(device: hub, tun: sinks, udp: sinks, options: options)
        defer { engine.stop() }
        engine.outbound(now: 1) { batch in
            for number in 0..<5 {
                for spoke in 0..<6 { packet(spoke, number).withUnsafeBytes { _ = batch.appendPacket($0) } }
            }
        }
        let deadline = Date().addingTimeInterval(5)
        while sinks.count < 30 && Date() < deadline { usleep(1000) }
        let datagrams = sinks.take().datagrams
        #expect(datagrams.count == 30)
        for (number, (spoke, _)) in spokes.enumerated() {
            let mine = datagrams.filter { $0.1 == Endpoint("198.18.4.\(number + 1):51820")! }
            let opened = mine.flatMap { spoke.inbound($0.0, from: hubEndpoint, now: 1).packets }
            #expect(opened == (0..<5).map { packet(number, $0) })
        }
    }
}

extension EngineTests {
    /// Padding rounds a packet up to 16 but never beyond the interface's MTU (the kernel's rule: a
    /// packet of exactly the MTU must not become a datagram the route cannot carry), through the
    /// batch path (both engines) and the slow path alike; the receiver strips it.
    @Test(arguments: [false, true]) func paddingStopsAtTheMTU(parallel: Bool) throws {
        try connected()
        let mtu = 1421  // not a multiple of 16
        pair.a.mtu = mtu
        let sinks = CollectingSinks(), receiver = CollectingSinks()
        let a: DatapathEngine = parallel ? ParallelEngine(device: pair.a, tun: sinks, udp: sinks) : InlineEngine(device: pair.a, tun: sinks, udp: sinks)
        let b = InlineEngine(device: pair.b, tun: receiver, udp: receiver)
        defer { a.stop(); b.stop() }
        let sizes = [28, 29, 1400, 1406, 1407, 1420, 1421]  // IP packet lengths (20 + payload)
        let packets = sizes.map { DeviceTests.ipv4(from: [198, 19, 0, 1], to: [198, 19, 0, 2], payload: String(repeating: "p", count: $0 - 20)) }
        a.outbound(now: 1) { batch in for packet in packets { packet.withUnsafeBytes { _ = batch.appendPacket($0) } } }
        try waitFor { sinks.count == packets.count }
        let datagrams = sinks.take().datagrams
        let expected = sizes.map { Device.overhead + min(mtu, ($0 + 15) / 16 * 16) }
        #expect(datagrams.map(\.0.count) == expected)  // 1407 and 1420 end at 1421, not 1408+/1424
        #expect(expected.contains(Device.overhead + mtu))
        b.inbound(now: 1) { batch in for (payload, _) in datagrams { payload.withUnsafeBytes { _ = batch.appendDatagram($0, from: pair.aEndpoint) } } }
        try waitFor { receiver.count == packets.count }
        #expect(receiver.take().packets == packets)
        // The slow path (array API) follows the same rule; with no MTU known, plain rounding.
        #expect(pair.a.outbound(packets[5], now: 1).datagrams.first?.payload.count == Device.overhead + mtu)
        pair.a.mtu = 0
        #expect(pair.a.outbound(packets[5], now: 1).datagrams.first?.payload.count == Device.overhead + 1424)
        #expect(Device.paddedLength(3000, mtu: 1421) == 3000 - 158 + 160)  // longer than the MTU: its last unit is padded
    }
}
