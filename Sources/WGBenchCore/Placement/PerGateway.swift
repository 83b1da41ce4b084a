/// A setting that may differ between the two gateways. Written in a file as one value for both,
/// or as `{gw1: ..., gw2: ...}` (a gateway left out keeps its default).
public struct PerGateway<Value: Sendable & Hashable>: Sendable, Hashable {
    public var gw1: Value
    public var gw2: Value

    public init(gw1: Value, gw2: Value) {
        self.gw1 = gw1
        self.gw2 = gw2
    }

    public init(_ both: Value) { self.init(gw1: both, gw2: both) }

    public subscript(role: HostRole) -> Value {
        get { role == .gw1 ? gw1 : gw2 }
        set { if role == .gw1 { gw1 = newValue } else { gw2 = newValue } }
    }
}

extension PerGateway where Value == CPUExpression? {
    /// Unset on both gateways.
    public static var unset: Self { PerGateway(nil) }

    /// `node(tunnel)`, or `gw1: all; gw2: node(other)` where they differ (`-` for a gateway left unset).
    public var text: String {
        if gw1 == gw2 { return gw1?.description ?? "-" }
        return "gw1: \(gw1?.description ?? "-"); gw2: \(gw2?.description ?? "-")"
    }

    /// Reads `text`'s forms back.
    public static func parse(_ text: String) throws(CPUExpressionError) -> Self {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("gw1:") || trimmed.hasPrefix("gw2:") else {
            return trimmed == "-" ? .unset : PerGateway(try CPUExpression.parse(trimmed))
        }
        var value = Self.unset
        for part in trimmed.split(separator: ";") {
            let entry = part.trimmingCharacters(in: .whitespaces)
            guard let colon = entry.firstIndex(of: ":"), let role = HostRole(rawValue: String(entry[..<colon])), role.isGateway else {
                throw CPUExpressionError(text: text, message: "expected gw1: ... ; gw2: ...")
            }
            let expression = entry[entry.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            value[role] = expression == "-" ? nil : try CPUExpression.parse(expression)
        }
        return value
    }

    /// This value with `other`'s gateways laid over it where `other` sets them.
    public func overlaid(with other: Self) -> Self { PerGateway(gw1: other.gw1 ?? gw1, gw2: other.gw2 ?? gw2) }
}

extension PerGateway: Codable where Value == CPUExpression? {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try Self.parse(text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
