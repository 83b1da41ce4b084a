// The per-packet steps of both engines over a batch. The inline engine runs them one after the
// other on one thread; the parallel engine runs `prepare` on the reading thread, `seal`/`open` on
// its workers and `finish` on the ordered consumer.

enum BatchSteps {
    /// Takes a counter for every packet that can be sealed; the rest go the slow path (dropped or
    /// queued for a handshake, with what that sends).
    static func prepareOutbound(_ batch: PacketBatch, device: Device, now: Double, tun: PacketSink, udp: DatagramSink) {
        for index in 0..<batch.count {
            batch.sealings[index] = nil
            guard batch.lengths[index] > 0 else { continue }
            switch device.prepareSend(UnsafeRawBufferPointer(batch.packet(index)), now: now) {
            case .seal(let sealing):
                batch.sealings[index] = sealing
            case .handled(let output):
                batch.lengths[index] = 0
                if !output.isEmpty { output.deliver(tun: tun, udp: udp) }
            }
        }
    }

    /// Seals every prepared packet in place; needs no lock.
    static func seal(_ batch: PacketBatch) {
        for index in 0..<batch.count {
            guard let sealing = batch.sealings[index] else { continue }
            batch.lengths[index] = Device.seal(batch.slot(index), length: batch.lengths[index], with: sealing)
            batch.endpoints[index] = sealing.endpoint
            batch.sealings[index] = nil
        }
    }

    /// Finds the session of every transport message; handshake messages are answered here.
    static func prepareInbound(_ batch: PacketBatch, device: Device, now: Double, tun: PacketSink, udp: DatagramSink) {
        for index in 0..<batch.count {
            batch.openings[index] = nil
            guard batch.lengths[index] > 0 else { continue }
            switch device.prepareReceive(UnsafeRawBufferPointer(batch.message(index)), from: batch.endpoints[index], now: now) {
            case .open(let opening):
                batch.openings[index] = opening
            case .handled(let output):
                batch.lengths[index] = 0
                if !output.isEmpty { output.deliver(tun: tun, udp: udp) }
            }
        }
    }

    /// Authenticates and decrypts every prepared message in place; needs no lock.
    static func open(_ batch: PacketBatch, device: Device) {
        for index in 0..<batch.count {
            guard let opening = batch.openings[index] else { continue }
            if !Device.open(batch.slot(index), length: batch.lengths[index], with: opening) {
                batch.openings[index] = nil
                batch.lengths[index] = 0
                device.countUnauthenticated()
            }
        }
    }

    /// Replay checks, counters and source checks, in the order the messages arrived; leaves the IP
    /// packets to deliver (length 0: keepalive or dropped).
    static func finishInbound(_ batch: PacketBatch, device: Device, now: Double, tun: PacketSink, udp: DatagramSink) {
        var released = DeviceOutput()
        defer { if !released.isEmpty { released.deliver(tun: tun, udp: udp) } }
        for index in 0..<batch.count {
            guard let opening = batch.openings[index] else {
                batch.lengths[index] = 0
                continue
            }
            let messageLength = batch.lengths[index]
            let plaintext = UnsafeRawBufferPointer(start: batch.slot(index).baseAddress! + Device.headroom,
                                                   count: messageLength - Device.overhead)
            batch.lengths[index] = device.finishReceive(opening, plaintext: plaintext, messageLength: messageLength,
                                                        from: batch.endpoints[index], now: now, output: &released) ?? 0
            batch.openings[index] = nil
        }
    }
}
