import Foundation

/// The quiet-machine check an experiment may ask for (`preflight:`): frequency governor, turbo,
/// idle states, irqbalance and how busy each host is before the run, recorded in
/// metadata/preflight.json and warned about; with `strict` a warning stops the run before any
/// host is changed.
public struct PreflightSpec: Sendable, Codable, Equatable {
    public var hosts: [HostRole]
    /// A host busier than this (percent of all its CPUs, over one second) is warned about.
    public var busyPercent: Double
    public var strict: Bool

    public init(hosts: [HostRole] = [.gw1, .gw2], busyPercent: Double = 10, strict: Bool = false) {
        self.hosts = hosts
        self.busyPercent = busyPercent
        self.strict = strict
    }

    public static let keys = ["hosts", "busy_percent", "strict"]
}

/// What the check found on one host.
public struct PreflightReport: Codable, Sendable, Equatable {
    public var host: String
    /// Governor -> CPUs using it; empty where the host has no cpufreq (many virtual machines).
    public var governors: [String: Int]
    /// true: turbo/boost on; nil: the host does not say.
    public var turbo: Bool?
    /// Idle states (cpu0) that are enabled, deeper than polling.
    public var idleStates: [String]
    public var irqbalance: Bool
    /// Percent of all CPUs busy over one second before the run.
    public var busyPercent: Double?
    /// The busiest processes by `ps` (lifetime share), for the record.
    public var busiest: [String]
    public var warnings: [String]
}

public enum PreflightCommands {
    public static func parse(_ output: String, host: String, spec: PreflightSpec) -> PreflightReport {
        var sections: [String: [String]] = [:]
        var current = ""
        for line in output.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) where !line.isEmpty {
            if line.hasPrefix("@") { current = String(line.dropFirst()); sections[current] = [] } else { sections[current, default: []].append(line) }
        }
        var report = PreflightReport(host: host, governors: [:], turbo: nil, idleStates: [], irqbalance: false, busyPercent: nil,
                                     busiest: sections["busiest"] ?? [], warnings: [])
        for governor in sections["governor"] ?? [] { report.governors[governor, default: 0] += 1 }
        if let noTurbo = sections["no_turbo"]?.first { report.turbo = noTurbo == "0" }
        else if let boost = sections["boost"]?.first { report.turbo = boost == "1" }
        // state0 is polling on x86: a shallow state the paper's "idle states disabled" leaves.
        report.idleStates = (sections["idle"] ?? []).compactMap { line in
            // "<name> <disable>"; a name may hold spaces ("haltpoll idle").
            let fields = line.split(separator: " ")
            guard fields.count >= 2, fields.last == "0" else { return nil }
            let name = fields.dropLast().joined(separator: " ")
            return name == "POLL" ? nil : name
        }
        report.irqbalance = sections["irqbalance"]?.first == "running"
        let stats = (sections["stat"] ?? []).compactMap(ProcStatParser.parseTotalLine)
        if stats.count == 2 {
            let total = stats[1].total - stats[0].total, idle = stats[1].idle - stats[0].idle
            if total > 0 { report.busyPercent = 100 * Double(total - idle) / Double(total) }
        }
        for (governor, count) in report.governors.sorted(by: { $0.key < $1.key }) where governor != "performance" {
            report.warnings.append("\(count) CPU(s) on the \(governor) frequency governor: set performance")
        }
        if report.turbo == true { report.warnings.append("turbo/boost is on: clock speed follows load and temperature") }
        if !report.idleStates.isEmpty { report.warnings.append("idle states enabled: \(report.idleStates.joined(separator: ", "))") }
        if report.irqbalance { report.warnings.append("irqbalance is running and moves interrupts") }
        if let busy = report.busyPercent, busy > spec.busyPercent {
            report.warnings.append(String(format: "%.0f%% busy before the run (threshold %.0f%%): %@", busy, spec.busyPercent,
                                          report.busiest.prefix(3).joined(separator: "; ")))
        }
        return report
    }
}
