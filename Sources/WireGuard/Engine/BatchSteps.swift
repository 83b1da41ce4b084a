// The steps of both engines over a batch. The inline engine runs them one after the other on one
// thread; the parallel engine runs `prepare` on the reading thread, `seal`/`open` on its workers
// and `finish` (and sending or delivering) on the ordered consumer. What the slow path asks for
// (packets that waited for a session) is sent right away; handshake messages received go to the
// engine's HandshakeWorker.

enum BatchSteps {
    /// Takes a counter for every packet that can be sealed; the rest are dropped or wait for a handshake.
    static func prepareOutbound(_ batch: PacketBatch, device: Device, now: Double, tun: PacketSink, udp: DatagramSink) {
        let output = device.prepareOutbound(batch, now: now)
        if !output.isEmpty { output.deliver(tun: tun, udp: udp) }
    }

    /// Seals every prepared packet in place; needs no lock.
    static func seal(_ batch: PacketBatch) { Device.seal(batch) }

    /// Finds the session of every transport message; handshake messages go to the handshake thread.
    static func prepareInbound(_ batch: PacketBatch, device: Device, now: Double) { device.prepareInbound(batch, now: now) }

    /// Authenticates and decrypts every prepared message in place; the lock only to count failures.
    static func open(_ batch: PacketBatch, device: Device) { device.countUnauthenticated(Device.open(batch)) }

    /// Replay checks, counters and source checks, in the order the messages arrived; leaves the IP
    /// packets to deliver (length 0: keepalive or dropped).
    static func finishInbound(_ batch: PacketBatch, device: Device, now: Double, tun: PacketSink, udp: DatagramSink) {
        let released = device.finishInbound(batch, now: now)
        if !released.isEmpty { released.deliver(tun: tun, udp: udp) }
    }
}
