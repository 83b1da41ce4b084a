import ArgumentParser

/// A path that may start with `~/`: kept as written (a discovered testbed file names it so, for
/// whoever uses the file), and expanded against a home directory where this process opens it.
public struct UserPath: ExpressibleByArgument, Sendable, Equatable, CustomStringConvertible {
    public let written: String

    public init(_ written: String) { self.written = written }

    public init?(argument: String) {
        guard !argument.isEmpty else { return nil }
        written = argument
    }

    /// `~/x` as `<home>/x`; any other path as written (`~user/` is not expanded).
    public func expanded(home: String) -> String {
        written.hasPrefix("~/") ? home + written.dropFirst(1) : written
    }

    public var description: String { written }

    public var defaultValueDescription: String { written }
}
