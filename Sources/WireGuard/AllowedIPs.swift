import Foundation

// Cryptokey routing (whitepaper 2): each peer owns IP prefixes; outbound packets go to the peer
// with the longest matching prefix for their destination, and inbound packets are accepted only
// if their source's longest match is the peer they came from. A binary trie per family.

/// An IPv4 or IPv6 prefix.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    public let address: [UInt8]
    public let length: Int

    /// `a.b.c.d/len`, `v6::/len`, or an address alone (the full length); nil for anything else,
    /// `/` and `1.2.3.4/+8` included.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, !first.isEmpty, let bytes = IPPrefix.parse(first) else { return nil }
        if parts.count == 2 { guard (1...3).contains(parts[1].utf8.count), parts[1].utf8.allSatisfy({ (48...57).contains($0) }) else { return nil } }
        let maximum = bytes.count * 8
        let length = parts.count == 2 ? Int(parts[1]) : maximum
        guard let length, (0...maximum).contains(length) else { return nil }
        self.init(address: bytes, length: length)
    }

    /// The prefix with host bits cleared.
    public init(address: [UInt8], length: Int) {
        var masked = address
        for bit in length..<(address.count * 8) { masked[bit / 8] &= ~(0x80 >> UInt8(bit % 8)) }
        self.address = masked
        self.length = length
    }

    /// 4 bytes (IPv4) or 16 (IPv6) from text.
    public static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = address.count == 4 ? AF_INET : AF_INET6
        _ = address.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, 64) }
        return String(cString: buffer) + "/\(length)"
    }
}

/// Prefixes to peers, with longest-prefix lookup. `Peer` is whatever identifies a peer.
public struct AllowedIPs<Peer: Hashable & Sendable>: Sendable {
    private final class Node: @unchecked Sendable {
        var children: [Node?] = [nil, nil]
        var peer: Peer?
    }

    private var v4 = Node()
    private var v6 = Node()

    public init() {}

    /// Gives `prefix` to `peer` (taking it from whoever had exactly that prefix).
    public mutating func insert(_ prefix: IPPrefix, peer: Peer) {
        var node = root(prefix.address.count)
        for bit in 0..<prefix.length {
            let b = Self.bit(prefix.address, bit)
            if node.children[b] == nil { node.children[b] = Node() }
            node = node.children[b]!
        }
        node.peer = peer
    }

    /// The peer whose prefix matches `address` longest, if any.
    public func lookup(_ address: [UInt8]) -> Peer? {
        guard address.count == 4 || address.count == 16 else { return nil }
        return address.withUnsafeBytes { lookup($0.baseAddress!, count: $0.count) }
    }

    /// The same over `count` (4 or 16) address bytes where they lie in a packet: the datapath's call.
    public func lookup(_ address: UnsafeRawPointer, count: Int) -> Peer? {
        var node: Node? = count == 4 ? v4 : v6
        var best: Peer?
        var bit = 0
        while let current = node {
            if let peer = current.peer { best = peer }
            guard bit < count * 8 else { break }
            let byte = address.load(fromByteOffset: bit >> 3, as: UInt8.self)
            node = current.children[Int(byte >> UInt8(7 - (bit & 7))) & 1]
            bit += 1
        }
        return best
    }

    /// Removes every prefix of `peer`.
    public mutating func remove(peer: Peer) {
        for node in [v4, v6] { Self.remove(peer, from: node) }
    }

    /// Every (prefix, peer) pair, for `wg show`.
    public func entries(of peer: Peer) -> [IPPrefix] {
        var out: [IPPrefix] = []
        for (node, count) in [(v4, 4), (v6, 16)] { Self.collect(node, peer: peer, bits: [], count: count, into: &out) }
        return out
    }

    private func root(_ count: Int) -> Node { count == 4 ? v4 : v6 }

    private static func bit(_ address: [UInt8], _ index: Int) -> Int { Int(address[index / 8] >> UInt8(7 - index % 8)) & 1 }

    private static func remove(_ peer: Peer, from node: Node) {
        if node.peer == peer { node.peer = nil }
        for child in node.children.compactMap({ $0 }) { remove(peer, from: child) }
    }

    private static func collect(_ node: Node, peer: Peer, bits: [Int], count: Int, into out: inout [IPPrefix]) {
        if node.peer == peer {
            var bytes = [UInt8](repeating: 0, count: count)
            for (index, bit) in bits.enumerated() where bit == 1 { bytes[index / 8] |= 0x80 >> UInt8(index % 8) }
            out.append(IPPrefix(address: bytes, length: bits.count))
        }
        for (b, child) in node.children.enumerated() { if let child { collect(child, peer: peer, bits: bits + [b], count: count, into: &out) } }
    }
}
