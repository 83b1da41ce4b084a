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
        if parts.count == 2 { guard (1...3).contains(parts[1].utf8.count) else { return nil } }
        let maximum = bytes.count * 8
        let length = parts.count == 2 ? UAPI.decimal(parts[1], as: UInt.self).map { Int($0) } : maximum
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

    /// 4 bytes (IPv4) or 16 (IPv6) from text; nil for anything else. A NUL is refused first:
    /// inet_pton reads a C string and would stop there, taking `1.2.3.4\0junk` for 1.2.3.4.
    public static func parse(_ text: String) -> [UInt8]? {
        guard !text.utf8.contains(0) else { return nil }
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
///
/// The trie is flat: nodes are values in one array, linked by index, so that a lookup (the
/// datapath's, once per packet each way) walks plain memory and touches no reference count.
public struct AllowedIPs<Peer: Hashable & Sendable>: Sendable {
    private struct Node: Sendable {
        /// Indices of the children in `nodes`; 0: none (node 0 and 1 are the roots, never children).
        var zero: Int32 = 0
        var one: Int32 = 0
        /// Index in `values`; -1: no prefix ends here.
        var value: Int32 = -1
    }

    /// Node 0: the IPv4 root; node 1: the IPv6 root.
    private var nodes = [Node(), Node()]
    private var values: [Peer] = []
    /// Each peer's index in `values`: inserting many peers' prefixes stays linear.
    private var valueIndices: [Peer: Int] = [:]

    public init() {}

    /// Gives `prefix` to `peer` (taking it from whoever had exactly that prefix).
    public mutating func insert(_ prefix: IPPrefix, peer: Peer) {
        var node = Self.root(prefix.address.count)
        for bit in 0..<prefix.length {
            let one = Self.bit(prefix.address, bit) == 1
            var child = one ? nodes[node].one : nodes[node].zero
            if child == 0 {
                child = Int32(nodes.count)
                nodes.append(Node())
                if one { nodes[node].one = child } else { nodes[node].zero = child }
            }
            node = Int(child)
        }
        nodes[node].value = Int32(valueIndex(peer))
    }

    /// The peer whose prefix matches `address` longest, if any.
    public func lookup(_ address: [UInt8]) -> Peer? {
        guard address.count == 4 || address.count == 16 else { return nil }
        return address.withUnsafeBytes { lookup($0.baseAddress!, count: $0.count) }
    }

    /// The same over `count` (4 or 16) address bytes where they lie in a packet: the datapath's call.
    public func lookup(_ address: UnsafeRawPointer, count: Int) -> Peer? {
        let found = lookupIndex(address, count: count)
        return found < 0 ? nil : values[found]
    }

    /// The matching peer's position in `values` (-1: none): no value is copied out.
    func lookupIndex(_ address: UnsafeRawPointer, count: Int) -> Int {
        nodes.withUnsafeBufferPointer { nodes in
            var node = Self.root(count)
            var best: Int32 = -1
            var bit = 0
            let bits = count * 8
            while true {
                let current = nodes[node]
                if current.value >= 0 { best = current.value }
                guard bit < bits else { break }
                let byte = address.load(fromByteOffset: bit >> 3, as: UInt8.self)
                let child = (byte >> UInt8(7 - (bit & 7))) & 1 == 1 ? current.one : current.zero
                guard child != 0 else { break }
                node = Int(child)
                bit += 1
            }
            return Int(best)
        }
    }

    /// Removes every prefix of `peer`.
    public mutating func remove(peer: Peer) {
        for index in nodes.indices where nodes[index].value >= 0 && values[Int(nodes[index].value)] == peer { nodes[index].value = -1 }
    }

    /// Every prefix of `peer`, for `wg show`.
    public func entries(of peer: Peer) -> [IPPrefix] {
        var out: [IPPrefix] = []
        for (root, count) in [(0, 4), (1, 16)] { collect(root, peer: peer, bits: [], count: count, into: &out) }
        return out
    }

    private static func root(_ count: Int) -> Int { count == 4 ? 0 : 1 }

    private static func bit(_ address: [UInt8], _ index: Int) -> Int { Int(address[index / 8] >> UInt8(7 - index % 8)) & 1 }

    private mutating func valueIndex(_ peer: Peer) -> Int {
        if let index = valueIndices[peer] { return index }
        values.append(peer)
        valueIndices[peer] = values.count - 1
        return values.count - 1
    }

    private func collect(_ node: Int, peer: Peer, bits: [Int], count: Int, into out: inout [IPPrefix]) {
        if nodes[node].value >= 0 && values[Int(nodes[node].value)] == peer {
            var bytes = [UInt8](repeating: 0, count: count)
            for (index, bit) in bits.enumerated() where bit == 1 { bytes[index / 8] |= 0x80 >> UInt8(index % 8) }
            out.append(IPPrefix(address: bytes, length: bits.count))
        }
        if nodes[node].zero != 0 { collect(Int(nodes[node].zero), peer: peer, bits: bits + [0], count: count, into: &out) }
        if nodes[node].one != 0 { collect(Int(nodes[node].one), peer: peer, bits: bits + [1], count: count, into: &out) }
    }
}
