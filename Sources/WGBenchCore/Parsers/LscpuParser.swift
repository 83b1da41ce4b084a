import Foundation

/// What `LC_ALL=C lscpu` says about a host's processors.
public struct CPUInfo: Codable, Hashable, Sendable {
    public var model: String
    public var cpus: Int
    public var threadsPerCore: Int?
    public var sockets: Int?
    public var numaNodes: [NUMANode]
}

public struct NUMANode: Codable, Hashable, Sendable {
    public var id: Int
    public var cpus: [Int]
    /// The node's CPUs as a cpulist, e.g. `0-15`.
    public var cpuList: String { CPUList.format(cpus) }
}

public enum LscpuParser {
    public static func parse(_ text: String) -> CPUInfo? {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard let cpus = fields["CPU(s)"].flatMap({ Int($0) }) else { return nil }
        var nodes: [NUMANode] = []
        for (key, value) in fields where key.hasPrefix("NUMA node") && key.hasSuffix(" CPU(s)") {
            let id = key.dropFirst("NUMA node".count).dropLast(" CPU(s)".count)
            if let id = Int(id), let list = CPUList.parse(value) { nodes.append(NUMANode(id: id, cpus: list)) }
        }
        if nodes.isEmpty { nodes = [NUMANode(id: 0, cpus: Array(0..<cpus))] }
        return CPUInfo(model: fields["Model name"] ?? "unknown",
                       cpus: cpus,
                       threadsPerCore: fields["Thread(s) per core"].flatMap { Int($0) },
                       sockets: fields["Socket(s)"].flatMap { Int($0) },
                       numaNodes: nodes.sorted { $0.id < $1.id })
    }
}
