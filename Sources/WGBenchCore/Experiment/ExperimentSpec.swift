/// A validated experiment: what to measure (series), over which values (sweep), how (traffic,
/// sampling, placement) and how often (repetitions). See `ExperimentLoader` for the file format.
public struct ExperimentSpec: Sendable, Codable, Equatable {
    public var name: String
    public var description: String
    public var repetitions: Int
    public var order: RunOrderPolicy
    /// Seed of the shuffled run order; nil until a run picks one (and records it).
    public var seed: UInt64?
    public var pauseMilliseconds: Int
    /// How many more times a failed repetition is tried before it is recorded as failed.
    public var retries: Int
    public var traffic: TrafficSpec
    public var sampling: SamplingSpec
    /// The experiment's placement; each series carries its own, this one with the series' keys laid over it.
    public var placement: PlacementSpec
    /// Sweep variables in file order; their cross product gives the points.
    public var sweep: [SweepVariable]
    public var series: [SeriesSpec]
    /// Files this one included, for the record.
    public var includes: [String]
    /// The paper's claims this experiment checks (none in runs recorded before claims existed).
    @EmptyIfAbsent public var claims: [ClaimSpec] = []
    /// The series the others are compared with, round by round; nil compares every pair.
    public var baseline: String?
    /// The quiet-machine check at run start, when the experiment asks for it.
    public var preflight: PreflightSpec?
}

/// The order a run measures its repetitions in (see `RunSchedule`).
public enum RunOrderPolicy: String, Sendable, Codable, CaseIterable {
    /// Randomized complete blocks: round after round, every series once at a point, in a fresh
    /// random order; the default with several series.
    case blocks
    /// Each series together, its points and repetitions shuffled; the default with one series.
    case shuffled
    /// Series, points and repetitions in file order.
    case sequential
}

public enum TrafficProtocol: String, Sendable, Codable, CaseIterable {
    case tcp, udp
}

public struct TrafficSpec: Sendable, Codable, Equatable {
    public var `protocol`: TrafficProtocol
    public var durationSeconds: Int
    public var omitSeconds: Int
    /// UDP target bitrate per flow in bits/s (iperf3 -b); 0 means unlimited.
    public var bitrate: UInt64
    public var basePort: Int
    /// CPUs for the iperf3 clients (source) and servers (drain); flow i uses cpus[i % count].
    public var clientCPUs: [Int]
    public var serverCPUs: [Int]
}

public struct SamplingSpec: Sendable, Codable, Equatable {
    public var hosts: [HostRole]
    public var intervalMilliseconds: Int
}

/// Whether a placement step that the hardware cannot do fails the run or is recorded and skipped.
public enum StepRequirement: String, Sendable, Codable, CaseIterable {
    /// Not attempted.
    case off
    /// Attempted where supported; recorded as `unsupported` elsewhere.
    case auto
    /// The run fails before any traffic where it is not supported.
    case required
}

public struct SweepVariable: Sendable, Codable, Equatable {
    public var name: String
    public var values: [String]
}

/// A named configuration: a target, its knobs and its placement (the paper's Vanilla, Inline, ...).
public struct SeriesSpec: Sendable, Codable, Equatable {
    public var name: String
    public var target: TargetKind
    /// Knob values as written, typed; defaults are filled in where the knob is applied.
    public var knobs: KnobSettings
    public var placement: PlacementSpec

    public init(name: String, target: TargetKind, knobs: KnobSettings = KnobSettings(), placement: PlacementSpec = PlacementSpec()) {
        self.name = name
        self.target = target
        self.knobs = knobs
        self.placement = placement
    }

    private enum CodingKeys: String, CodingKey { case name, target, knobs, placement }

    /// Reads run.json; a series recorded before per-series placement (format 1) has the default one.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decode(String.self, forKey: .name), target: try c.decode(TargetKind.self, forKey: .target),
                  knobs: try c.decodeIfPresent(KnobSettings.self, forKey: .knobs) ?? KnobSettings(),
                  placement: try c.decodeIfPresent(PlacementSpec.self, forKey: .placement) ?? PlacementSpec())
    }
}
