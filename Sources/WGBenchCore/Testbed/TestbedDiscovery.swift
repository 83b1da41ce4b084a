import Foundation

/// Writing a testbed file by looking at four hosts: which interfaces connect which pair of roles.
/// Pure: the engine reads each host's `ip -o -4 addr show` and pings; this decides and writes.
public enum TestbedDiscovery {
    /// An IPv4 address on a host's interface.
    public struct Address: Sendable, Equatable {
        public var interface: String
        public var address: IPv4Interface
    }

    /// What was found for one link: the chosen pair (upstream end, downstream end), the other
    /// pairs on a shared subnet, and whether a ping across it answered (nil: not tried).
    public struct Link: Sendable, Equatable {
        public var role: LinkRole
        public var chosen: (upstream: Address, downstream: Address)?
        public var alternatives: [(upstream: Address, downstream: Address)]
        public var confirmed: Bool?
        public var note: String?

        public static func == (a: Link, b: Link) -> Bool {
            a.role == b.role && a.chosen?.upstream == b.chosen?.upstream && a.chosen?.downstream == b.chosen?.downstream
                && a.confirmed == b.confirmed && a.note == b.note && a.alternatives.count == b.alternatives.count
        }
    }

    /// `ip -o -4 addr show`: `2: eth1    inet 198.18.1.2/24 brd ... scope global eth1`; loopback left out.
    public static func addresses(_ output: String) -> [Address] {
        output.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count >= 4, let inet = fields.firstIndex(of: "inet"), inet + 1 < fields.count,
                  let address = IPv4Interface(specText: String(fields[inet + 1])) else { return nil }
            let name = String(fields[1].split(separator: "@").first ?? fields[1]).trimmingCharacters(in: CharacterSet(charactersIn: ":"))
            guard name != "lo", address.address.value >> 24 != 127 else { return nil }
            return Address(interface: name, address: address)
        }
    }

    /// For each link, the pairs of interfaces (one on each end's host) on the same subnet, leaving
    /// out each host's management interface (the one holding the address wgbench logged in to).
    public static func links(_ addresses: [HostRole: [Address]], sshAddresses: [HostRole: String]) -> [Link] {
        LinkRole.allCases.map { role in
            let (up, down) = role.ends
            let usable = { (host: HostRole) in
                let all = addresses[host] ?? []
                let management = all.filter { $0.address.address.description == sshAddresses[host] }.map(\.interface)
                return all.filter { !management.contains($0.interface) }
            }
            var pairs: [(upstream: Address, downstream: Address)] = []
            for a in usable(up) { for b in usable(down) where a.address.network == b.address.network && a.address.address != b.address.address { pairs.append((a, b)) } }
            // Prefer the pair in the benchmarking range, then the narrowest network.
            pairs.sort { x, y in
                let xb = IPv4Network.benchmarking.contains(x.upstream.address.address), yb = IPv4Network.benchmarking.contains(y.upstream.address.address)
                return xb != yb ? xb : x.upstream.address.prefixLength > y.upstream.address.prefixLength
            }
            return Link(role: role, chosen: pairs.first, alternatives: Array(pairs.dropFirst()), confirmed: nil,
                        note: pairs.isEmpty ? "no interface of \(up) shares a subnet with one of \(down)" : nil)
        }
    }

    /// The testbed file, with a comment for everything that could not be decided or confirmed.
    public static func yaml(name: String, sshAddresses: [HostRole: String], user: String, identity: String?, knownHosts: String?,
                            links: [Link]) -> String {
        var out = """
        # Written by `wgbench testbed discover`: the four hosts as they answered over SSH, each link the pair of
        # interfaces on a shared subnet (confirmed by a ping across it where the address lies in 198.18.0.0/15).
        # Read it before use; a line that starts with "# TODO" needs a decision.
        name: \(name)
        ssh:
          user: \(user)

        """
        if let identity { out += "  identity: \(identity)\n" }
        if let knownHosts { out += "  known_hosts: \(knownHosts)\n" }
        out += "  host_key_checking: strict\nhosts:\n"
        for role in HostRole.allCases {
            out += "  \(role):\n    ssh: {address: \(sshAddresses[role] ?? "TODO")}\n    interfaces:\n"
            for link in links where role.links.contains(link.role) {
                let upstream = link.role.ends.upstream == role
                if let chosen = link.chosen {
                    let end = upstream ? chosen.upstream : chosen.downstream
                    out += "      \(link.role): {name: \(end.interface), address: \(end.address)}"
                    switch link.confirmed {
                    case .some(true): out += "   # ping across the link answered\n"
                    case .some(false): out += "   # TODO: a ping across the link did not answer\n"
                    case .none: out += "   # not confirmed by ping" + (link.note.map { ": \($0)" } ?? "") + "\n"
                    }
                    for alternative in link.alternatives {
                        let other = upstream ? alternative.upstream : alternative.downstream
                        out += "      # also on a shared subnet: {name: \(other.interface), address: \(other.address)}\n"
                    }
                } else {
                    out += "      # TODO \(link.role): \(link.note ?? "not found"); give {name: ..., address: a.b.c.d/len}\n"
                }
            }
        }
        return out
    }

    /// The ping that confirms a link from its upstream end, when the peer's address is one wgbench may send to.
    public static func ping(_ link: Link) -> HostOperation? {
        guard let chosen = link.chosen, IPv4Network.benchmarking.contains(chosen.downstream.address.address) else { return nil }
        return .read(.ping(interface: chosen.upstream.interface, address: chosen.downstream.address.address.description))
    }
}
