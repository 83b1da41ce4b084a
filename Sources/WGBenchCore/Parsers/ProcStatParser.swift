import Foundation

/// One reading of /proc/stat with the host's uptime: raw jiffies per core.
public struct CPUSample: Codable, Sendable, Equatable {
    /// Seconds since boot on the host (/proc/uptime), the sampler's clock.
    public var uptime: Double
    /// cpu index -> the counters in /proc/stat's order: user nice system idle iowait irq softirq steal guest guest_nice.
    public var cores: [Int: [UInt64]]
}

/// Time shares of one core over an interval, in percent.
public struct CoreUsage: Codable, Sendable, Equatable {
    public var cpu: Int
    public var user: Double
    public var system: Double
    public var irq: Double
    public var softirq: Double
    public var idle: Double

    /// Everything but idle (and iowait, which is idle time).
    public var busy: Double { user + system + irq + softirq }

    public init(cpu: Int, user: Double, system: Double, irq: Double, softirq: Double, idle: Double) {
        self.cpu = cpu
        self.user = user
        self.system = system
        self.irq = irq
        self.softirq = softirq
        self.idle = idle
    }

    /// The category that takes most of the core's time.
    public var dominant: String {
        [("user", user), ("system", system), ("irq", irq), ("softirq", softirq)].max { $0.1 < $1.1 }!.0
    }

    /// The mean busy percentage over a host's cores (a host's load as a share of all its CPU); nil for none.
    public static func meanBusy(_ cores: [CoreUsage]) -> Double? {
        cores.isEmpty ? nil : cores.map(\.busy).reduce(0, +) / Double(cores.count)
    }

    /// Core by core averages over several readings of the same host.
    public static func mean(_ readings: [[CoreUsage]]) -> [CoreUsage] {
        let cpus = Set(readings.flatMap { $0.map(\.cpu) }).sorted()
        return cpus.map { cpu in
            let values = readings.compactMap { $0.first { $0.cpu == cpu } }
            let n = Double(max(1, values.count))
            let sum = { (field: (CoreUsage) -> Double) in values.map(field).reduce(0, +) / n }
            return CoreUsage(cpu: cpu, user: sum(\.user), system: sum(\.system), irq: sum(\.irq),
                             softirq: sum(\.softirq), idle: sum(\.idle))
        }
    }
}

public enum ProcStatParser {
    /// The sampler's output: `@sample` blocks of /proc/uptime + /proc/stat, then `@times`.
    public static func samples(_ text: String) -> [CPUSample] {
        var samples: [CPUSample] = []
        for block in text.components(separatedBy: "@sample\n").dropFirst() {
            let lines = block.split(separator: "\n")
            guard let first = lines.first, let uptime = first.split(separator: " ").first.flatMap({ Double($0) }) else { continue }
            var cores: [Int: [UInt64]] = [:]
            for line in lines.dropFirst() {
                let fields = line.split(separator: " ")
                guard let name = fields.first, name.hasPrefix("cpu"), name.count > 3, let cpu = Int(name.dropFirst(3)) else { continue }
                cores[cpu] = fields.dropFirst().compactMap { UInt64($0) }
            }
            if !cores.isEmpty { samples.append(CPUSample(uptime: uptime, cores: cores)) }
        }
        return samples
    }

    /// The aggregate `cpu ...` line of /proc/stat: total jiffies (first eight counters) and idle (idle + iowait).
    public static func parseTotalLine(_ line: String) -> (total: UInt64, idle: UInt64)? {
        let fields = line.split(separator: " ")
        guard fields.first == "cpu" else { return nil }
        let values = fields.dropFirst().compactMap { UInt64($0) }
        guard values.count >= 5 else { return nil }
        return (values.prefix(8).reduce(0, +), values[3] + values[4])
    }

    /// Per-core usage between the first and the last sample.
    public static func usage(from first: CPUSample, to last: CPUSample) -> [CoreUsage] {
        first.cores.keys.sorted().compactMap { cpu in
            guard let a = first.cores[cpu], let b = last.cores[cpu], a.count >= 7, b.count >= 7 else { return nil }
            // guest and guest_nice are already counted in user and nice.
            let delta = (0..<min(8, a.count, b.count)).map { Double(b[$0] &- a[$0]) }
            let total = delta.reduce(0, +)
            guard total > 0 else { return CoreUsage(cpu: cpu, user: 0, system: 0, irq: 0, softirq: 0, idle: 100) }
            let share = { (value: Double) in value / total * 100 }
            return CoreUsage(cpu: cpu, user: share(delta[0] + delta[1]), system: share(delta[2]), irq: share(delta[5]),
                             softirq: share(delta[6]), idle: share(delta[3] + delta[4]))
        }
    }

    /// CPU seconds the sampler itself used (shell and children), from `times` after `@times`.
    public static func samplerCPUSeconds(_ text: String) -> Double? {
        guard let range = text.range(of: "@times\n") else { return nil }
        let fields = text[range.upperBound...].split(whereSeparator: \.isWhitespace)
        let seconds = fields.compactMap(parseTimes)
        return seconds.isEmpty ? nil : seconds.reduce(0, +)
    }

    /// `0m0.004s` -> 0.004.
    static func parseTimes(_ text: Substring) -> Double? {
        guard text.hasSuffix("s"), let m = text.firstIndex(of: "m"),
              let minutes = Double(text[..<m]), let seconds = Double(text[text.index(after: m)..<text.index(before: text.endIndex)])
        else { return nil }
        return minutes * 60 + seconds
    }
}
