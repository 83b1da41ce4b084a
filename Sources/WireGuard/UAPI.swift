// WireGuard's cross-platform userspace API (wireguard.com/xplatform), the protocol `wg` speaks
// over /var/run/wireguard/<ifname>.sock: `get=1` answers the configuration and counters as
// key=value lines, `set=1` applies key=value operations; each ends with `errno=N` and an empty
// line. Pure text in, text out: the socket lives in the daemon. A `set` applies all or nothing.
// Keys that are secret (the private key, preshared keys) go from hex straight into a `Secret`
// and back to hex from it, never through an array: the configuration holds the device's only
// copy, shared with the device's identity, and wiped when both let it go.

import Foundation
import WireGuardCrypto

/// The configuration `wg` sets and reads, plus the per-peer counters it shows.
public struct DeviceConfiguration: Sendable, Equatable {
    public var privateKey: Secret?
    public var listenPort: UInt16 = 0
    public var fwmark: UInt32 = 0
    public var peers: [PeerConfiguration] = []

    public init() {}

    public func peer(_ publicKey: [UInt8]) -> PeerConfiguration? { peers.first { $0.publicKey == publicKey } }
}

public struct PeerConfiguration: Sendable, Equatable {
    public var publicKey: [UInt8]
    public var presharedKey = Secret(count: 32)
    public var endpoint: Endpoint?
    public var persistentKeepalive: UInt16 = 0
    public var allowedIPs: [IPPrefix] = []
    // Counters, reported by get.
    public var lastHandshake: (seconds: Int, nanoseconds: Int) = (0, 0)
    public var txBytes: UInt64 = 0
    public var rxBytes: UInt64 = 0

    public init(publicKey: [UInt8]) { self.publicKey = publicKey }

    public static func == (a: PeerConfiguration, b: PeerConfiguration) -> Bool {
        a.publicKey == b.publicKey && a.presharedKey == b.presharedKey && a.endpoint == b.endpoint
            && a.persistentKeepalive == b.persistentKeepalive && a.allowedIPs == b.allowedIPs
            && a.lastHandshake == b.lastHandshake && a.txBytes == b.txBytes && a.rxBytes == b.rxBytes
    }
}

public enum UAPI {
    /// Errno values as the protocol reports them (negative, as wireguard-go does).
    public static let invalid: Int32 = -22
    public static let protocolError: Int32 = -71

    /// Answers one request (`get=1\n\n` or `set=1\n...\n\n`), changing `configuration` on a
    /// successful set. `removed`: the public keys of peers that a successful set removed
    /// (`remove=true`, `replace_peers=true`), even those it then added again: such a peer starts
    /// afresh, without the sessions of the one removed (`wg setconf` ends every session).
    public static func handle(_ request: String, configuration: inout DeviceConfiguration, removed: inout Set<[UInt8]>) -> String {
        let lines = request.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        switch lines.first {
        case "get=1":
            return get(configuration) + "errno=0\n\n"
        case "set=1":
            let errno = set(Array(lines.dropFirst()), configuration: &configuration, removed: &removed)
            return "errno=\(errno)\n\n"
        default:
            return "errno=\(protocolError)\n\n"
        }
    }

    public static func handle(_ request: String, configuration: inout DeviceConfiguration) -> String {
        var removed = Set<[UInt8]>()
        return handle(request, configuration: &configuration, removed: &removed)
    }

    public static func get(_ configuration: DeviceConfiguration) -> String {
        var out = ""
        if let key = configuration.privateKey { out += "private_key=\(hex(key))\n" }
        if configuration.listenPort != 0 { out += "listen_port=\(configuration.listenPort)\n" }
        if configuration.fwmark != 0 { out += "fwmark=\(configuration.fwmark)\n" }
        for peer in configuration.peers {
            out += "public_key=\(hex(peer.publicKey))\npreshared_key=\(hex(peer.presharedKey))\nprotocol_version=1\n"
            if let endpoint = peer.endpoint { out += "endpoint=\(endpoint)\n" }
            out += "last_handshake_time_sec=\(peer.lastHandshake.seconds)\nlast_handshake_time_nsec=\(peer.lastHandshake.nanoseconds)\n"
            out += "tx_bytes=\(peer.txBytes)\nrx_bytes=\(peer.rxBytes)\npersistent_keepalive_interval=\(peer.persistentKeepalive)\n"
            for prefix in peer.allowedIPs { out += "allowed_ip=\(prefix)\n" }
        }
        return out
    }

    /// Applies set operations to a copy, committed only if every line is valid; returns the errno.
    static func set(_ lines: [String], configuration: inout DeviceConfiguration, removed: inout Set<[UInt8]>) -> Int32 {
        enum Section { case device, peer(Int), ignoredPeer }
        var draft = configuration
        var gone = Set<[UInt8]>()
        var section = Section.device
        for line in lines where !line.isEmpty {
            guard let equals = line.firstIndex(of: "=") else { return invalid }
            let key = String(line[..<equals]), value = String(line[line.index(after: equals)...])
            if key == "public_key" {
                guard let publicKey = unhex(value) else { return invalid }
                // A peer with the device's own public key is ignored, as the kernel and wireguard-go do.
                if let privateKey = draft.privateKey, publicKey == Curve25519.publicKey(of: privateKey) {
                    section = .ignoredPeer
                } else if let index = draft.peers.firstIndex(where: { $0.publicKey == publicKey }) {
                    section = .peer(index)
                } else {
                    draft.peers.append(PeerConfiguration(publicKey: publicKey))
                    section = .peer(draft.peers.count - 1)
                }
                continue
            }
            switch section {
            case .device:
                switch key {
                case "private_key":
                    guard let key = unhexSecret(value) else { return invalid }
                    draft.privateKey = key.isZero ? nil : key
                case "listen_port":
                    guard let port = UInt16(value) else { return invalid }
                    draft.listenPort = port
                case "fwmark":
                    guard let mark = UInt32(value) else { return invalid }
                    draft.fwmark = mark
                case "replace_peers":
                    guard value == "true" else { return invalid }
                    gone.formUnion(draft.peers.map(\.publicKey))
                    draft.peers = []
                default:
                    return invalid
                }
            case .ignoredPeer:
                continue  // removed, or update_only for a peer that does not exist
            case .peer(let index):
                switch key {
                case "remove":
                    guard value == "true" else { return invalid }
                    gone.insert(draft.peers.remove(at: index).publicKey)
                    section = .ignoredPeer
                case "update_only":
                    guard value == "true" else { return invalid }
                    if configuration.peer(draft.peers[index].publicKey) == nil {
                        draft.peers.remove(at: index)
                        section = .ignoredPeer
                    }
                case "preshared_key":
                    guard let key = unhexSecret(value) else { return invalid }
                    draft.peers[index].presharedKey = key
                case "endpoint":
                    guard let endpoint = Endpoint(value) else { return invalid }
                    draft.peers[index].endpoint = endpoint
                case "persistent_keepalive_interval":
                    guard let seconds = UInt16(value) else { return invalid }
                    draft.peers[index].persistentKeepalive = seconds
                case "replace_allowed_ips":
                    guard value == "true" else { return invalid }
                    draft.peers[index].allowedIPs = []
                case "allowed_ip":
                    guard value.contains("/"), let prefix = IPPrefix(value) else { return invalid }
                    if !draft.peers[index].allowedIPs.contains(prefix) { draft.peers[index].allowedIPs.append(prefix) }
                case "protocol_version":
                    guard value == "1" else { return invalid }
                default:
                    return invalid
                }
            }
        }
        configuration = draft
        removed.formUnion(gone)
        return 0
    }

    public static func hex(_ bytes: [UInt8]) -> String { bytes.withUnsafeBytes(hex) }

    /// A secret's hex, read a byte at a time where it lies.
    public static func hex(_ secret: Secret) -> String { secret.withUnsafeBytes(hex) }

    private static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    /// 64 ASCII hex digits -> 32 bytes; nil for anything else (a sign, non-ASCII, another length).
    public static func unhex(_ text: String) -> [UInt8]? {
        unhexSecret(text)?.withUnsafeBytes { Array($0) }
    }

    /// The same, written straight into a secret.
    public static func unhexSecret(_ text: String) -> Secret? {
        let digits = Array(text.utf8)
        guard digits.count == 64 else { return nil }
        let value = { (digit: UInt8) -> UInt8? in
            switch digit {
            case 48...57: return digit - 48
            case 97...102: return digit - 87
            case 65...70: return digit - 55
            default: return nil
            }
        }
        let key = Secret(count: 32)
        let ok = key.withUnsafeMutableBytes { out in
            for index in 0..<32 {
                guard let high = value(digits[2 * index]), let low = value(digits[2 * index + 1]) else { return false }
                out[index] = high << 4 | low
            }
            return true
        }
        return ok ? key : nil
    }
}
