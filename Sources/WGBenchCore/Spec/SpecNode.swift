import Yams

/// A YAML node that remembers where it came from, so that every decoding error can name
/// the file, the line and the key. Decoding is explicit (no Codable): unknown keys are
/// errors, and each value is checked against its type where it is read.
public struct SpecNode {
    public let node: Node
    public let file: String
    /// Dotted key path from the document root.
    public let keyPath: String

    public init(node: Node, file: String, keyPath: String = "") {
        self.node = node
        self.file = file
        self.keyPath = keyPath
    }

    /// Parses a whole document. An empty document is an error.
    public static func parse(yaml: String, file: String) throws -> SpecNode {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            let (line, column, problem) = Self.locate(error, in: yaml)
            throw SpecError(file: file, line: line, column: column, keyPath: "",
                            message: "not valid YAML: \(problem)")
        }
        guard let node else {
            throw SpecError(file: file, line: 1, column: 1, keyPath: "", message: "the file is empty")
        }
        try InputLimits.checkAliases(node, file: file)
        return SpecNode(node: node, file: file)
    }

    private static func locate(_ error: YamlError, in yaml: String) -> (Int, Int, String) {
        switch error {
        case .reader(let problem, let offset, let value, _):
            // Control characters and the like: libyaml gives the byte offset, not a line.
            let (line, column) = InputLimits.location(ofByte: offset ?? 0, in: yaml)
            return (line, column, value >= 0 ? String(format: "%@ (character 0x%02x)", problem, Int(value)) : problem)
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            return (mark.line, mark.column, problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return (context.mark.line, context.mark.column,
                    "duplicate key \(duplicates.joined(separator: ", "))")
        default:
            return (1, 1, "\(error)")
        }
    }

    public var line: Int { node.mark?.line ?? 1 }
    public var column: Int { node.mark?.column ?? 1 }

    public func error(_ message: String) -> SpecError {
        SpecError(file: file, line: line, column: column, keyPath: keyPath, message: message)
    }

    func child(_ node: Node, key: String) -> SpecNode {
        SpecNode(node: node, file: file, keyPath: keyPath.isEmpty ? key : "\(keyPath).\(key)")
    }

    // MARK: Structure

    /// This node as a mapping whose keys must all be in `allowed`.
    public func mapping(allowed: [String]) throws -> SpecMapping {
        guard case .mapping(let mapping) = node else {
            throw error("expected a mapping with keys \(allowed.joined(separator: ", ")), found \(kind)")
        }
        var entries: [(String, SpecNode)] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                throw child(keyNode, key: "?").error("keys must be plain strings")
            }
            let key = scalar.string
            let value = child(valueNode, key: key)
            guard allowed.contains(key) else {
                let at = SpecNode(node: keyNode, file: file, keyPath: value.keyPath)
                throw at.error("unknown key '\(key)'; allowed here: \(allowed.joined(separator: ", "))")
            }
            entries.append((key, value))
        }
        return SpecMapping(owner: self, entries: entries)
    }

    /// This node as a mapping with arbitrary keys (e.g. hosts by role); keys are validated by the caller.
    public func anyMapping() throws -> [(key: String, value: SpecNode)] {
        guard case .mapping(let mapping) = node else {
            throw error("expected a mapping, found \(kind)")
        }
        return try mapping.map { keyNode, valueNode in
            guard case .scalar(let scalar) = keyNode else {
                throw child(keyNode, key: "?").error("keys must be plain strings")
            }
            return (scalar.string, child(valueNode, key: scalar.string))
        }
    }

    public func sequence() throws -> [SpecNode] {
        guard case .sequence(let sequence) = node else {
            throw error("expected a list, found \(kind)")
        }
        return sequence.enumerated().map { index, item in child(item, key: "[\(index)]") }
    }

    // MARK: Scalars

    public func string() throws -> String {
        guard case .scalar(let scalar) = node else {
            throw error("expected a single value, found \(kind)")
        }
        return scalar.string
    }

    public func int(in range: ClosedRange<Int>) throws -> Int {
        let text = try string()
        guard let value = Int(text) else { throw error("expected a whole number, found '\(text)'") }
        guard range.contains(value) else {
            throw error("\(value) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    public func bool() throws -> Bool {
        switch try string().lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        case let other: throw error("expected true or false, found '\(other)'")
        }
    }

    /// A value of a validated type; the error says what was expected.
    public func value<T: SpecValue>(_ type: T.Type) throws -> T {
        let text = try string()
        guard let value = T(specText: text) else {
            throw error("'\(text)' is not \(T.expectation)")
        }
        return value
    }

    var kind: String {
        switch node {
        case .scalar: return "a single value"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

/// A mapping already checked for unknown keys.
public struct SpecMapping {
    public let owner: SpecNode
    public let entries: [(String, SpecNode)]

    public func optional(_ key: String) -> SpecNode? {
        entries.first { $0.0 == key }?.1
    }

    public func required(_ key: String) throws -> SpecNode {
        guard let node = optional(key) else {
            let path = owner.keyPath.isEmpty ? key : "\(owner.keyPath).\(key)"
            throw SpecError(file: owner.file, line: owner.line, column: owner.column,
                            keyPath: path, message: "required key '\(key)' is missing")
        }
        return node
    }
}

/// A type read from a single YAML value with a check of its own.
public protocol SpecValue {
    /// Builds the value, or nil when `specText` is not a valid instance.
    init?(specText: String)
    /// What a valid value looks like, for error messages ("an interface name (...)").
    static var expectation: String { get }
}
