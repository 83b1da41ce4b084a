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
/// (inbound) and sees them sealed or opened and delivered. A batch is lent to the reading code for
/// the time of one call, so that no reference to it is handed over (or counted) per batch.
public protocol DatapathEngine: AnyObject, Sendable {
    /// Lends an empty batch to `fill` (IP packets read from the TUN device), then has what it holds
    /// sealed and sent. The parallel engine may wait for a free batch first (back-pressure).
    func outbound<Result>(now: Double, _ fill: (PacketBatch) -> Result) -> Result
    /// Lends an empty batch to `fill` (datagrams read from the UDP socket), then has what it holds
    /// opened and delivered.
    func inbound<Result>(now: Double, _ fill: (PacketBatch) -> Result) -> Result
    /// Stops the engine's threads (its handshake thread, its workers) and waits for them.
    func stop()
}

extension DeviceOutput {
    /// Sends what the slow path asks for.
    public func deliver(tun: PacketSink, udp: DatagramSink) {
        for (payload, endpoint) in datagrams { udp.send(payload, to: endpoint) }
        for packet in packets { tun.write(packet) }
    }
}
