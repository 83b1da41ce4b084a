// The per-packet cost of both engines without any I/O: two devices with a completed handshake,
// the TUN and the UDP socket replaced by in-memory sinks. Encapsulation: batches of IP packets
// submitted to the sender's engine until every message came out. Decapsulation: messages sealed
// beforehand (a fresh session per round, so the replay window accepts them) submitted to the
// receiver's engine until every packet was delivered. Next to them, the crypto-only floors:
// ChaCha20-Poly1305 sealing the same sizes in a loop on one thread, measured in the same run with
// the library the datapath uses (OpenSSL) and with libsodium, to show the choice holds here.

import Foundation
import WireGuardCrypto

public enum DatapathBenchmark {
    public struct Figure: Sendable {
        public let name: String
        public let packets: Int
        public let bytes: Int
        public let wallSeconds: Double
        public let cpuSeconds: Double

        public var packetsPerSecond: Double { Double(packets) / wallSeconds }
        public var wallNanosecondsPerPacket: Double { wallSeconds * 1e9 / Double(packets) }
        public var cpuNanosecondsPerPacket: Double { cpuSeconds * 1e9 / Double(packets) }
        public var gigabitsPerSecond: Double { Double(bytes) * 8 / wallSeconds / 1e9 }
        /// CPU-seconds per gigabyte of IP packets.
        public var cpuSecondsPerGB: Double { cpuSeconds / (Double(bytes) / 1e9) }
    }

    /// Runs the floors and both engines' encapsulation and decapsulation. The first figure is the
    /// floor of the library the datapath uses.
    public static func run(packetSize: Int, packets: Int, workers: Int) -> [Figure] {
        var figures = [floor(packetSize: packetSize, packets: packets), libsodiumFloor(packetSize: packetSize, packets: packets)]
        var options = ParallelOptions()
        options.workers = workers
        let engines: [(String, (Device, CountingSink) -> DatapathEngine)] = [
            ("inline", { InlineEngine(device: $0, tun: $1, udp: $1) }),
            ("parallel (\(workers) workers)", { ParallelEngine(device: $0, tun: $1, udp: $1, options: options) }),
        ]
        for (name, make) in engines {
            figures.append(encapsulation(name, make: make, packetSize: packetSize, packets: packets))
            figures.append(decapsulation(name, make: make, packetSize: packetSize, packets: packets))
        }
        return figures
    }

    /// The datapath's ChaCha20-Poly1305 (OpenSSL) alone over packets of this size (padded as
    /// WireGuard pads them), one context, the key given once and a fresh nonce each: the
    /// datapath's pattern within a batch.
    public static func floor(packetSize: Int, packets: Int) -> Figure {
        let cipher = ChaCha20Poly1305()
        return sealLoop("floor: OpenSSL seal", packetSize: packetSize, packets: packets) {
            cipher.seal(key: $1 == 0 ? $0 : nil, counter: $1, message: $2, length: $3)
        }
    }

    /// The same with libsodium (the handshake's AEAD), for comparison.
    public static func libsodiumFloor(packetSize: Int, packets: Int) -> Figure {
        AEAD.prepare()
        return sealLoop("libsodium seal", packetSize: packetSize, packets: packets) {
            AEAD.seal(key: $0, counter: $1, message: $2, length: $3)
        }
    }

    private static func sealLoop(_ name: String, packetSize: Int, packets: Int,
                                 _ seal: (UnsafeRawPointer, UInt64, UnsafeMutableRawPointer, Int) -> Void) -> Figure {
        let length = Device.paddedLength(packetSize)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: length + 16, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0x5a, count: length + 16)
        let key = [UInt8](repeating: 7, count: 32)
        let (wall, cpu) = measure {
            key.withUnsafeBytes { key in
                for counter in 0..<UInt64(packets) { seal(key.baseAddress!, counter, buffer, length) }
            }
        }
        return Figure(name: name, packets: packets, bytes: packets * packetSize, wallSeconds: wall, cpuSeconds: cpu)
    }

    static func encapsulation(_ name: String, make: (Device, CountingSink) -> DatapathEngine, packetSize: Int, packets: Int) -> Figure {
        let pair = DevicePair()
        let sink = CountingSink()
        let engine = make(pair.a, sink)
        defer { engine.stop() }
        let packet = pair.packet(size: packetSize)
        let (wall, cpu) = measure {
            var submitted = 0
            packet.withUnsafeBytes { bytes in
                while submitted < packets {
                    engine.outbound(now: 1) { batch in
                        while batch.count < batch.capacity && submitted < packets {
                            batch.appendPacket(bytes)
                            submitted += 1
                        }
                    }
                }
            }
            sink.wait(for: packets)
        }
        return Figure(name: "\(name) encapsulate", packets: packets, bytes: packets * packetSize, wallSeconds: wall, cpuSeconds: cpu)
    }

    static func decapsulation(_ name: String, make: (Device, CountingSink) -> DatapathEngine, packetSize: Int, packets: Int) -> Figure {
        let round = min(packets, 16_384)
        var wall = 0.0, cpu = 0.0, done = 0
        while done < packets {
            let count = min(round, packets - done)
            let pair = DevicePair()
            let messages = pair.sealedMessages(count: count, size: packetSize)
            let sink = CountingSink()
            let engine = make(pair.b, sink)
            let (w, c) = measure {
                var index = 0
                while index < count {
                    engine.inbound(now: 1) { batch in
                        while batch.count < batch.capacity && index < count {
                            messages[index].withUnsafeBytes { _ = batch.appendDatagram($0, from: pair.aEndpoint) }
                            index += 1
                        }
                    }
                }
                sink.wait(for: count)
            }
            engine.stop()
            wall += w
            cpu += c
            done += count
        }
        return Figure(name: "\(name) decapsulate", packets: packets, bytes: packets * packetSize, wallSeconds: wall, cpuSeconds: cpu)
    }

    /// Wall and process CPU seconds (all threads) of `body`.
    static func measure(_ body: () -> Void) -> (wall: Double, cpu: Double) {
        func cpuNow() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6
                + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
        }
        let wallStart = Date(), cpuStart = cpuNow()
        body()
        return (Date().timeIntervalSince(wallStart), cpuNow() - cpuStart)
    }
}

/// Counts what the engine delivers, without keeping it.
final class CountingSink: PacketSink, DatagramSink, @unchecked Sendable {
    private let condition = NSCondition()
    private var count = 0

    private func add(_ batch: PacketBatch) {
        var delivered = 0
        for index in 0..<batch.count where batch.lengths[index] > 0 { delivered += 1 }
        condition.lock()
        count += delivered
        condition.broadcast()
        condition.unlock()
    }

    func write(_ batch: PacketBatch) { add(batch) }
    func send(_ batch: PacketBatch) { add(batch) }
    func write(_ packet: [UInt8]) {}
    func send(_ payload: [UInt8], to endpoint: Endpoint) {}

    func wait(for total: Int) {
        condition.lock()
        while count < total { condition.wait() }
        condition.unlock()
    }
}

/// Two devices, a's peer is b and back, with a completed handshake.
struct DevicePair {
    let a = Device(), b = Device()
    let aEndpoint = Endpoint("198.18.2.1:51821")!, bEndpoint = Endpoint("198.18.2.2:51822")!

    init() {
        let aKey = Curve25519.generatePrivateKey(), bKey = Curve25519.generatePrivateKey()
        let hex = { (key: [UInt8]) in UAPI.hex(Curve25519.publicKey(privateKey: key)) }
        _ = a.handleUAPI("set=1\nprivate_key=\(UAPI.hex(aKey))\nlisten_port=51821\npublic_key=\(hex(bKey))\n"
                         + "endpoint=198.18.2.2:51822\nallowed_ip=198.19.0.2/32\n\n")
        _ = b.handleUAPI("set=1\nprivate_key=\(UAPI.hex(bKey))\nlisten_port=51822\npublic_key=\(hex(aKey))\n"
                         + "endpoint=198.18.2.1:51821\nallowed_ip=198.19.0.1/32\n\n")
        let first = packet(size: 100)
        let initiation = a.outbound(first, now: 0)
        let response = b.inbound(initiation.datagrams[0].payload, from: aEndpoint, now: 0)
        let data = a.inbound(response.datagrams[0].payload, from: bEndpoint, now: 0)
        _ = b.inbound(data.datagrams[0].payload, from: aEndpoint, now: 0)
    }

    /// An IPv4 packet from a's side to b's, `size` bytes long.
    func packet(size: Int) -> [UInt8] {
        var packet = [UInt8](repeating: 0x61, count: max(size, 20))
        packet[0] = 0x45
        packet[2] = UInt8(packet.count >> 8)
        packet[3] = UInt8(packet.count & 0xff)
        packet[9] = 17
        packet.replaceSubrange(12..<20, with: [198, 19, 0, 1, 198, 19, 0, 2])
        return packet
    }

    /// Transport messages from a to b, as a's device seals them.
    func sealedMessages(count: Int, size: Int) -> [[UInt8]] {
        let ip = packet(size: size)
        return (0..<count).map { _ in a.outbound(ip, now: 1).datagrams[0].payload }
    }
}
