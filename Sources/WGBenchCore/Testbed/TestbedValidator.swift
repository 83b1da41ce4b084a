/// Cross-field checks of a testbed: the two ends of each link share a network, links do not
/// overlap, names are unique, and a local testbed uses only the RFC 2544 benchmarking range.
struct TestbedValidator {
    let testbed: Testbed
    let root: SpecMapping

    func validate() throws {
        for host in testbed.orderedHosts {
            let names = host.interfaces.values.map(\.name)
            if Set(names).count != names.count {
                throw error(at: "hosts.\(host.role).interfaces", "two interfaces of \(host.role) have the same name")
            }
        }

        var networks: [(LinkRole, IPv4Network)] = []
        for link in LinkRole.allCases {
            let (up, down) = link.ends
            let a = testbed.host(up).interface(link), b = testbed.host(down).interface(link)
            guard a.address.network == b.address.network else {
                throw error(at: "hosts.\(down).interfaces.\(link).address",
                            "\(b.address) is not in the same network as \(up)'s \(a.address) on the \(link) link")
            }
            guard a.address.address != b.address.address else {
                throw error(at: "hosts.\(down).interfaces.\(link).address", "\(b.address.address) is also \(up)'s address")
            }
            for (other, network) in networks where network.contains(a.address.network) || a.address.network.contains(network) {
                throw error(at: "hosts.\(down).interfaces.\(link).address",
                            "the \(link) network \(a.address.network) overlaps the \(other) network \(network)")
            }
            networks.append((link, a.address.network))
        }

        if let local = testbed.local { try validateLocal(local, linkNetworks: networks) }
    }

    private func validateLocal(_ local: LocalTestbedSettings, linkNetworks: [(LinkRole, IPv4Network)]) throws {
        let range = IPv4Network.benchmarking
        guard range.contains(local.management.network) else {
            throw error(at: "local.management", "\(local.management) is outside \(range): a local testbed uses only the benchmarking range")
        }
        for (link, network) in linkNetworks where !range.contains(network) {
            let host = link.ends.upstream
            throw error(at: "hosts.\(host).interfaces.\(link).address",
                        "\(network) is outside \(range): a local testbed uses only the benchmarking range")
        }
        for (link, network) in linkNetworks where network.contains(local.management.network) || local.management.network.contains(network) {
            throw error(at: "local.management", "the management network \(local.management.network) overlaps the \(link) network \(network)")
        }
        var seen: [IPv4Address: HostRole] = [:]
        for host in testbed.orderedHosts {
            let path = "hosts.\(host.role).ssh.address"
            guard let address = host.ssh.address.ipv4 else {
                throw error(at: path, "a local testbed host is reached by an IPv4 address, not a name")
            }
            guard local.management.network.contains(address), address != local.management.address else {
                throw error(at: path, "\(address) is not a free host address in the management network \(local.management.network)")
            }
            if let other = seen[address] { throw error(at: path, "\(address) is also \(other)'s address") }
            seen[address] = host.role
            guard host.ssh.port.value == 22 else {
                throw error(at: "hosts.\(host.role).ssh.port", "a local testbed's sshd listens on port 22")
            }
        }
    }

    /// An error located at a dotted key path, found by walking the document; falls back to the root.
    private func error(at keyPath: String, _ message: String) -> SpecError {
        let node = Self.find(keyPath.split(separator: ".").map(String.init), in: root.owner) ?? root.owner
        return SpecError(file: node.file, line: node.line, column: node.column, keyPath: keyPath, message: message)
    }

    private static func find(_ path: [String], in node: SpecNode) -> SpecNode? {
        guard let first = path.first else { return node }
        guard let entries = try? node.anyMapping(), let next = entries.first(where: { $0.key == first }) else { return nil }
        return find(Array(path.dropFirst()), in: next.value)
    }
}
