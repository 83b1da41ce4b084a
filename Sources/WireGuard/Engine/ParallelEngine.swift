// The parallel engine (the kernel's "vanilla" design): the thread that read a batch only takes
// its counters (or finds its sessions) and queues it; a pool of worker threads on the encrypt
// (decrypt) CPU set seals (opens) batches in any order; a serial consumer per direction, on its
// own CPU, sends (delivers) them strictly in order per peer. Batches come from a fixed pool: when
// the workers fall behind, reading waits (back-pressure) instead of allocating.

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

    public init(device: Device, tun: PacketSink, udp: DatagramSink, options: ParallelOptions = ParallelOptions(),
                batchSize: Int = PacketBatch.defaultCapacity) {
        self.device = device
        self.tun = tun
        self.udp = udp
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
                                  deliver: { [device, tun, inboundPool] batch in
                                      BatchSteps.finishInbound(batch, device: device, now: batch.readAt, tun: tun, udp: udp)
                                      tun.write(batch)
                                      inboundPool.put(batch)
                                  })
    }

    public func outboundBatch() -> PacketBatch { outboundPool.take() }
    public func inboundBatch() -> PacketBatch { inboundPool.take() }

    public func submitOutbound(_ batch: PacketBatch, now: Double) {
        BatchSteps.prepareOutbound(batch, device: device, now: now, tun: tun, udp: udp)
        submitByPeer(batch, pool: outboundPool, pipeline: encrypt, readAt: now, peerOf: { batch.sealings[$0]?.peer })
    }

    public func submitInbound(_ batch: PacketBatch, now: Double) {
        BatchSteps.prepareInbound(batch, device: device, now: now, tun: tun, udp: udp)
        submitByPeer(batch, pool: inboundPool, pipeline: decrypt, readAt: now, peerOf: { batch.openings[$0]?.peer })
    }

    public func stop() {
        encrypt.stop()
        decrypt.stop()
    }

    /// The batch as one part per peer. The common case (one peer: wgbench's tunnels each have one)
    /// keeps the batch whole. Otherwise each other peer's packets move to a batch of their own,
    /// which is submitted before the next is taken, so this never holds more than two batches of
    /// the pool (holding more could wait forever for a pool that only this thread can refill).
    /// A batch with nothing left goes back to the pool.
    private func submitByPeer(_ batch: PacketBatch, pool: BatchPool, pipeline: OrderedPipeline, readAt: Double,
                              peerOf: (Int) -> Peer?) {
        var first: Peer?
        var others: [Peer] = []
        for index in 0..<batch.count {
            guard let peer = peerOf(index) else { continue }
            if first == nil { first = peer } else if peer !== first, !others.contains(where: { $0 === peer }) { others.append(peer) }
        }
        guard let first else {
            pool.put(batch)
            return
        }
        for peer in others {
            let part = pool.take()
            for index in 0..<batch.count where peerOf(index) === peer {
                let target = part.count
                part.slot(target).copyMemory(from: UnsafeRawBufferPointer(batch.slot(index)))
                part.lengths[target] = batch.lengths[index]
                part.endpoints[target] = batch.endpoints[index]
                part.sealings[target] = batch.sealings[index]
                part.openings[target] = batch.openings[index]
                part.count += 1
                batch.lengths[index] = 0
                batch.sealings[index] = nil
                batch.openings[index] = nil
            }
            part.readAt = readAt
            pipeline.submit(part, key: ObjectIdentifier(peer))
        }
        batch.readAt = readAt
        pipeline.submit(batch, key: ObjectIdentifier(first))
    }
}

/// A fixed set of batches; `take` waits while all are in flight.
final class BatchPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var free: [PacketBatch]

    init(count: Int, batchSize: Int) {
        free = (0..<count).map { _ in PacketBatch(capacity: batchSize) }
        free.reserveCapacity(count)
    }

    func take() -> PacketBatch {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty { condition.wait() }
        let batch = free.removeLast()
        batch.reset()
        return batch
    }

    func put(_ batch: PacketBatch) {
        condition.lock()
        free.append(batch)
        condition.signal()
        condition.unlock()
    }
}
