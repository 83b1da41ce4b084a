// The parallel engine (the kernel's "vanilla" design): the thread that read a batch only takes
// its counters (or finds its sessions) and queues it; a pool of worker threads on the encrypt
// (decrypt) CPU set seals (opens) batches in any order; a serial consumer per direction, on its
// own CPU, sends (delivers) them strictly in order per peer. Batches come from a fixed pool: when
// the workers fall behind, reading waits (back-pressure) instead of allocating. A small batch whose
// peer has nothing in flight skips the hand-offs (`ParallelOptions.smallBatch`).

import Foundation

public struct ParallelOptions: Sendable, Equatable {
    /// CPUs of the encryption and decryption workers: one worker pinned to each. Empty: `workers`
    /// unpinned workers.
    public var encryptCPUs: [Int] = []
    public var decryptCPUs: [Int] = []
    /// CPUs of the serial consumers (sending and delivering in order). Empty: unpinned.
    public var serialCPUs: [Int] = []
    /// Workers per direction when no CPU set is given.
    public var workers = max(1, PinnedThread.allowedCPUs)
    /// Batches in flight per direction.
    public var poolSize = 16
    /// A batch of at most this many packets whose peer has nothing queued or being delivered is
    /// sealed (opened) and sent (delivered) by the thread that read it: two hand-offs between
    /// threads cost more than the work on a few packets (a TCP receiver's stream of ACKs), and on
    /// a machine with few cores each is a context switch. 0: always hand off.
    public var smallBatch = 4

    public init() {}
}

public final class ParallelEngine: DatapathEngine, @unchecked Sendable {
    private let device: Device
    private let tun: PacketSink
    private let udp: DatagramSink
    private let outboundPool: BatchPool
    private let inboundPool: BatchPool
    private var encrypt: OrderedPipeline!
    private var decrypt: OrderedPipeline!
    private let smallBatch: Int
    private let handshakes: HandshakeWorker

    public init(device: Device, tun: PacketSink, udp: DatagramSink, options: ParallelOptions = ParallelOptions(),
                batchSize: Int = PacketBatch.defaultCapacity) {
        self.device = device
        self.tun = tun
        self.udp = udp
        smallBatch = options.smallBatch
        handshakes = HandshakeWorker(device: device, tun: tun, udp: udp)
        outboundPool = BatchPool(count: options.poolSize, batchSize: batchSize)
        inboundPool = BatchPool(count: options.poolSize, batchSize: batchSize)
        let workers = { (cpus: [Int]) in cpus.isEmpty ? Array(repeating: [Int](), count: options.workers) : cpus.map { [$0] } }
        encrypt = OrderedPipeline(name: "wg-encrypt", workerCPUs: workers(options.encryptCPUs), consumerCPUs: options.serialCPUs,
                                  process: { BatchSteps.seal($0) },
                                  deliver: { [udp, outboundPool] batch in
                                      udp.send(batch)
                                      outboundPool.put(batch)
                                  })
        decrypt = OrderedPipeline(name: "wg-decrypt", workerCPUs: workers(options.decryptCPUs), consumerCPUs: options.serialCPUs,
                                  process: { [device] in BatchSteps.open($0, device: device) },
                                  deliver: { [device, tun, udp, inboundPool] batch in
                                      BatchSteps.finishInbound(batch, device: device, now: batch.readAt, tun: tun, udp: udp)
                                      tun.write(batch)
                                      inboundPool.put(batch)
                                  })
    }

    public func outbound<Result>(now: Double, _ fill: (PacketBatch) -> Result) -> Result {
        outboundPool.take()._withUnsafeGuaranteedRef { batch in
            let result = fill(batch)
            guard batch.count > 0 else {
                outboundPool.put(batch)
                return result
            }
            BatchSteps.prepareOutbound(batch, device: device, now: now, tun: tun, udp: udp)
            submitByPeer(batch, pool: outboundPool, pipeline: encrypt, readAt: now)
            return result
        }
    }

    public func inbound<Result>(now: Double, _ fill: (PacketBatch) -> Result) -> Result {
        inboundPool.take()._withUnsafeGuaranteedRef { batch in
            let result = fill(batch)
            guard batch.count > 0 else {
                inboundPool.put(batch)
                return result
            }
            BatchSteps.prepareInbound(batch, device: device, now: now)
            submitByPeer(batch, pool: inboundPool, pipeline: decrypt, readAt: now)
            return result
        }
    }

    public func stop() {
        handshakes.stop()
        encrypt.stop()
        decrypt.stop()
    }

    /// The batch as one part per peer. The common case (one peer: wgbench's tunnels each have one)
    /// keeps the batch whole. Otherwise each other peer's packets move to a batch of their own,
    /// which is submitted before the next is taken, so this never holds more than two batches of
    /// the pool (holding more could wait forever for a pool that only this thread can refill).
    /// A batch with nothing left goes back to the pool.
    private func submitByPeer(_ batch: PacketBatch, pool: BatchPool, pipeline: OrderedPipeline, readAt: Double) {
        var first: Int?
        var mixed = false
        for index in 0..<batch.count where batch.work[index].key >= 0 {
            let peer = batch.work[index].peer
            if first == nil { first = peer } else if peer != first { mixed = true }
        }
        guard let first else {
            pool.put(batch)
            return
        }
        batch.readAt = readAt
        if !mixed && batch.count <= smallBatch && pipeline.runHereIfIdle(batch, key: first) { return }
        if mixed {
            // Rare (several peers in one read): peers in the order they first appear, one part each.
            var done: Set<Int> = [first]
            for start in 0..<batch.count where batch.work[start].key >= 0 && !done.contains(batch.work[start].peer) {
                let peer = batch.work[start].peer
                done.insert(peer)
                pool.take()._withUnsafeGuaranteedRef { part in
                    for index in start..<batch.count where batch.work[index].key >= 0 && batch.work[index].peer == peer {
                        part.take(index, from: batch)
                    }
                    part.readAt = readAt
                    pipeline.submit(part, key: peer)
                }
            }
        }
        pipeline.submit(batch, key: first)
    }
}

/// A fixed set of batches, owned here for the engine's life and handed out unretained; `take`
/// waits while all are in flight.
final class BatchPool: @unchecked Sendable {
    private let condition = NSCondition()
    private let batches: [PacketBatch]
    private var free: [Unmanaged<PacketBatch>]

    init(count: Int, batchSize: Int) {
        batches = (0..<count).map { _ in PacketBatch(capacity: batchSize) }
        free = batches.map { Unmanaged.passUnretained($0) }
        free.reserveCapacity(count)
    }

    func take() -> Unmanaged<PacketBatch> {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty { condition.wait() }
        let batch = free.removeLast()
        batch._withUnsafeGuaranteedRef { $0.reset() }
        return batch
    }

    func put(_ batch: PacketBatch) {
        condition.lock()
        free.append(Unmanaged.passUnretained(batch))
        condition.signal()
        condition.unlock()
    }
}
