// The run-to-completion engine (the paper's "inline"): the thread that read a batch seals or
// opens it and delivers it before reading the next. One thread per tunnel, pinned by the daemon
// to the tunnel's CPU; no queues, no hand-off, no reordering possible.

public final class InlineEngine: DatapathEngine, @unchecked Sendable {
    private let device: Device
    private let tun: PacketSink
    private let udp: DatagramSink
    private let outbound: PacketBatch
    private let inbound: PacketBatch

    public init(device: Device, tun: PacketSink, udp: DatagramSink, batchSize: Int = PacketBatch.defaultCapacity) {
        self.device = device
        self.tun = tun
        self.udp = udp
        outbound = PacketBatch(capacity: batchSize)
        inbound = PacketBatch(capacity: batchSize)
    }

    public func outboundBatch() -> PacketBatch {
        outbound.reset()
        return outbound
    }

    public func submitOutbound(_ batch: PacketBatch, now: Double) {
        BatchSteps.prepareOutbound(batch, device: device, now: now, tun: tun, udp: udp)
        BatchSteps.seal(batch)
        udp.send(batch)
    }

    public func inboundBatch() -> PacketBatch {
        inbound.reset()
        return inbound
    }

    public func submitInbound(_ batch: PacketBatch, now: Double) {
        BatchSteps.prepareInbound(batch, device: device, now: now, tun: tun, udp: udp)
        BatchSteps.open(batch, device: device)
        BatchSteps.finishInbound(batch, device: device, now: now, tun: tun, udp: udp)
        tun.write(batch)
    }

    public func stop() {}
}
