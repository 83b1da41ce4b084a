/// One point of a sweep: a value for every sweep variable.
public struct Point: Sendable, Codable, Hashable {
    public struct Assignment: Sendable, Codable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var assignments: [Assignment]

    public init(_ assignments: [Assignment]) { self.assignments = assignments }

    public func value(_ name: String) -> String? { assignments.first { $0.name == name }?.value }

    /// `tunnels=2,flows_per_tunnel=1`; `default` when nothing is swept.
    public var id: String {
        assignments.isEmpty ? "default" : assignments.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
    }

    /// The id as a directory name: `tunnels-2_flows_per_tunnel-1`. Values are encoded (see
    /// `PathPartEncoding`): a swept path such as `/usr/bin/wireguard-go`, or a value written to climb
    /// (`/x/../../../tmp/p`), stays one folder inside the run directory and the hosts' run folder.
    public var directoryName: String {
        assignments.isEmpty ? "default"
            : PathPartEncoding.fit(assignments.map { "\(PathPartEncoding.encode($0.name))-\(PathPartEncoding.encode($0.value))" }.joined(separator: "_"))
    }

    /// Tunnels and total flows: `flows` when swept, else `flows_per_tunnel` per tunnel; 1 where a
    /// count is not swept. A swept count that is not a whole number from 1 is an error, never 1
    /// (the experiment decoder and run.json's validation refuse one; a point made elsewhere may not).
    public func counts() throws(PointError) -> (tunnels: Int, flows: Int) {
        let tunnels = try count("tunnels") ?? 1
        if let flows = try count("flows") { return (tunnels, flows) }
        return (tunnels, tunnels * (try count("flows_per_tunnel") ?? 1))
    }

    private func count(_ name: String) throws(PointError) -> Int? {
        guard let text = value(name) else { return nil }
        guard let count = Int(text), count >= 1 else { throw PointError(point: id, message: "\(name) = \(text) is not a count from 1") }
        return count
    }

    /// `counts()` of a point already checked (a loaded experiment's or run's).
    public var tunnels: Int { (try? counts())?.tunnels ?? 1 }
    public var flows: Int { (try? counts())?.flows ?? 1 }

    /// The series' knobs with swept knob values on top (checked when the experiment was loaded).
    public func knobs(for series: SeriesSpec) throws(KnobError) -> KnobSettings {
        var knobs = series.knobs
        for assignment in assignments {
            guard let knob = Knob(rawValue: assignment.name), knob.targets.contains(series.target) else { continue }
            knobs[knob] = try knob.parse(assignment.value)
        }
        return knobs
    }
}

public struct PointError: Error, Equatable, Sendable, CustomStringConvertible {
    public var point: String
    public var message: String
    public var description: String { "point \(point): \(message)" }
}

public enum Sweep {
    /// The cross product of the sweep variables, the first variable varying slowest.
    public static func points(_ variables: [SweepVariable]) -> [Point] {
        var points = [Point([])]
        for variable in variables {
            points = points.flatMap { point in
                variable.values.map { Point(point.assignments + [Point.Assignment(name: variable.name, value: $0)]) }
            }
        }
        return points
    }
}

/// One repetition of one point of one series: the unit a run measures, retries and resumes.
public struct RunKey: Sendable, Codable, Hashable, CustomStringConvertible {
    public var series: String
    public var point: Point
    /// 1-based.
    public var repetition: Int

    public init(series: String, point: Point, repetition: Int) {
        self.series = series
        self.point = point
        self.repetition = repetition
    }

    /// Where its files live inside the run directory.
    public var directory: String { "points/\(series)/\(point.directoryName)/rep-\(repetition)" }
    public var description: String { "\(series) \(point.id) rep \(repetition)" }
}

public enum RunSchedule {
    /// Every run of an experiment in the order it is measured, fixed by the seed (and recorded,
    /// so a resumed run continues the same rounds).
    ///
    /// - blocks: a randomized complete block design. Round k measures repetition k of every series
    ///   at every point: the points in a fresh random order, at each point every series once in a
    ///   fresh random order. Series are compared within a round, close together in time, so slow
    ///   drift of the machine cancels from their ratio; switching targets is paid knowingly.
    /// - shuffled: each series together (switching targets is the expensive part), its points and
    ///   repetitions shuffled, so that drift does not line up with the sweep (but it does with the series).
    /// - sequential: file order.
    public static func order(_ spec: ExperimentSpec, seed: UInt64) -> [RunKey] {
        let points = Sweep.points(spec.sweep)
        var generator = SplitMix64(seed: seed)
        if spec.order == .blocks {
            var keys: [RunKey] = []
            for round in 1...spec.repetitions {
                for point in points.shuffled(using: &generator) {
                    keys += spec.series.map(\.name).shuffled(using: &generator).map { RunKey(series: $0, point: point, repetition: round) }
                }
            }
            return keys
        }
        var series = spec.series.map(\.name)
        if spec.order == .shuffled { series.shuffle(using: &generator) }
        return series.flatMap { name -> [RunKey] in
            var keys = points.flatMap { point in (1...spec.repetitions).map { RunKey(series: name, point: point, repetition: $0) } }
            if spec.order == .shuffled { keys.shuffle(using: &generator) }
            return keys
        }
    }
}

/// A small, fast, seedable generator (Steele, Lea, Flood 2014), so a recorded seed reproduces an order.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
