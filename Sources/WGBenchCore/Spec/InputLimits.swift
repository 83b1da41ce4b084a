import Foundation
import Yams

/// Bounds on what wgbench accepts from a testbed or experiment file, checked while the file is
/// read and decoded, so an oversized or hostile file is refused with its file and line before any
/// host is touched (a 50 MB experiment once expanded to 1.4 million series and a 334 MB run.json).
public enum InputLimits {
    /// The largest testbed, experiment or included file, in bytes.
    public static let maxFileBytes = 1 << 20
    /// Series x sweep points of one experiment.
    public static let maxPoints = 10_000
    /// Points x repetitions: the repetitions one run.json lists.
    public static let maxRepetitions = 100_000
    /// Nodes a document may reach through YAML aliases (`*name`); a few reused blocks stay far below.
    public static let maxAliasNodes = 10_000
    /// Files one experiment may include, counting each inclusion.
    public static let maxIncludes = 64

    /// The text of a spec file, refused with a located `SpecError` when it is over `maxFileBytes`,
    /// cannot be read, or is not UTF-8 text. Reads at most one byte more than the limit, so a huge
    /// file or a device that never ends costs no more than that.
    public static func readSpecFile(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "it is not readable" : "it does not exist"
            throw SpecError(file: path, line: 1, column: 1, keyPath: "", message: "cannot read the file: \(reason)")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maxFileBytes + 1) ?? Data()
        } catch {
            throw SpecError(file: path, line: 1, column: 1, keyPath: "", message: "cannot read the file: \(error.localizedDescription)")
        }
        guard data.count <= maxFileBytes else {
            throw SpecError(file: path, line: 1, column: 1, keyPath: "",
                            message: "the file is larger than \(maxFileBytes / 1024) KiB, the most wgbench reads; split it or generate fewer series")
        }
        return try text(data, file: path)
    }

    /// `data` as UTF-8 text; an invalid byte is reported at its line and column.
    static func text(_ data: Data, file: String) throws -> String {
        if let text = String(validating: data, as: UTF8.self) { return text }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = data.makeIterator()
        var offset = 0
        var line = 1, lineStart = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1, encoded.first == UInt8(ascii: "\n") {
                    line += 1
                    lineStart = offset + 1
                }
                offset += encoded.count
            case .error:
                let byte = data[data.startIndex + offset]
                throw SpecError(file: file, line: line, column: offset - lineStart + 1, keyPath: "",
                                message: String(format: "not UTF-8 text: byte 0x%02x at offset %d (a binary file?)", byte, offset))
            case .emptyInput:
                return String(decoding: data, as: UTF8.self)
            }
        }
    }

    /// Line and column (1-based) of a byte offset into `text`.
    static func location(ofByte offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for byte in text.utf8.prefix(max(0, offset)) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }

    /// Refuses a document whose aliases reach more than `maxAliasNodes` nodes. Yams resolves an
    /// alias to the anchored node itself, so the composed tree is small in memory however often it
    /// is reused, but every walk over it (ours) would visit each use: a "billion laughs" file takes
    /// exponential time. A node reached again is recognised by its kind, position and text (an
    /// alias carries the position of its anchor); the error names the key or list where the
    /// expansion passed the bound. The walk stops there, so it costs at most the bound.
    static func checkAliases(_ root: Node, file: String) throws {
        var seen = Set<String>()
        var expanded = 0

        func identity(_ node: Node) -> String? {
            guard let mark = node.mark else { return nil }
            switch node {
            case .scalar(let scalar): return "s\(mark.line):\(mark.column):\(scalar.string)"
            case .mapping: return "m\(mark.line):\(mark.column)"
            case .sequence: return "q\(mark.line):\(mark.column)"
            case .alias: return "a\(mark.line):\(mark.column)"
            }
        }

        func walk(_ node: Node, expanding: Bool, site: Mark?) throws {
            var expanding = expanding
            if !expanding, let id = identity(node), !seen.insert(id).inserted { expanding = true }
            if expanding {
                expanded += 1
                if expanded > maxAliasNodes {
                    throw SpecError(file: file, line: site?.line ?? 1, column: site?.column ?? 1, keyPath: "",
                                    message: "YAML aliases here expand to more than \(maxAliasNodes) nodes, the most wgbench "
                                        + "accepts (an alias bomb?): write the values out, or reuse fewer blocks")
                }
            }
            switch node {
            case .mapping(let mapping):
                for (key, value) in mapping {
                    let here = expanding ? site : (key.mark ?? site)
                    try walk(key, expanding: expanding, site: here)
                    try walk(value, expanding: expanding, site: here)
                }
            case .sequence(let sequence):
                let here = expanding ? site : (node.mark ?? site)
                for item in sequence { try walk(item, expanding: expanding, site: here) }
            case .scalar, .alias:
                break
            }
        }
        try walk(root, expanding: false, site: root.mark)
    }
}
