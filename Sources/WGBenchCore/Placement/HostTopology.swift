/// What placement needs to know of a gateway, read from the host at the start of every run:
/// its online CPUs, its NUMA nodes, and each NIC's node and receive queues.
public struct HostTopology: Codable, Sendable, Equatable {
    public struct NIC: Codable, Sendable, Equatable {
        /// The NUMA node the NIC hangs off; nil where the kernel does not say (veth, -1).
        public var node: Int?
        public var rxQueues: Int

        public init(node: Int?, rxQueues: Int) {
            self.node = node
            self.rxQueues = rxQueues
        }
    }

    public var onlineCPUs: [Int]
    /// Sorted by id; one node holding every CPU where the host reports none.
    public var nodes: [NUMANode]
    public var nics: [String: NIC]

    public init(onlineCPUs: [Int], nodes: [NUMANode], nics: [String: NIC]) {
        self.onlineCPUs = onlineCPUs.sorted()
        let online = Set(onlineCPUs)
        let known = nodes.map { NUMANode(id: $0.id, cpus: $0.cpus.filter(online.contains)) }.filter { !$0.cpus.isEmpty }
        self.nodes = known.isEmpty ? [NUMANode(id: 0, cpus: self.onlineCPUs)] : known.sorted { $0.id < $1.id }
        self.nics = nics
    }

    /// `count` CPUs in `nodes` equal blocks (the paper's machines: 32 CPUs, node 0 = 0-15), every
    /// NIC on node 0 with `rxQueues` queues (by default one per CPU). What `wgbench plan` assumes.
    public static func uniform(cpus count: Int, nodes nodeCount: Int, nics: [String], rxQueues: Int? = nil) -> HostTopology {
        let perNode = max(1, count / max(1, nodeCount))
        let nodes = (0..<max(1, nodeCount)).map { id in
            NUMANode(id: id, cpus: Array((id * perNode)..<(id == nodeCount - 1 ? count : min(count, (id + 1) * perNode))))
        }
        return HostTopology(onlineCPUs: Array(0..<count), nodes: nodes,
                            nics: Dictionary(uniqueKeysWithValues: nics.map { ($0, NIC(node: 0, rxQueues: rxQueues ?? count)) }))
    }

    public func node(ofCPU cpu: Int) -> Int { nodes.first { $0.cpus.contains(cpu) }?.id ?? nodes[0].id }

    /// A node's CPUs; none for a node the host does not have.
    public func cpus(ofNode id: Int) -> [Int] { nodes.first { $0.id == id }?.cpus ?? [] }

    /// The node a NIC's traffic arrives on: its own, or the first node where the kernel does not say.
    public func node(ofNIC name: String) -> Int { nics[name]?.node ?? nodes[0].id }

    /// One line for plans and logs: `32 CPUs; node0 0-15, node1 16-31; eth1 node 0, 32 rx queues`.
    public var summary: String {
        "\(onlineCPUs.count) CPUs; " + nodes.map { "node\($0.id) \($0.cpuList)" }.joined(separator: ", ")
            + nics.keys.sorted().map { name in
                let nic = nics[name]!
                return "; \(name) " + (nic.node.map { "node \($0)" } ?? "node unknown") + ", \(nic.rxQueues) rx queue(s)"
            }.joined()
    }
}

/// What the topology reading (`HostReading.topology`) prints, read back.
public enum TopologyCommands {
    public static func parse(_ output: String) -> HostTopology? {
        var online: [Int]?
        var nodes: [NUMANode] = []
        var nics: [String: HostTopology.NIC] = [:]
        for line in output.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) where !line.isEmpty {
            if line.hasPrefix("@nic ") {
                let fields = line.split(separator: " ")
                guard fields.count == 4, let node = Int(fields[2]), let queues = Int(fields[3]) else { continue }
                nics[String(fields[1])] = HostTopology.NIC(node: node >= 0 ? node : nil, rxQueues: max(1, queues))
            } else if line.hasPrefix("/sys/devices/system/node/node"), let colon = line.firstIndex(of: ":") {
                let id = line[line.index(line.startIndex, offsetBy: "/sys/devices/system/node/node".count)..<colon]
                    .prefix { $0.isNumber }
                if let id = Int(id), let cpus = CPUList.parse(String(line[line.index(after: colon)...])) {
                    nodes.append(NUMANode(id: id, cpus: cpus))
                }
            } else if online == nil {
                online = CPUList.parse(line)
            }
        }
        guard let online, !online.isEmpty else { return nil }
        return HostTopology(onlineCPUs: online, nodes: nodes, nics: nics)
    }
}
