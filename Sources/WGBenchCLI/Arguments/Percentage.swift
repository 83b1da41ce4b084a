import ArgumentParser

/// A percentage on the command line, `5%` or `2.5`, parsed once where ArgumentParser reads it:
/// a bad one is a usage error (exit 2) before the command runs.
public struct Percentage: ExpressibleByArgument, Sendable, Equatable, CustomStringConvertible {
    public let value: Double

    public init?(argument: String) {
        let number = argument.hasSuffix("%") ? String(argument.dropLast()) : argument
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        self.value = value
    }

    public init(_ value: Double) {
        precondition(value.isFinite && value >= 0, "a percentage is finite and not negative")
        self.value = value
    }

    /// `5%`, `2.5%`: how summary lines name it.
    public var description: String {
        (value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)) + "%"
    }

    public var defaultValueDescription: String { description }

    public static var defaultCompletionKind: CompletionKind { .default }
}
