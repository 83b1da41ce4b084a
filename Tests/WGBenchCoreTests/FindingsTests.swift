import Foundation
import Testing
@testable import WGBenchCore

/// Per-core CPU as a sampler would have recorded it, built core by core.
enum RecordedCPU {
    static func core(_ cpu: Int, softirq: Double, system: Double = 0, user: Double = 0) -> CoreUsage {
        CoreUsage(cpu: cpu, user: user, system: system, irq: 0, softirq: softirq, idle: 100 - softirq - system - user)
    }

    /// `count` cores at `background`% softirq, with the listed cores at their own softirq load.
    static func host(cores count: Int, background: Double, hot: [Int: Double]) -> [CoreUsage] {
        (0..<count).map { core($0, softirq: hot[$0] ?? background) }
    }

    static func result(series: String = "s", tunnels: Int, repetition: Int, cpu: [String: [CoreUsage]],
                       placement: [String: [CoreAssignment]] = [:], status: RepetitionResult.Status = .ok) -> RepetitionResult {
        let point = Point([.init(name: "tunnels", value: String(tunnels))])
        return RepetitionResult(key: RunKey(series: series, point: point, repetition: repetition), status: status,
                                reason: status == .ok ? nil : "injected", attempts: 1, started: Date(timeIntervalSince1970: 0),
                                finished: Date(timeIntervalSince1970: 30), throughput: status == .ok ? 10e9 : nil, flows: [],
                                cpu: cpu, samplerCPUSeconds: [:], sampledSeconds: 30, knobs: [:], steps: [], placement: placement)
    }

    /// Each tunnel t received on gw2's core t (tunnel 1 on core 1, ...), as Fig. 9's placement does.
    static func rxPerTunnel(_ tunnels: Int) -> [String: [CoreAssignment]] {
        ["gw2": (1...tunnels).map { CoreAssignment(cpu: $0, stage: .rxTunnel, tunnel: $0) }]
    }

    static func record(_ yaml: String) throws -> RunRecord {
        let spec = try ExperimentLoader.parse(yaml: yaml, file: "test.yaml")
        return RunRecord(id: "t", experimentFile: "test.yaml", spec: spec, seed: 1, order: [], testbedFile: "t", testbedName: "t",
                         started: Date(timeIntervalSince1970: 0))
    }
}

struct FindingsTests {
    typealias R = RecordedCPU

    /// Fig. 9's black hole landing on a different core from one repetition to the next, and
    /// missing in some: each repetition is judged on its own CPU.
    @Test func aMovingBlackHoleIsFoundInExactlyTheRepetitionsWhereItOccurs() throws {
        let record = try R.record("name: f9\nrepetitions: 5\nsweep: {tunnels: 8}\nseries: [{name: s, target: kernel}]")
        let holes: [Int: Int] = [1: 30, 2: 12, 4: 30]  // repetition -> core; 3 and 5 have none
        let results = (1...5).map { repetition in
            var hot = Dictionary(uniqueKeysWithValues: (1...8).map { ($0, 40.0) })
            if let core = holes[repetition] { hot[core] = 99 }
            return R.result(tunnels: 8, repetition: repetition, cpu: ["gw2": R.host(cores: 32, background: 15, hot: hot)],
                            placement: R.rxPerTunnel(8))
        }
        let row = try #require(RunSummary.build(record: record, results: results).first)
        let blackHoles = row.repetitionFindings.filter { $0.findings.contains { $0.kind == .blackHole } }
        #expect(blackHoles.map(\.repetition) == [1, 2, 4])
        let tally = try #require(row.findings.first { $0.kind == .blackHole })
        #expect(tally.occurrences.map(\.cores) == [[30], [12], [30]])
        #expect(tally.summary == "black hole on gw2 in 3 of 5 repetitions, on cores 30, 12, 30")
        #expect(tally.occurrences[0].detail.hasPrefix("8 tunnels: core 30 is 99% busy (99% softirq), and the placement put no stage there"))
        // Averaged over the repetitions core 30 is under half busy: the old analysis saw nothing.
        #expect(try #require(row.meanCoreUsage["gw2"]?.first { $0.cpu == 30 }).busy < Findings.saturated)
    }

    /// Inline: every stage of tunnel t on core t-1, each saturated in softirq while the rest idle.
    /// Where each tunnel was meant to run is a bottleneck, not a black hole; without the placement
    /// the old rule (one hot core, the others light) would have called it one.
    @Test func anInlineRunWithEachTunnelsOwnCoreSaturatedIsNoBlackHole() {
        let cpu = ["gw2": R.host(cores: 16, background: 5, hot: [0: 100, 1: 100, 2: 100, 3: 100])]
        let placement = ["gw2": (0..<4).map { CoreAssignment(cpu: $0, stage: .inline, tunnel: $0 + 1) }]
        let findings = Findings.analyze(cpu: cpu, placement: placement, tunnels: 4)
        #expect(findings.map(\.kind) == [.bottleneck])
        #expect(findings[0].cores == [0, 1, 2, 3])
        #expect(findings[0].detail.hasPrefix("core 0 100% busy, mostly softirq (inline of tunnel 1)"))
        #expect(Findings.analyze(cpu: cpu, placement: [:], tunnels: 4).map(\.kind) == [.bottleneck, .blackHole])
    }

    @Test func aSaturatedAssignedRxTunnelCoreIsABottleneckNotABlackHole() {
        let cpu = ["gw2": R.host(cores: 8, background: 10, hot: [1: 100, 2: 85])]
        let findings = Findings.analyze(cpu: cpu, placement: R.rxPerTunnel(2), tunnels: 2)
        #expect(findings.map(\.kind) == [.bottleneck])
        #expect(findings[0].detail == "core 1 100% busy, mostly softirq (rx-tun of tunnel 1)")
    }

    /// Placement is per host: gw1's stages say nothing about gw2's cores.
    @Test func aPlacementOnOneHostDoesNotExcuseAnotherHostsCore() {
        let cpu = ["gw1": R.host(cores: 4, background: 10, hot: [:]), "gw2": R.host(cores: 4, background: 10, hot: [2: 97])]
        let placement = ["gw1": [CoreAssignment(cpu: 2, stage: .txTunnel, tunnel: 1)], "gw2": [CoreAssignment(cpu: 0, stage: .rxTunnel, tunnel: 1)]]
        let findings = Findings.analyze(cpu: cpu, placement: placement, tunnels: 2)
        #expect(findings.map(\.kind) == [.bottleneck, .blackHole])
        #expect(findings.allSatisfy { $0.host == "gw2" && $0.cores == [2] })
    }

    @Test func twoUnplacedSaturatedCoresAreOneBlackHoleOnBoth() {
        let cpu = ["gw2": R.host(cores: 32, background: 10, hot: [3: 95, 20: 96])]
        let holes = Findings.analyze(cpu: cpu, placement: R.rxPerTunnel(2), tunnels: 16).filter { $0.kind == .blackHole }
        #expect(holes.map(\.cores) == [[3, 20]])
    }

    // Without a placement (results recorded before it was kept), the old rule.
    @Test func withoutPlacementOneSoftirqSaturatedCoreAmongIdleOnesIsABlackHole() {
        let cpu = ["gw2": [R.core(0, softirq: 20), R.core(1, softirq: 15), R.core(2, softirq: 95), R.core(3, softirq: 10)]]
        let findings = Findings.analyze(cpu: cpu, placement: [:], tunnels: 8)
        #expect(findings.map(\.kind) == [.bottleneck, .blackHole])
        #expect(findings[1].cores == [2])
        #expect(findings[1].detail.hasPrefix("8 tunnels: core 2 is 95% busy"))
    }

    @Test func saturatedEverywhereOneTunnelOrUserTimeIsNoBlackHole() {
        let all = ["gw2": [R.core(0, softirq: 95), R.core(1, softirq: 94)]]
        #expect(Findings.analyze(cpu: all, placement: [:], tunnels: 8).map(\.kind) == [.bottleneck])
        let one = ["gw2": [R.core(0, softirq: 95), R.core(1, softirq: 5)]]
        #expect(Findings.analyze(cpu: one, placement: [:], tunnels: 1).map(\.kind) == [.bottleneck])
        #expect(Findings.analyze(cpu: one, placement: R.rxPerTunnel(1).mapValues { _ in [] }, tunnels: 1).map(\.kind) == [.bottleneck])
        let user = ["gw2": [R.core(0, softirq: 0, user: 95), R.core(1, softirq: 5)]]
        #expect(Findings.analyze(cpu: user, placement: [:], tunnels: 4).first?.detail == "core 0 95% busy, mostly user")
        let placedUser = ["gw2": R.host(cores: 4, background: 5, hot: [:]).map { $0.cpu == 3 ? R.core(3, softirq: 10, user: 85) : $0 }]
        #expect(Findings.analyze(cpu: placedUser, placement: R.rxPerTunnel(2), tunnels: 2).map(\.kind) == [.bottleneck])
    }

    @Test func failedRepetitionsAndThePlainTargetAreNotJudgedForBlackHoles() throws {
        let cpu = ["gw2": R.host(cores: 8, background: 10, hot: [6: 99])]
        #expect(Findings.analyze(R.result(tunnels: 4, repetition: 1, cpu: cpu, status: .failed), hasTunnels: true) == nil)
        let plain = try #require(Findings.analyze(R.result(tunnels: 4, repetition: 1, cpu: cpu, placement: R.rxPerTunnel(4)), hasTunnels: false))
        #expect(plain.findings.map(\.kind) == [.bottleneck])
        #expect(plain.hosts == ["gw2"])
    }

    /// A repetition without samples of a host does not count towards that host's denominator.
    @Test func theDenominatorIsTheRepetitionsAnalyzedOnThatHost() {
        let hot = RepetitionFindings(repetition: 1, hosts: ["gw1", "gw2"], findings: [Finding(kind: .bottleneck, host: "gw2", cores: [0], detail: "d")])
        let cold = RepetitionFindings(repetition: 2, hosts: ["gw1", "gw2"], findings: [])
        let unsampled = RepetitionFindings(repetition: 3, hosts: ["gw1"], findings: [])
        let tallies = Findings.tally([unsampled, cold, hot])
        #expect(tallies.count == 1)
        #expect(tallies[0].analyzed == 2 && tallies[0].occurrences.map(\.repetition) == [1])
        #expect(tallies[0].summary == "bottleneck on gw2 in 1 of 2 repetitions, on core 0")
    }

    /// summary.json written before the per-repetition findings still decodes.
    @Test func anOldSummaryDecodesWithoutTheNewFields() throws {
        let json = """
        [{"series": "s", "target": "kernel", "point": {"assignments": []}, "repetitions": 2, "failed": 0, "unsupported": 0,
          "meanCoreUsage": {"gw2": [{"cpu": 0, "user": 1, "system": 2, "irq": 0, "softirq": 3, "idle": 94}]}, "failures": []}]
        """
        let rows = try JSONDecoder().decode([PointSummary].self, from: Data(json.utf8))
        #expect(rows[0].findings.isEmpty && rows[0].repetitionFindings.isEmpty && rows[0].hostBusyPercent.isEmpty)
        let again = try JSONDecoder().decode([PointSummary].self, from: JSONEncoder().encode(rows))
        #expect(again == rows)
    }

    @Test func hostBusyIsTheMeanOverCoresOfEachRepetitionThenAcrossRepetitions() throws {
        let record = try R.record("name: x\nrepetitions: 2\nsweep: {tunnels: 2}\nseries: [{name: s, target: kernel}]")
        let results = [R.result(tunnels: 2, repetition: 1, cpu: ["gw1": [R.core(0, softirq: 10), R.core(1, softirq: 30)]]),
                       R.result(tunnels: 2, repetition: 2, cpu: ["gw1": [R.core(0, softirq: 50), R.core(1, softirq: 70)]])]
        let stats = try #require(RunSummary.build(record: record, results: results).first?.hostBusyPercent["gw1"])
        #expect(stats.count == 2 && abs(stats.mean - 40) < 1e-9 && abs(stats.stddev - 800.0.squareRoot()) < 1e-9)
    }
}
