// Transport messages (whitepaper 5.4.6): header (type 4, receiver index, 64-bit counter), then
// the packet padded to 16 bytes and sealed with the session key, counter as nonce. A keepalive
// is an empty packet.

import WireGuardCrypto

public enum TransportMessage {
    /// Seals `packet` for the peer: returns the whole UDP payload.
    public static func seal(_ packet: [UInt8], keys: TransportKeys, counter: UInt64) -> [UInt8] {
        let padded = (packet.count + WireConstants.paddingMultiple - 1) / WireConstants.paddingMultiple * WireConstants.paddingMultiple
        var message = [UInt8](repeating: 0, count: WireConstants.transportHeaderLength + padded + AEAD.tagLength)
        message[0] = MessageType.transport.rawValue
        message.writeUInt32LE(keys.remoteIndex, at: 4)
        message.writeUInt64LE(counter, at: 8)
        message.replaceSubrange(16..<(16 + packet.count), with: packet)
        AEAD.seal(key: keys.sending, counter: counter, buffer: &message, range: 16..<(16 + padded))
        return message
    }

    /// The receiver index and counter of a transport message, before any decryption.
    public static func header(_ message: [UInt8]) -> (receiver: UInt32, counter: UInt64)? {
        guard message.count >= WireConstants.minimumTransportLength, message[0] == MessageType.transport.rawValue,
              message[1] == 0, message[2] == 0, message[3] == 0 else { return nil }
        return (message.readUInt32LE(at: 4), message.readUInt64LE(at: 8))
    }

    /// Opens a transport message (padding included; the IP header says the real length); nil when it
    /// does not authenticate. Replay checks are the caller's, after this succeeds.
    public static func open(_ message: [UInt8], keys: TransportKeys) -> [UInt8]? {
        guard let (_, counter) = header(message) else { return nil }
        var buffer = message
        let range = 16..<(message.count - AEAD.tagLength)
        guard AEAD.open(key: keys.receiving, counter: counter, buffer: &buffer, range: range) else { return nil }
        return Array(buffer[range])
    }
}
