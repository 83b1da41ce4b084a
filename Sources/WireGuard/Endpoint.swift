// A peer's UDP endpoint. The address is stored inline (no array), so that making one for every
// received datagram allocates nothing; IPv4 and IPv6. Little-endian hosts (x86-64, arm64).
//
// Sticky sockets (the kernel's socket.c, wireguard-go's sticky_linux.go): an endpoint learned
// from a datagram also holds the local address that datagram came to, and replies leave from it,
// so that a peer which sent to one of several addresses hears back from that one. An endpoint set
// by `wg set` has none (routing chooses), and a source that is gone is dropped when sending fails.

import Foundation

public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    /// The address bytes in network order: the first 4 for IPv4, all 16 for IPv6.
    private let high: UInt64
    private let low: UInt64
    public let isIPv6: Bool
    public let port: UInt16
    /// The local address to send from, as 16 bytes (v4-mapped for IPv4); all zero: none.
    private var sourceHigh: UInt64 = 0, sourceLow: UInt64 = 0

    /// From a socket address's IPv4 address (`sin_addr.s_addr`, network order).
    public init(ipv4 networkOrder: UInt32, port: UInt16) {
        self.init(high: UInt64(networkOrder), low: 0, isIPv6: false, port: port)
    }

    private init(high: UInt64, low: UInt64, isIPv6: Bool, port: UInt16) {
        self.high = high
        self.low = low
        self.isIPv6 = isIPv6
        self.port = port
    }

    /// From 16 address bytes in network order (`sin6_addr`); a v4-mapped address becomes IPv4.
    public init(ipv6 bytes: UnsafeRawBufferPointer, port: UInt16) {
        let first = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        let second = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        if first == 0, second & 0xffff_ffff == 0xffff_0000 {
            self.init(ipv4: UInt32(truncatingIfNeeded: second >> 32), port: port)
        } else {
            self.init(high: first, low: second, isIPv6: true, port: port)
        }
    }

    public init?(address: [UInt8], port: UInt16) {
        guard address.count == 4 || address.count == 16, port > 0 else { return nil }
        if address.count == 4 {
            self.init(ipv4: address.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }, port: port)
        } else {
            self = address.withUnsafeBytes { Endpoint(ipv6: $0, port: port) }
            guard isIPv6 else { return nil }  // a v4-mapped address is written as IPv4
        }
    }

    /// `a.b.c.d:port` or `[addr]:port`.
    public init?(_ text: String) {
        let host: String, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
        }
        guard let bytes = IPPrefix.parse(host), (bytes.count == 4) == !text.hasPrefix("["),
              let port = UAPI.decimal(portText, as: UInt16.self) else { return nil }  // digits only: not `+5`
        self.init(address: bytes, port: port)
    }

    /// The same endpoint, replied to from `source`: 16 bytes, v4-mapped for IPv4 (`wgb_address.source`).
    public func from(source bytes: UnsafeRawBufferPointer) -> Endpoint {
        var endpoint = self
        endpoint.sourceHigh = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        endpoint.sourceLow = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        return endpoint
    }

    /// The same endpoint with no source: routing chooses it again.
    public var withoutSource: Endpoint {
        var endpoint = self
        (endpoint.sourceHigh, endpoint.sourceLow) = (0, 0)
        return endpoint
    }

    /// The source's 16 bytes (all zero: none).
    public func withSourceBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        var storage = (sourceHigh, sourceLow)
        return withUnsafeBytes(of: &storage, body)
    }

    /// The address bytes: 4 or 16.
    public var address: [UInt8] { withAddressBytes { Array($0) } }

    public func withAddressBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        var storage = (high, low)
        return withUnsafeBytes(of: &storage) { body(UnsafeRawBufferPointer(rebasing: $0.prefix(isIPv6 ? 16 : 4))) }
    }

    /// The IPv4 address as `sin_addr.s_addr` wants it (network order); meaningless for IPv6.
    public var ipv4NetworkOrder: UInt32 { UInt32(truncatingIfNeeded: high) }

    public var description: String {
        let host = IPPrefix(address: address, length: isIPv6 ? 128 : 32).description.split(separator: "/")[0]
        return isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

extension Endpoint {
    /// The IPv4 address, or an IPv6 address's first 64 bits: what the handshake rate limiter counts by.
    var addressPrefix64: UInt64 { high }
}
