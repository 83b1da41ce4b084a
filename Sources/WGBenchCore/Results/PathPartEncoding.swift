/// How a value from a file (a swept knob value: a path, a CPU expression) becomes part of a file
/// or folder name, here and on the hosts: whatever the value holds, the name holds no `/`, is never
/// `.` or `..`, holds no control character and no shell or URL syntax, and fits in a file name.
///
/// Plain values keep their names (`tunnels-2_flows_per_tunnel-1`, as result directories have
/// always been named): letters, digits and `. , + = : - _` stand for themselves. Every other byte
/// is written `%XX` (so `%` itself too, and `/usr/bin/wireguard-go` is `%2Fusr%2Fbin%2Fwireguard-go`):
/// two different values never share a name. A name longer than `maxBytes` (`fit`) keeps its start
/// and ends in `~` and a hash of the whole, `~` being a byte no encoded value holds.
public enum PathPartEncoding {
    /// Well under NAME_MAX (255): the host folders add the series, repetition, attempt and a nonce.
    public static let maxBytes = 160

    /// One value as part of a name (not yet `fit`).
    public static func encode(_ text: String) -> String { percentEncoded(text, keeping: isKept) }

    /// `text` with every byte `keeping` refuses written `%XX`, and never `.` or `..` (which name a
    /// folder and its parent, in a path as in a URL): a file name here, a URL path segment in the
    /// history page.
    public static func percentEncoded(_ text: String, keeping: (UInt8) -> Bool) -> String {
        var encoded = ""
        for byte in text.utf8 {
            if keeping(byte) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + hex(byte)
            }
        }
        if encoded == "." || encoded == ".." { encoded = String(repeating: "%2E", count: encoded.utf8.count) }
        return encoded
    }

    /// A name made of encoded parts, cut to `maxBytes` where it is longer.
    public static func fit(_ name: String) -> String {
        guard name.utf8.count > maxBytes else { return name }
        return String(decoding: name.utf8.prefix(maxBytes - 17), as: UTF8.self) + "~" + fnv1a64Hex(name)
    }

    /// Whether `text` is a name `fit` can return from encoded parts: safe as one path component.
    public static func isSafe(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= maxBytes && text != "." && text != ".."
            && text.utf8.allSatisfy { isKept($0) || $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "~") }
    }

    static func isKept(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        case UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: "+"), UInt8(ascii: "="), UInt8(ascii: ":"),
             UInt8(ascii: "-"), UInt8(ascii: "_"): return true
        default: return false
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }

    /// FNV-1a, 64 bits, as 16 hex digits: stable across runs and machines (Swift's `hashValue` is not).
    static func fnv1a64Hex(_ text: String) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
