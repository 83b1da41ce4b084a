// Where the engines put what they produce: the TUN device and the UDP socket, behind two small
// protocols so that the engines run over real devices in the daemon and over in-memory sinks in
// tests and `wgbench bench datapath`. Reading is the caller's: it fills batches and submits them.

/// The TUN side: IP packets to deliver.
public protocol PacketSink: AnyObject, Sendable {
    /// Writes the IP packets of the batch's slots with a non-zero length.
    func write(_ batch: PacketBatch)
    /// One packet (the slow path: packets that waited for a handshake).
    func write(_ packet: [UInt8])
}

/// The UDP side: transport and handshake messages to send.
public protocol DatagramSink: AnyObject, Sendable {
    /// Sends the messages of the batch's slots with a non-zero length, each to its endpoint.
    func send(_ batch: PacketBatch)
    /// One message (handshakes, cookie replies, keepalives from the timers).
    func send(_ payload: [UInt8], to endpoint: Endpoint)
}

/// A datapath engine: takes batches read from the TUN device (outbound) and from the UDP socket
/// (inbound) and sees them sealed or opened and delivered.
public protocol DatapathEngine: AnyObject, Sendable {
    /// An empty batch to read into; the parallel engine may block here until one is free (back-pressure).
    func outboundBatch() -> PacketBatch
    /// IP packets read from the TUN device: sealed and sent. The batch belongs to the engine until
    /// `outboundBatch` hands it out again.
    func submitOutbound(_ batch: PacketBatch, now: Double)
    func inboundBatch() -> PacketBatch
    /// Datagrams read from the UDP socket: opened and delivered.
    func submitInbound(_ batch: PacketBatch, now: Double)
    /// Stops the engine's threads (if any) and waits for them.
    func stop()
}

extension DeviceOutput {
    /// Sends what the slow path asks for.
    public func deliver(tun: PacketSink, udp: DatagramSink) {
        for (payload, endpoint) in datagrams { udp.send(payload, to: endpoint) }
        for packet in packets { tun.write(packet) }
    }
}
