/// wireguard-swift's drop counters around a repetition's traffic. The daemon keeps them by reason
/// in /var/run/wireguard/<ifname>.stats (`name=count` lines, rewritten within 100 ms of a
/// change); wgbench reads them on both gateways before and after the traffic and records what
/// the traffic added, per gateway and reason (summed over the point's tunnels).
public enum DaemonDrops {
    /// interface -> counter -> count.
    public static func parse(_ stdout: String) -> [String: [String: Int]] {
        var counters: [String: [String: Int]] = [:]
        for line in stdout.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count == 2 else { continue }
            let pair = words[1].split(separator: "=")
            guard pair.count == 2, let count = Int(pair[1]), count >= 0 else { continue }
            counters[String(words[0]), default: [:]][String(pair[0])] = count
        }
        return counters
    }

    /// What the counters grew by, summed over interfaces; only reasons that grew. An interface
    /// whose counter went down (its daemon started anew) counts from zero.
    public static func added(before: [String: [String: Int]], after: [String: [String: Int]]) -> [String: Int] {
        var added: [String: Int] = [:]
        for (interface, counters) in after {
            for (name, count) in counters {
                let earlier = before[interface]?[name] ?? 0
                let grown = count >= earlier ? count - earlier : count
                if grown > 0 { added[name, default: 0] += grown }
            }
        }
        return added
    }

    /// Per host, what the traffic added (`added`), from host -> interface -> counter readings; nil
    /// unless both readings were made.
    public static func perHost(before: [String: [String: [String: Int]]]?, after: [String: [String: [String: Int]]]?) -> [String: [String: Int]]? {
        guard let before, let after else { return nil }
        return Dictionary(uniqueKeysWithValues: after.map { host, counters in (host, added(before: before[host] ?? [:], after: counters)) })
    }

    /// `replayed 12, no_session 3`: the largest first.
    public static func describe(_ drops: [String: Int]) -> String {
        drops.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}
