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
