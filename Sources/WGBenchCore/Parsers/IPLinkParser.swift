import Foundation

/// `ip -o link show`: one interface per line, `3: name@peer: <FLAGS> ...`.
public enum IPLinkParser {
    /// Interface names, without the `@peer` suffix.
    public static func names(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", maxSplits: 2)
            guard fields.count >= 2 else { return nil }
            let name = fields[1].trimmingCharacters(in: .whitespaces)
            return String(name.split(separator: "@").first ?? "")
        }.filter { !$0.isEmpty }
    }
}

/// `ip netns list`: one namespace per line, optionally followed by ` (id: N)`.
public enum IPNetnsParser {
    public static func names(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
    }
}

/// `ps -eo stat=,args=`: every process with its state.
public enum ProcessListParser {
    public static let command = Command("ps", "-eo", "stat=,args=")

    /// Command lines of processes that are not zombies.
    public static func living(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard let space = trimmed.firstIndex(of: " ") else { return nil }
            let state = trimmed[..<space]
            return state.hasPrefix("Z") ? nil : trimmed[space...].trimmingCharacters(in: .whitespaces)
        }
    }
}

/// The processes of the reporting host's own network namespace, with their PIDs: what the residue
/// check and the sweep look at. The local testbed's hosts are namespaces of one machine and share
/// its process table, so a plain `ps` on one of them lists the others' (and other testbeds')
/// iperf3 and daemons too; a sweep must never kill those.
public enum NamespaceProcessParser {
    public struct Entry: Equatable, Sendable {
        public var pid: Int32
        public var args: String
    }

    /// Living processes (not zombies) in the namespace named on the first line; none if that line is missing.
    public static func living(_ text: String) -> [Entry] {
        var lines = text.split(separator: "\n")[...]
        guard let first = lines.popFirst(), first.hasPrefix("@netns "), let own = Int(first.dropFirst(7).trimmingCharacters(in: .whitespaces))
        else { return [] }
        return lines.compactMap { line in
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
            guard fields.count == 4, !fields[0].hasPrefix("Z"), let pid = Int32(fields[1]), Int(fields[2]) == own else { return nil }
            return Entry(pid: pid, args: fields[3].trimmingCharacters(in: .whitespaces))
        }
    }
}

/// `ip -4 route show` and `ip -o -4 addr show`: route destinations, and addresses with their device.
public enum IPAddressParser {
    public struct Assigned: Equatable, Sendable {
        /// With its prefix: `198.18.1.100/32`.
        public var address: String
        public var device: String
    }

    /// The first word of each route: its destination (`198.18.3.100`, `default`, `198.18.1.0/24`).
    public static func routeDestinations(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// `2: eth1    inet 198.18.1.100/32 scope global eth1`: address and device of each line.
    public static func addresses(_ text: String) -> [Assigned] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 1, let index = fields.firstIndex(of: "inet"), index + 1 < fields.count else { return nil }
            return Assigned(address: String(fields[index + 1]), device: String(fields[1]))
        }
    }
}
