import Foundation

/// `run.json`: what a run directory is a run of. Written once at the start; `--resume` reads it.
public struct RunRecord: Codable, Sendable {
    /// 2: typed knobs and symbolic placement per series; format 1 runs read with default placement.
    /// 3: knob values typed in JSON (flags true/false, numbers), an unknown knob name refused.
    public static let currentFormat = 3

    public var format: Int
    public var id: String
    public var experimentFile: String
    /// The spec after includes and defaults, with the seed the run used.
    public var spec: ExperimentSpec
    public var seed: UInt64
    /// Every repetition in the order it is measured; resume follows it.
    public var order: [RunKey]
    public var testbedFile: String
    public var testbedName: String
    public var started: Date
    /// The source revision of the controller's wgbench checkout (or WGBENCH_COMMIT), when known:
    /// what a nightly history links each run to.
    public var commit: String?

    public init(id: String, experimentFile: String, spec: ExperimentSpec, seed: UInt64, order: [RunKey],
                testbedFile: String, testbedName: String, started: Date) {
        format = Self.currentFormat
        self.id = id
        self.experimentFile = experimentFile
        self.spec = spec
        self.seed = seed
        self.order = order
        self.testbedFile = testbedFile
        self.testbedName = testbedName
        self.started = started
    }
}

/// A placement or provisioning step that was done, skipped as unsupported, or failed.
public struct StepRecord: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case ok, unsupported, failed }

    public var host: HostRole
    public var step: String
    public var status: Status
    public var detail: String

    public init(host: HostRole, step: String, status: Status, detail: String) {
        self.host = host
        self.step = step
        self.status = status
        self.detail = detail
    }
}

/// One CPU given to one stage of a point on one gateway: what the placement resolved to, kept
/// with each repetition so findings can tell an expected hot core (a tunnel's own rx core) from a
/// black hole (a saturated core that nothing was put on).
public struct CoreAssignment: Codable, Sendable, Equatable, Hashable {
    public enum Stage: String, Codable, Sendable, CaseIterable {
        /// A flow's plain packets received: gw1's ingress (data), gw2's egress (the ACKs).
        case rxPlain = "rx-plain"
        /// A tunnel's UDP packets received: gw2's underlay (data), gw1's underlay (the ACKs).
        case rxTunnel = "rx-tun"
        /// A tunnel's TX worker (kernel: the peer's serial work; userspace: its in-order sender).
        case txTunnel = "tx-tun"
        /// Run to completion: every stage of the tunnel on this core (Inline, emulated inline).
        case inline
    }

    public var cpu: Int
    public var stage: Stage
    /// 1-based tunnel, where the stage belongs to one.
    public var tunnel: Int?
    /// 0-based flow, for rx-plain.
    public var flow: Int?

    public init(cpu: Int, stage: Stage, tunnel: Int? = nil, flow: Int? = nil) {
        self.cpu = cpu
        self.stage = stage
        self.tunnel = tunnel
        self.flow = flow
    }
}

/// One attempt at a repetition and how it ended, kept in result.json whatever the outcome and
/// across `--resume`s (a failed repetition measured again keeps the reasons of its earlier attempts).
public struct AttemptRecord: Codable, Sendable, Equatable {
    public var started: Date
    public var finished: Date
    /// Why it failed; nil when it succeeded.
    public var failure: String?

    public init(started: Date, finished: Date, failure: String?) {
        self.started = started
        self.finished = finished
        self.failure = failure
    }
}

/// `result.json` of one repetition. Raw files (iperf3 JSON, sampler output) lie beside it.
public struct RepetitionResult: Codable, Sendable {
    public enum Status: String, Codable, Sendable {
        case ok, failed
        /// Not attempted: the gateways cannot run the series' target (e.g. no kernel WireGuard).
        case unsupported
    }

    public var key: RunKey
    public var status: Status
    /// Why it failed, after the last attempt.
    public var reason: String?
    /// Attempts made, across every invocation of the run.
    public var attempts: Int
    /// Each attempt with its reason, oldest first (empty in results written before it was kept).
    public var attemptLog: [AttemptRecord]
    public var started: Date
    public var finished: Date
    /// Sum over flows of the receiver-side goodput, bits/s.
    public var throughput: Double?
    public var flows: [Iperf3Result]
    /// Per host sampled, per-core usage over the measured window (the steady state after the warm-up).
    public var cpu: [String: [CoreUsage]]
    /// CPU seconds the sampler itself used, per host, and the seconds it sampled (from the start
    /// of the traffic, the warm-up included; before `steadyFrom` was kept, the measured window only).
    public var samplerCPUSeconds: [String: Double]
    public var sampledSeconds: Double?
    /// Seconds from the first CPU sample (taken as the traffic starts) to the start of the window
    /// `cpu` covers; nil in results recorded when sampling began with that window.
    public var steadyFrom: Double?
    /// Per host sampled, the cores that stayed saturated in softirq and the second each began to,
    /// from the whole per-second series (`CPUTimeline.saturationOnsets`): empty when none did, nil
    /// where not recorded.
    public var saturation: [String: [SaturationOnset]]?
    /// WireGuard knobs as read back from the hosts, `host:interface:knob` -> value.
    public var knobs: [String: String]
    public var steps: [StepRecord]
    /// Per gateway, the CPUs the placement gave to each stage (empty where nothing was placed).
    public var placement: [String: [CoreAssignment]]
    /// wireguard-swift series: per gateway, the packets its daemons dropped during the traffic, by
    /// reason (only reasons that occurred: an empty map means none); nil where not recorded.
    public var drops: [String: [String: Int]]?

    public init(key: RunKey, status: Status, reason: String?, attempts: Int, started: Date, finished: Date,
                throughput: Double?, flows: [Iperf3Result], cpu: [String: [CoreUsage]], samplerCPUSeconds: [String: Double],
                sampledSeconds: Double?, knobs: [String: String], steps: [StepRecord], placement: [String: [CoreAssignment]] = [:],
                attemptLog: [AttemptRecord] = [], drops: [String: [String: Int]]? = nil, steadyFrom: Double? = nil,
                saturation: [String: [SaturationOnset]]? = nil) {
        self.key = key
        self.status = status
        self.reason = reason
        self.attempts = attempts
        self.started = started
        self.finished = finished
        self.throughput = throughput
        self.flows = flows
        self.cpu = cpu
        self.samplerCPUSeconds = samplerCPUSeconds
        self.sampledSeconds = sampledSeconds
        self.knobs = knobs
        self.steps = steps
        self.placement = placement
        self.attemptLog = attemptLog
        self.drops = drops
        self.steadyFrom = steadyFrom
        self.saturation = saturation
    }

    private enum CodingKeys: String, CodingKey {
        case key, status, reason, attempts, attemptLog, started, finished, throughput, flows, cpu, samplerCPUSeconds, sampledSeconds, knobs, steps,
             placement, drops, steadyFrom, saturation
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decode(RunKey.self, forKey: .key)
        status = try c.decode(Status.self, forKey: .status)
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
        attempts = try c.decode(Int.self, forKey: .attempts)
        started = try c.decode(Date.self, forKey: .started)
        finished = try c.decode(Date.self, forKey: .finished)
        throughput = try c.decodeIfPresent(Double.self, forKey: .throughput)
        flows = try c.decode([Iperf3Result].self, forKey: .flows)
        cpu = try c.decode([String: [CoreUsage]].self, forKey: .cpu)
        samplerCPUSeconds = try c.decode([String: Double].self, forKey: .samplerCPUSeconds)
        sampledSeconds = try c.decodeIfPresent(Double.self, forKey: .sampledSeconds)
        knobs = try c.decode([String: String].self, forKey: .knobs)
        steps = try c.decode([StepRecord].self, forKey: .steps)
        // Results written before placement was recorded have none.
        placement = try c.decodeIfPresent([String: [CoreAssignment]].self, forKey: .placement) ?? [:]
        attemptLog = try c.decodeIfPresent([AttemptRecord].self, forKey: .attemptLog) ?? []
        drops = try c.decodeIfPresent([String: [String: Int]].self, forKey: .drops)
        steadyFrom = try c.decodeIfPresent(Double.self, forKey: .steadyFrom)
        saturation = try c.decodeIfPresent([String: [SaturationOnset]].self, forKey: .saturation)
    }
}
