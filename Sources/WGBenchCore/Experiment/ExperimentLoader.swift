import Foundation

/// Reads and validates an experiment file. Every error names the file, the line and the key.
///
/// ```yaml
/// name: smoke
/// include: [base.yaml]        # mixins, relative to this file; this file's keys win
/// repetitions: 10             # default 10
/// order: shuffled             # or sequential; shuffled runs use `seed` (random if absent, always recorded)
/// seed: 7
/// pause: 0s                   # between runs
/// retries: 1                  # a failed repetition is tried again this often, then recorded as failed
/// traffic: {protocol: tcp, duration: 10s, omit: 2s, bitrate: 0, base_port: 5201, client_cpus: "0", server_cpus: "1"}
/// sampling: {hosts: [gw1, gw2], interval: 1s}
/// placement: {steering: auto, flow_rx_cpus: "1-31", tunnel_rx_cpus: "1-31"}
/// sweep: {tunnels: [1, 2, 4], flows_per_tunnel: 1}
/// series:
///   - {name: vanilla, target: kernel, knobs: {threaded: 0}}
/// ```
/// The mappings `traffic`, `sampling`, `placement` and `sweep` merge key by key across includes;
/// every other key is replaced whole.
public enum ExperimentLoader {
    public static let topLevelKeys = ["name", "description", "include", "repetitions", "order", "seed", "pause", "retries",
                                      "traffic", "sampling", "placement", "sweep", "series",
                                      "baseline", "preflight", "claims"]

    public static func load(path: String) throws -> ExperimentSpec {
        try parse(yaml: read(path, from: nil), file: path, reader: { try read($0, from: $1) })
    }

    /// `reader(path, includingNode)` returns the text of an included file; tests pass an in-memory one.
    public static func parse(yaml: String, file: String,
                             reader: (String, SpecNode) throws -> String = { _, node in throw node.error("includes are not available here") })
    throws -> ExperimentSpec {
        var visiting = [file]
        var included = 0
        let (layers, includes) = try collect(yaml: yaml, file: file, reader: reader, visiting: &visiting, included: &included)
        return try ExperimentDecoder(layers: layers, includes: includes, file: file).decode()
    }

    /// Each top-level key's nodes, from the first include to this file. The decoder takes the
    /// last one, or for the merged sections every one, later keys replacing earlier ones.
    private static func collect(yaml: String, file: String, reader: (String, SpecNode) throws -> String,
                                visiting: inout [String], included: inout Int) throws -> (layers: [String: [SpecNode]], includes: [String]) {
        let root = try SpecNode.parse(yaml: yaml, file: file).mapping(allowed: topLevelKeys)
        var layers: [String: [SpecNode]] = [:]
        var includes: [String] = []
        if let includeNode = root.optional("include") {
            let items = (try? includeNode.sequence()) ?? [includeNode]
            for item in items {
                let name = try item.value(IncludePath.self).rawValue
                let path = name.hasPrefix("/") ? name
                    : ((file as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
                guard !visiting.contains(path) else {
                    throw item.error("include cycle: \((visiting + [path]).joined(separator: " -> "))")
                }
                included += 1
                guard included <= InputLimits.maxIncludes else {
                    throw item.error("more than \(InputLimits.maxIncludes) included files in all, the most wgbench reads")
                }
                visiting.append(path)
                let (nested, nestedIncludes) = try collect(yaml: try reader(path, item), file: path, reader: reader, visiting: &visiting,
                                                          included: &included)
                visiting.removeLast()
                includes += nestedIncludes + [path]
                for (key, nodes) in nested { layers[key, default: []] += nodes }
            }
        }
        for (key, node) in root.entries where key != "include" {
            layers[key, default: []].append(node)
        }
        return (layers, includes)
    }

    /// A file's text within `InputLimits`; an included file that cannot be read is reported where it is included.
    static func read(_ path: String, from node: SpecNode?) throws -> String {
        do {
            return try InputLimits.readSpecFile(path)
        } catch let error as SpecError {
            if let node, error.message.hasPrefix("cannot read the file") { throw node.error("cannot read included file \(path)") }
            throw error
        }
    }
}

/// A path as written in an include: relative or absolute, the characters of `FilePath`.
struct IncludePath: SpecValue {
    let rawValue: String

    /// Relative paths may climb out of their folder with leading `../` (a mixin beside it).
    init?(specText text: String) {
        var rest = Substring(text)
        while rest.hasPrefix("../") { rest = rest.dropFirst(3) }
        guard FilePath(specText: rest.hasPrefix("/") ? String(rest) : "/" + rest) != nil, !(text.hasPrefix("/") && rest != text[...])
        else { return nil }
        rawValue = text
    }

    static let expectation = "a file path (of A-Z a-z 0-9 / . _ - + @; `..` only leading a relative path)"
}
