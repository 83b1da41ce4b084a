import Foundation

/// One row of the summary: a point of a series over its repetitions.
public struct PointSummary: Codable, Sendable, Equatable {
    public var series: String
    public var target: TargetKind
    public var point: Point
    public var repetitions: Int
    public var failed: Int
    /// Repetitions not attempted because the testbed cannot run the target.
    public var unsupported: Int
    /// Throughput of the successful repetitions, Gbit/s.
    public var throughputGbps: SampleStatistics?
    /// host -> per-core usage averaged over successful repetitions.
    public var meanCoreUsage: [String: [CoreUsage]]
    /// The reasons of failed repetitions, distinct.
    public var failures: [String]
    /// CPU-seconds per GB through the tunnel (both gateways), over the successful repetitions.
    public var cpuSecondsPerGB: SampleStatistics?
    /// host -> each successful repetition's mean busy % over all of the host's cores, across repetitions.
    public var hostBusyPercent: [String: SampleStatistics]
    /// Findings of each successful repetition, from its own CPU and placement.
    public var repetitionFindings: [RepetitionFindings]
    /// The same, counted per host and kind: "black hole on gw2 in 7 of 10 repetitions, on cores 30, 30, 12".
    public var findings: [FindingTally]
    /// How noisy the successful repetitions were: CV, drift over the run's time, rounds needed.
    public var noise: NoiseSummary?
    /// wireguard-swift series: per gateway, the packets its daemons dropped during the successful
    /// repetitions' traffic, by reason, summed; nil where no repetition recorded them.
    public var drops: [String: [String: Int]]?

    public init(series: String, target: TargetKind, point: Point, repetitions: Int, failed: Int, unsupported: Int = 0,
                throughputGbps: SampleStatistics?, meanCoreUsage: [String: [CoreUsage]], failures: [String]) {
        self.series = series
        self.target = target
        self.point = point
        self.repetitions = repetitions
        self.failed = failed
        self.unsupported = unsupported
        self.throughputGbps = throughputGbps
        self.meanCoreUsage = meanCoreUsage
        self.failures = failures
        cpuSecondsPerGB = nil
        hostBusyPercent = [:]
        repetitionFindings = []
        findings = []
        noise = nil
    }

    private enum CodingKeys: String, CodingKey {
        case series, target, point, repetitions, failed, unsupported, throughputGbps, meanCoreUsage, failures, cpuSecondsPerGB
        case hostBusyPercent, repetitionFindings, findings, noise, drops
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        series = try c.decode(String.self, forKey: .series)
        target = try c.decode(TargetKind.self, forKey: .target)
        point = try c.decode(Point.self, forKey: .point)
        repetitions = try c.decode(Int.self, forKey: .repetitions)
        failed = try c.decode(Int.self, forKey: .failed)
        unsupported = try c.decodeIfPresent(Int.self, forKey: .unsupported) ?? 0
        throughputGbps = try c.decodeIfPresent(SampleStatistics.self, forKey: .throughputGbps)
        meanCoreUsage = try c.decode([String: [CoreUsage]].self, forKey: .meanCoreUsage)
        failures = try c.decode([String].self, forKey: .failures)
        cpuSecondsPerGB = try c.decodeIfPresent(SampleStatistics.self, forKey: .cpuSecondsPerGB)
        // summary.json written before per-repetition findings has none of these.
        hostBusyPercent = try c.decodeIfPresent([String: SampleStatistics].self, forKey: .hostBusyPercent) ?? [:]
        repetitionFindings = try c.decodeIfPresent([RepetitionFindings].self, forKey: .repetitionFindings) ?? []
        findings = try c.decodeIfPresent([FindingTally].self, forKey: .findings) ?? []
        noise = try c.decodeIfPresent(NoiseSummary.self, forKey: .noise)
        drops = try c.decodeIfPresent([String: [String: Int]].self, forKey: .drops)
    }
}

public enum RunSummary {
    public static func build(record: RunRecord, results: [RepetitionResult], cost: CPUCostContext? = nil) -> [PointSummary] {
        var rows: [PointSummary] = []
        let points = Sweep.points(record.spec.sweep)
        for series in record.spec.series {
            for point in points {
                let mine = results.filter { $0.key.series == series.name && $0.key.point == point }
                guard !mine.isEmpty else { continue }
                let ok = mine.filter { $0.status == .ok }
                var usage: [String: [CoreUsage]] = [:]
                for host in Set(ok.flatMap { $0.cpu.keys }).sorted() {
                    usage[host] = CoreUsage.mean(ok.compactMap { $0.cpu[host] })
                }
                var row = PointSummary(
                    series: series.name, target: series.target, point: point, repetitions: mine.count,
                    failed: mine.filter { $0.status == .failed }.count,
                    unsupported: mine.filter { $0.status == .unsupported }.count,
                    throughputGbps: SampleStatistics(ok.compactMap { $0.throughput.map { $0 / 1e9 } }),
                    meanCoreUsage: usage,
                    failures: Array(Set(mine.compactMap(\.reason))).sorted())
                let shared = cost?.gatewaysShareMachine ?? false
                row.cpuSecondsPerGB = SampleStatistics(ok.compactMap { result in
                    result.throughput.flatMap { CPUCost.secondsPerGB(cpu: result.cpu, throughputBitsPerSecond: $0, gatewaysShareMachine: shared) }
                })
                for host in usage.keys {
                    row.hostBusyPercent[host] = SampleStatistics(ok.compactMap { $0.cpu[host].flatMap(CoreUsage.meanBusy) })
                }
                row.repetitionFindings = ok.sorted { $0.key.repetition < $1.key.repetition }
                    .compactMap { Findings.analyze($0, hasTunnels: series.target.hasTunnels) }
                row.findings = Findings.tally(row.repetitionFindings)
                row.noise = NoiseSummary(ok.compactMap { result in result.throughput.map { (result.started, $0 / 1e9) } })
                let recorded = ok.compactMap(\.drops)
                if !recorded.isEmpty {
                    row.drops = recorded.reduce(into: [:]) { total, drops in
                        for (host, reasons) in drops { total[host, default: [:]].merge(reasons, uniquingKeysWith: +) }
                    }
                }
                rows.append(row)
            }
        }
        return rows
    }

    /// One line per point, for spreadsheets and pandas; with `ratios`, each series' ratio over the
    /// experiment's baseline at that point (paired by round in a run in blocks).
    public static func csv(_ rows: [PointSummary], sweep: [SweepVariable], cost: CPUCostContext? = nil, ratios: [PairedRatio] = []) -> String {
        let variables = sweep.map(\.name)
        var lines = [(["series", "target"] + variables + ["repetitions", "failed", "unsupported", "mean_gbps", "stddev_gbps", "min_gbps",
                                                           "max_gbps", "ci95_gbps", "gw1_busy_mean_pct", "gw2_busy_mean_pct",
                                                           "cpu_s_per_gb", "floor_cpu_s_per_gb", "cv_pct", "drift_pct_per_hour",
                                                           "rounds_for_5pct", "baseline", "ratio_over_baseline", "ratio_low95", "ratio_high95"])
            .joined(separator: ",")]
        for row in rows {
            let stats = row.throughputGbps
            let number = { (value: Double?) in value.map { String(format: "%.4f", $0) } ?? "" }
            let meanBusy = { (host: String) -> String in
                guard let busy = row.meanCoreUsage[host].flatMap(CoreUsage.meanBusy) else { return "" }
                return String(format: "%.2f", busy)
            }
            let fields = [row.series, row.target.rawValue] + variables.map { row.point.value($0) ?? "" }
                + [String(row.repetitions), String(row.failed), String(row.unsupported), number(stats?.mean), number(stats?.stddev), number(stats?.min),
                   number(stats?.max), number(stats?.ci95), meanBusy("gw1"), meanBusy("gw2"), number(row.cpuSecondsPerGB?.mean),
                   row.target.hasTunnels ? number(cost?.tunnelFloorSecondsPerGB) : ""]
            let ratio = ratios.first { $0.series == row.series && $0.point == row.point }
            let noise = [number(row.noise?.cvPercent), number(row.noise?.driftPercentPerHour), row.noise?.roundsNeeded.map(String.init) ?? ""]
            let paired = [ratio?.over ?? "", number(ratio?.ratio), number(ratio?.low), number(ratio?.high)]
            lines.append((fields + noise + paired).map(csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Every repetition, one line each.
    public static func repetitionsCSV(_ results: [RepetitionResult]) -> String {
        var lines = ["series,point,repetition,status,attempts,throughput_gbps,flows,reason"]
        for result in results.sorted(by: { ($0.key.series, $0.key.point.id, $0.key.repetition) < ($1.key.series, $1.key.point.id, $1.key.repetition) }) {
            let gbps = result.throughput.map { String(format: "%.4f", $0 / 1e9) } ?? ""
            lines.append([result.key.series, result.key.point.id, String(result.key.repetition), result.status.rawValue,
                          String(result.attempts), gbps, String(result.flows.count), result.reason ?? ""].map(csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A short table for the terminal.
    public static func table(_ rows: [PointSummary]) -> String {
        let header = ["series", "point", "reps", "Gbit/s", "±95%", "CV", "CPU-s/GB", "failed", "unsupported"]
        let body = rows.map { row in
            [row.series, row.point.id, String(row.repetitions),
             row.throughputGbps.map { String(format: "%.3f", $0.mean) } ?? "-",
             row.throughputGbps.map { String(format: "%.3f", $0.ci95) } ?? "-",
             row.noise.map { String(format: "%.1f%%", $0.cvPercent) + ($0.isNoisy ? "!" : "") } ?? "-",
             row.cpuSecondsPerGB.map { String(format: "%.2f", $0.mean) } ?? "-", String(row.failed), String(row.unsupported)]
        }
        return TextTable.render([header] + body, rightAligned: [2, 3, 4, 5, 6, 7, 8])
    }

    /// The line people want at the end of a run: at each point, every tunnel target's throughput
    /// and CPU-s/GB relative to the baseline series (the first tunnel series without one):
    /// `relative to wireguard-go (tunnels=1): swift-inline 3.10x throughput, 0.45x CPU-s/GB; ...`.
    public static func relativeLines(_ rows: [PointSummary], ratios: [PairedRatio], baseline: String?) -> [String] {
        let tunneled = rows.filter { $0.target.hasTunnels && $0.throughputGbps != nil }
        guard let reference = baseline ?? tunneled.first?.series else { return [] }
        let points = rows.map(\.point).reduce(into: [Point]()) { if !$0.contains($1) { $0.append($1) } }
        return points.compactMap { point -> String? in
            guard let base = rows.first(where: { $0.series == reference && $0.point == point }), let baseGbps = base.throughputGbps?.mean,
                  baseGbps > 0 else { return nil }
            let parts = tunneled.filter { $0.point == point && $0.series != reference }.map { row -> String in
                let throughput = ratios.first { $0.series == row.series && $0.over == reference && $0.point == point }?.ratio
                    ?? (row.throughputGbps!.mean / baseGbps)
                let cost = row.cpuSecondsPerGB.flatMap { mine in base.cpuSecondsPerGB.map { mine.mean / $0.mean } }
                return "\(row.series) " + String(format: "%.2fx throughput", throughput) + (cost.map { String(format: ", %.2fx CPU-s/GB", $0) } ?? "")
            }
            guard !parts.isEmpty else { return nil }
            return "relative to \(reference) (\(point.id)): " + parts.joined(separator: "; ")
        }
    }

    /// What the terminal prints after the table: paired ratios, the packets wireguard-swift's
    /// daemons dropped, then the noisy or drifting points with the rounds a ±5% interval would need.
    public static func comparisons(_ rows: [PointSummary], ratios: [PairedRatio]) -> String {
        var text = ""
        if !ratios.isEmpty {
            text += "compared " + (ratios.allSatisfy(\.paired) ? "round by round (randomized blocks)" : "as ratios of means (not in blocks)") + ":\n"
            text += PairedRatios.lines(ratios).map { "  \($0)\n" }.joined()
        }
        let dropping = rows.filter { $0.drops?.values.contains { !$0.isEmpty } ?? false }
        if !dropping.isEmpty {
            text += "packets the wireguard-swift daemons dropped during traffic (all repetitions, by reason):\n"
            text += dropping.map { row in
                "  \(row.series) \(row.point.id): " + row.drops!.sorted { $0.key < $1.key }.filter { !$0.value.isEmpty }
                    .map { "\($0.key) \(DaemonDrops.describe($0.value))" }.joined(separator: "; ") + "\n"
            }.joined()
        }
        let noisy = rows.filter { $0.noise.map { $0.isNoisy || $0.drifts } ?? false }
        if !noisy.isEmpty {
            text += "noisy or drifting points (CV over \(Int(NoiseSummary.noisyCVPercent))%, or a drift with p < 0.05):\n"
            text += noisy.map { "  \($0.series) \($0.point.id): \($0.noise!.text)\n" }.joined()
        }
        return text
    }

    /// A CSV field, quoted where it holds a comma, a quote or a line break.
    public static func csvField(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}
