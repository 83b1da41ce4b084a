/// A list that decodes as empty when its key is missing, so that a field added to a recorded type
/// (e.g. `ExperimentSpec.claims`) still reads files written before it existed, without a
/// hand-written `init(from:)` that every later field would have to be added to as well.
/// Encodes as the plain list.
@propertyWrapper
public struct EmptyIfAbsent<Element: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var wrappedValue: [Element]

    public init(wrappedValue: [Element] = []) { self.wrappedValue = wrappedValue }

    public init(from decoder: Decoder) throws { wrappedValue = try decoder.singleValueContainer().decode([Element].self) }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

extension KeyedDecodingContainer {
    /// The synthesized `init(from:)` of a type with an `@EmptyIfAbsent` field calls this overload,
    /// which tolerates the missing key.
    public func decode<Element>(_ type: EmptyIfAbsent<Element>.Type, forKey key: Key) throws -> EmptyIfAbsent<Element> {
        try decodeIfPresent(type, forKey: key) ?? EmptyIfAbsent()
    }
}
