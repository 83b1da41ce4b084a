/// A problem in a testbed or experiment file, located by file, line and key path.
///
/// Printed as `file:line:column: key.path: message`, the form editors and CI logs link to.
public struct SpecError: Error, Equatable, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int
    public let column: Int
    /// Dotted path of the offending key, e.g. `hosts.gw1.ssh.address`; empty for the document root.
    public let keyPath: String
    public let message: String

    public init(file: String, line: Int, column: Int, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        let key = keyPath.isEmpty ? "" : "\(keyPath): "
        return "\(file):\(line):\(column): \(key)\(message)"
    }
}
