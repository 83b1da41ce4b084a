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

/// A request read and checked, before it touches a configuration: every value is parsed here,
/// so that applying it (under the device's lock) is a linear walk with no text left to read.
public enum UAPIRequest: Sendable {
    case get
    case set([UAPI.Operation])
    /// Refused as it stands: the errno to answer with.
    case refused(Int32)
}

public enum UAPI {
    /// Errno values as the protocol reports them (negative, as wireguard-go does).
    public static let invalid: Int32 = -22
    public static let protocolError: Int32 = -71

    /// One `key=value` line of a set, its value parsed. Device keys come before the first
    /// `public_key`; peer keys only after one.
    public enum Operation: Sendable {
        case privateKey(Secret?)  // nil: all zero, no key
        case listenPort(UInt16)
        case fwmark(UInt32)
        case replacePeers
        case publicKey([UInt8])
        case remove
        case updateOnly
        case presharedKey(Secret)
        case endpoint(Endpoint)
        case persistentKeepalive(UInt16)
        case replaceAllowedIPs
        case allowedIP(IPPrefix)
        case protocolVersion
    }

    /// Answers one request (`get=1\n\n` or `set=1\n...\n\n`), changing `configuration` on a
    /// successful set. `removed`: the public keys of peers that a successful set removed
    /// (`remove=true`, `replace_peers=true`), even those it then added again: such a peer starts
    /// afresh, without the sessions of the one removed (`wg setconf` ends every session).
    public static func handle(_ request: String, configuration: inout DeviceConfiguration, removed: inout Set<[UInt8]>) -> String {
        answer(parse(request), configuration: &configuration, removed: &removed)
    }

    public static func handle(_ request: String, configuration: inout DeviceConfiguration) -> String {
        var removed = Set<[UInt8]>()
        return handle(request, configuration: &configuration, removed: &removed)
    }

    /// Applies a parsed request (a set) or reads the configuration (a get); the answer's text.
    public static func answer(_ request: UAPIRequest, configuration: inout DeviceConfiguration, removed: inout Set<[UInt8]>) -> String {
        switch request {
        case .get: return get(configuration) + "errno=0\n\n"
        case .set(let operations): return "errno=\(apply(operations, to: &configuration, removed: &removed))\n\n"
        case .refused(let errno): return "errno=\(errno)\n\n"
        }
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

    /// Reads a request's lines and every value in them; no configuration is needed, so the device
    /// does this before it takes its lock.
    public static func parse(_ request: String) -> UAPIRequest {
        let lines = request.split(separator: "\n", omittingEmptySubsequences: false)
        switch lines.first {
        case "get=1": return .get
        case "set=1": break
        default: return .refused(protocolError)
        }
        var operations: [Operation] = []
        operations.reserveCapacity(lines.count)
        var inPeer = false
        for line in lines.dropFirst() where !line.isEmpty {
            guard let equals = line.firstIndex(of: "="),
                  let operation = operation(key: line[..<equals], value: String(line[line.index(after: equals)...]), inPeer: inPeer) else {
                return .refused(invalid)
            }
            if case .publicKey = operation { inPeer = true }
            operations.append(operation)
        }
        return .set(operations)
    }

    /// One line's operation, or nil: an unknown key, a key in the wrong section, a bad value.
    private static func operation(key: Substring, value: String, inPeer: Bool) -> Operation? {
        switch (key, inPeer) {
        case ("public_key", _): return unhex(value).map(Operation.publicKey)
        case ("private_key", false): return unhexSecret(value).map { .privateKey($0.isZero ? nil : $0) }
        case ("listen_port", false): return decimal(value, as: UInt16.self).map(Operation.listenPort)
        case ("fwmark", false): return decimal(value, as: UInt32.self).map(Operation.fwmark)
        case ("replace_peers", false): return value == "true" ? .replacePeers : nil
        case ("remove", true): return value == "true" ? .remove : nil
        case ("update_only", true): return value == "true" ? .updateOnly : nil
        case ("preshared_key", true): return unhexSecret(value).map(Operation.presharedKey)
        case ("endpoint", true): return Endpoint(value).map(Operation.endpoint)
        case ("persistent_keepalive_interval", true): return decimal(value, as: UInt16.self).map(Operation.persistentKeepalive)
        case ("replace_allowed_ips", true): return value == "true" ? .replaceAllowedIPs : nil
        case ("allowed_ip", true): return value.contains("/") ? IPPrefix(value).map(Operation.allowedIP) : nil
        case ("protocol_version", true): return value == "1" ? .protocolVersion : nil
        default: return nil
        }
    }

    /// Applies set operations to a copy, committed only if all of them apply; returns the errno.
    /// Linear in the operations and the peers: peers are found by key in a dictionary, a peer's
    /// allowed IPs de-duplicated with a set, and removed peers only marked until the end.
    static func apply(_ operations: [Operation], to configuration: inout DeviceConfiguration, removed: inout Set<[UInt8]>) -> Int32 {
        var draft = configuration
        var gone = Set<[UInt8]>()
        var dead = [Bool](repeating: false, count: draft.peers.count)  // removed, compacted at the end
        var positions = Dictionary(draft.peers.enumerated().map { ($1.publicKey, $0) }, uniquingKeysWith: { first, _ in first })
        var seen: [Int: Set<IPPrefix>] = [:]  // allowed IPs of the peers this request adds to
        var ownPublicKey = draft.privateKey.map { Curve25519.publicKey(of: $0) }
        var existing: Set<[UInt8]>?  // the peers before the request, for update_only
        var peer: Int?  // the current peer's position; nil: the device section, or a peer ignored

        func drop(_ position: Int) {
            dead[position] = true
            positions[draft.peers[position].publicKey] = nil
            seen[position] = nil
        }
        for operation in operations {
            switch operation {
            case .privateKey(let key):
                draft.privateKey = key
                ownPublicKey = key.map { Curve25519.publicKey(of: $0) }
            case .listenPort(let port): draft.listenPort = port
            case .fwmark(let mark): draft.fwmark = mark
            case .replacePeers:
                gone.formUnion(positions.keys)
                for position in positions.values { drop(position) }
            case .publicKey(let key):
                // A peer with the device's own public key is ignored, as the kernel and wireguard-go do.
                if key == ownPublicKey {
                    peer = nil
                } else if let position = positions[key] {
                    peer = position
                } else {
                    draft.peers.append(PeerConfiguration(publicKey: key))
                    dead.append(false)
                    positions[key] = draft.peers.count - 1
                    peer = draft.peers.count - 1
                }
            default:
                guard let position = peer else { continue }  // removed, or update_only for a peer that does not exist
                switch operation {
                case .remove:
                    gone.insert(draft.peers[position].publicKey)
                    drop(position)
                    peer = nil
                case .updateOnly:
                    if existing == nil { existing = Set(configuration.peers.map(\.publicKey)) }
                    if existing?.contains(draft.peers[position].publicKey) == false {
                        drop(position)
                        peer = nil
                    }
                case .presharedKey(let key): draft.peers[position].presharedKey = key
                case .endpoint(let endpoint): draft.peers[position].endpoint = endpoint
                case .persistentKeepalive(let seconds): draft.peers[position].persistentKeepalive = seconds
                case .replaceAllowedIPs:
                    draft.peers[position].allowedIPs = []
                    seen[position] = []
                case .allowedIP(let prefix):
                    if seen[position] == nil { seen[position] = Set(draft.peers[position].allowedIPs) }
                    if seen[position]!.insert(prefix).inserted { draft.peers[position].allowedIPs.append(prefix) }
                default:
                    break  // protocol_version=1: nothing to change
                }
            }
        }
        if dead.contains(true) { draft.peers = zip(draft.peers, dead).filter { !$0.1 }.map(\.0) }
        configuration = draft
        removed.formUnion(gone)
        return 0
    }

    /// A decimal number of ASCII digits only, as wireguard-go's strconv.ParseUint reads it: no
    /// sign (Swift's own parser takes `+5`), no space, nothing after; nil if it does not fit.
    public static func decimal<Number: FixedWidthInteger & UnsignedInteger>(_ text: some StringProtocol, as: Number.Type) -> Number? {
        guard !text.utf8.isEmpty, text.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Number(text, radix: 10)
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
