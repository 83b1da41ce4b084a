import Foundation

/// What a reader should notice about a point, found automatically from its per-core CPU usage.
public struct Finding: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// A core at or near 100%: whatever runs there limits throughput.
        case bottleneck
        /// The paper's "black hole" (Fig. 9): the forwarding of several tunnels gathered on one
        /// core (softirq-bound) while the other cores have time to spare.
        case blackHole = "black-hole"
    }

    public var kind: Kind
    public var host: String
    public var cores: [Int]
    public var detail: String
}

public enum Findings {
    /// A core this busy (percent) counts as saturated.
    public static let saturated = 90.0

    public static func analyze(_ row: PointSummary) -> [Finding] {
        var findings: [Finding] = []
        for (host, cores) in row.meanCoreUsage.sorted(by: { $0.key < $1.key }) {
            let hot = cores.filter { $0.busy >= saturated }
            if !hot.isEmpty {
                let detail = hot.map { String(format: "core %d %.0f%% busy, mostly %@", $0.cpu, $0.busy, $0.dominant) }
                    .joined(separator: "; ")
                findings.append(Finding(kind: .bottleneck, host: host, cores: hot.map(\.cpu), detail: detail))
            }
            if let hole = blackHole(cores, tunnels: row.target.hasTunnels ? row.point.tunnels : 0) {
                findings.append(Finding(kind: .blackHole, host: host, cores: [hole.core.cpu], detail: String(
                    format: "%d tunnels: core %d is %.0f%% busy (%.0f%% softirq) while the other cores average %.0f%%",
                    row.point.tunnels, hole.core.cpu, hole.core.busy, hole.core.softirq, hole.othersMean)))
            }
        }
        return findings
    }

    /// One saturated core, mostly in softirq, with at least two tunnels, while the other cores
    /// average under 60% of its load: many tunnels' receive paths on one core.
    static func blackHole(_ cores: [CoreUsage], tunnels: Int) -> (core: CoreUsage, othersMean: Double)? {
        guard tunnels >= 2, cores.count >= 2,
              let top = cores.max(by: { $0.busy < $1.busy }), top.busy >= saturated, top.dominant == "softirq"
        else { return nil }
        let others = cores.filter { $0.cpu != top.cpu }
        let mean = others.map(\.busy).reduce(0, +) / Double(others.count)
        return mean <= 0.6 * top.busy ? (top, mean) : nil
    }
}
