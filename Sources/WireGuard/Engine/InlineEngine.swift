// The run-to-completion engine (the paper's "inline"): the thread that read a batch seals or
// opens it and delivers it before reading the next. One thread per tunnel, pinned by the daemon
// to the tunnel's CPU; no queues, no hand-off, no reordering possible. Its two batches are its
// own, lent to the reading code for the time of one call. Handshake messages go to its
// handshake thread, as in every engine.

public final class InlineEngine: DatapathEngine, @unchecked Sendable {
    private let device: Device
    private let tun: PacketSink
    private let udp: DatagramSink
    private let outboundBatch: PacketBatch
    private let inboundBatch: PacketBatch
    private let handshakes: HandshakeWorker

    public init(device: Device, tun: PacketSink, udp: DatagramSink, batchSize: Int = PacketBatch.defaultCapacity) {
        self.device = device
        self.tun = tun
        self.udp = udp
        outboundBatch = PacketBatch(capacity: batchSize)
        inboundBatch = PacketBatch(capacity: batchSize)
        handshakes = HandshakeWorker(device: device, tun: tun, udp: udp)
    }

    public func outbound<Result>(now: Double, _ fill: (PacketBatch) -> Result) -> Result {
        let batch = outboundBatch
        batch.reset()
        let result = fill(batch)
        guard batch.count > 0 else { return result }
        BatchSteps.prepareOutbound(batch, device: device, now: now, tun: tun, udp: udp)
        BatchSteps.seal(batch)
        udp.send(batch)
        return result
    }

    public func inbound<Result>(now: Double, _ fill: (PacketBatch) -> Result) -> Result {
        let batch = inboundBatch
        batch.reset()
        let result = fill(batch)
        guard batch.count > 0 else { return result }
        BatchSteps.prepareInbound(batch, device: device, now: now)
        BatchSteps.open(batch, device: device)
        BatchSteps.finishInbound(batch, device: device, now: now, tun: tun, udp: udp)
        tun.write(batch)
        return result
    }

    public func stop() { handshakes.stop() }
}
