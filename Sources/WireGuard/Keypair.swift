// One session's transport keys (whitepaper 5.4.5): what the datapath needs per packet, in one
// object shared by reference between the device and the engines' threads. The keys live in
// memory of their own, wiped when the last reference goes (the kernel's keypair zeroing).
// Counters and the replay window are changed only under the device's lock.

import WireGuardCrypto

public final class Keypair: @unchecked Sendable {
    public let localIndex: UInt32
    public let remoteIndex: UInt32
    public let isInitiator: Bool
    /// When the handshake that made it completed (device clock).
    public let created: Double
    /// 32 bytes of sending key, then 32 of receiving key.
    private let keys: UnsafeMutableRawPointer

    /// The next counter to send with.
    var sendCounter: UInt64 = 0
    var replay = ReplayCounter()

    public init(_ transport: TransportKeys, created: Double) {
        localIndex = transport.localIndex
        remoteIndex = transport.remoteIndex
        isInitiator = transport.isInitiator
        self.created = created
        keys = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16)
        transport.sending.withUnsafeBytes { keys.copyMemory(from: $0.baseAddress!, byteCount: 32) }
        transport.receiving.withUnsafeBytes { (keys + 32).copyMemory(from: $0.baseAddress!, byteCount: 32) }
    }

    deinit {
        SecureMemory.wipe(keys, count: 64)
        keys.deallocate()
    }

    var sendingKey: UnsafeRawPointer { UnsafeRawPointer(keys) }
    var receivingKey: UnsafeRawPointer { UnsafeRawPointer(keys + 32) }
}
