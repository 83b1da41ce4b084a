/// An IPv4 address in dotted-quad form (no leading zeros, which some tools read as octal).
public struct IPv4Address: SpecValue, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init?(specText text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.utf8.allSatisfy(isDigit),
                  part.count == 1 || part.first != "0",
                  let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        self.value = value
    }

    public static let expectation = "an IPv4 address (a.b.c.d)"

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }

    public func advanced(by offset: Int) -> IPv4Address {
        IPv4Address(UInt32(truncatingIfNeeded: Int64(value) + Int64(offset)))
    }
}

/// An IPv4 network, `a.b.c.d/len`, with no host bits set.
public struct IPv4Network: SpecValue, Hashable, Codable, Sendable, CustomStringConvertible {
    public let address: IPv4Address
    public let prefixLength: Int

    public init?(address: IPv4Address, prefixLength: Int) {
        guard (0...32).contains(prefixLength), address.value & ~Self.mask(prefixLength) == 0 else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    public init?(specText text: String) {
        guard let (address, length) = parseCIDR(text) else { return nil }
        self.init(address: address, prefixLength: length)
    }

    public static let expectation = "an IPv4 network (a.b.c.d/len with no host bits set)"

    /// The RFC 2544 benchmarking range: every address the local testbed uses lies in it.
    public static let benchmarking = IPv4Network(specText: "198.18.0.0/15")!

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : ~UInt32(0) << (32 - length) }

    public var mask: UInt32 { Self.mask(prefixLength) }

    public func contains(_ other: IPv4Address) -> Bool { other.value & mask == address.value }

    public func contains(_ other: IPv4Network) -> Bool {
        other.prefixLength >= prefixLength && contains(other.address)
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

/// An address on an interface together with its network, `a.b.c.d/len` (host bits allowed).
public struct IPv4Interface: SpecValue, Hashable, Codable, Sendable, CustomStringConvertible {
    public let address: IPv4Address
    public let prefixLength: Int

    public init?(specText text: String) {
        guard let (address, length) = parseCIDR(text), length >= 1, length <= 32 else { return nil }
        self.address = address
        self.prefixLength = length
    }

    public init(address: IPv4Address, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    public static let expectation = "an interface address (a.b.c.d/len)"

    public var network: IPv4Network {
        IPv4Network(address: IPv4Address(address.value & IPv4Network.mask(prefixLength)), prefixLength: prefixLength)!
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

private func parseCIDR(_ text: String) -> (IPv4Address, Int)? {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let address = IPv4Address(specText: String(parts[0])),
          (1...2).contains(parts[1].count), parts[1].utf8.allSatisfy(isDigit),
          let length = Int(parts[1]), length <= 32
    else { return nil }
    return (address, length)
}
