import Foundation

// Validated values. Everything that comes from a spec and may reach a remote command line is
// one of these types, checked where it is read; the character sets are deliberately narrow so
// that no value can carry shell syntax, even though the transport quotes every argument anyway.

/// A Linux network interface name: 1 to 15 characters of letters, digits, `_`, `.`, `-`,
/// not starting with `-` or `.`.
public struct InterfaceName: SpecValue, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(specText text: String) {
        guard (1...15).contains(text.utf8.count),
              text.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }),
              let first = text.utf8.first, first != UInt8(ascii: "-"), first != UInt8(ascii: ".")
        else { return nil }
        rawValue = text
    }

    public static let expectation = "an interface name (1-15 of A-Z a-z 0-9 _ . -, not starting with - or .)"
    public var description: String { rawValue }
}

/// A short lowercase name used to prefix everything a local testbed creates.
public struct NamePrefix: SpecValue, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(specText text: String) {
        guard (1...6).contains(text.utf8.count),
              text.utf8.allSatisfy({ isLowerAlphanumeric($0) }),
              let first = text.utf8.first, !isDigit(first)
        else { return nil }
        rawValue = text
    }

    public static let expectation = "a prefix (1-6 of a-z 0-9, starting with a letter)"
    public var description: String { rawValue }
}

/// A POSIX user name.
public struct UserName: SpecValue, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(specText text: String) {
        guard (1...32).contains(text.utf8.count),
              let first = text.utf8.first, first == UInt8(ascii: "_") || isLowerAlphanumeric(first) && !isDigit(first),
              text.utf8.allSatisfy({ isLowerAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else { return nil }
        rawValue = text
    }

    public static let expectation = "a user name (a-z 0-9 _ -, starting with a letter or _)"
    public var description: String { rawValue }
}

/// A file path: absolute or starting with `~/`, of letters, digits and `/ . _ - + @ ~`.
/// `~` is expanded against the given home directory when the spec is loaded.
public struct FilePath: SpecValue, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(specText text: String) {
        guard !text.isEmpty, text.utf8.count <= 4096,
              text.hasPrefix("/") || text.hasPrefix("~/"),
              text.utf8.allSatisfy({ isAlphanumeric($0) || Array("/._-+@~".utf8).contains($0) }),
              !text.split(separator: "/").contains("..")
        else { return nil }
        rawValue = text
    }

    public init(absolute: String) {
        precondition(absolute.hasPrefix("/"), "FilePath(absolute:) needs an absolute path")
        rawValue = absolute
    }

    public static let expectation = "a path (absolute or ~/..., of A-Z a-z 0-9 / . _ - + @ ~, no ..)"

    public func expandingTilde(home: String) -> FilePath {
        guard rawValue.hasPrefix("~/") else { return self }
        return FilePath(absolute: home + rawValue.dropFirst(1))
    }

    public func appending(_ component: String) -> FilePath {
        FilePath(absolute: rawValue.hasSuffix("/") ? rawValue + component : rawValue + "/" + component)
    }

    public var description: String { rawValue }
}

/// Where to reach a host: an IPv4 address or a DNS name.
public struct HostAddress: SpecValue, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(specText text: String) {
        if IPv4Address(specText: text) != nil {
            rawValue = text
            return
        }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...253).contains(text.utf8.count), !labels.isEmpty,
              labels.allSatisfy({ label in
                  (1...63).contains(label.utf8.count)
                      && label.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
                      && label.utf8.first != UInt8(ascii: "-") && label.utf8.last != UInt8(ascii: "-")
              }),
              // All-numeric labels that did not parse as IPv4 are malformed addresses, not names.
              !labels.allSatisfy({ $0.utf8.allSatisfy(isDigit) })
        else { return nil }
        rawValue = text
    }

    public static let expectation = "an IPv4 address or a DNS name"
    public var ipv4: IPv4Address? { IPv4Address(specText: rawValue) }
    public var description: String { rawValue }
}

/// A TCP or UDP port.
public struct Port: SpecValue, Hashable, Codable, Sendable, CustomStringConvertible {
    public let value: UInt16

    public init?(specText text: String) {
        guard let number = UInt16(text), number > 0 else { return nil }
        value = number
    }

    public init(_ value: UInt16) { self.value = value }
    public static let expectation = "a port number (1-65535)"
    public var description: String { String(value) }
}

/// A duration written with a unit: `500ms`, `5s`, `2m`, `1h`; at most a day (every traffic run,
/// pause and timeout wgbench has is bounded in time, and no larger number can overflow).
public struct SpecDuration: SpecValue, Hashable, Sendable, CustomStringConvertible {
    public let milliseconds: Int
    public static let maximum = SpecDuration(milliseconds: 24 * 3_600_000)

    public init?(specText text: String) {
        let units: [(String, Int)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            if let value = Double(number), value >= 0, value.isFinite, !number.hasPrefix("+"),
               value * Double(factor) <= Double(Self.maximum.milliseconds) {
                milliseconds = Int((value * Double(factor)).rounded())
                return
            }
        }
        return nil
    }

    public init(milliseconds: Int) { self.milliseconds = milliseconds }
    public var seconds: Double { Double(milliseconds) / 1000 }
    public static let expectation = "a duration with a unit (e.g. 500ms, 5s, 2m, 1h) of at most 24h"
    public var description: String { milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms" }
}

@inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
@inline(__always) func isLowerAlphanumeric(_ c: UInt8) -> Bool { isDigit(c) || (c >= 97 && c <= 122) }
@inline(__always) func isAlphanumeric(_ c: UInt8) -> Bool { isLowerAlphanumeric(c) || (c >= 65 && c <= 90) }

/// A name for a testbed, series or experiment: 1-40 of a-z A-Z 0-9 _ -, starting with a letter.
public struct Identifier: SpecValue, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(specText text: String) {
        guard (1...40).contains(text.utf8.count), let first = text.utf8.first,
              isAlphanumeric(first), !isDigit(first),
              text.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else { return nil }
        rawValue = text
    }

    public static let expectation = "a name (1-40 of A-Z a-z 0-9 _ -, starting with a letter)"
    public var description: String { rawValue }
}
