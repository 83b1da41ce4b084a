import Foundation

/// One host's per-core CPU usage interval by interval (the sampler's period, a second by
/// default) from the start of the traffic, the warm-up included (results recorded before that
/// start with the measured window): how fast a core saturates, and whether it stays so, which the
/// window's average in `RepetitionResult.cpu` cannot show (Fig. 9's black hole "manifests in
/// seconds after a traffic surge").
public struct CPUTimeline: Sendable, Equatable {
    /// The usage between two consecutive samples.
    public struct Interval: Sendable, Equatable {
        /// Seconds since the first sample (the start of the traffic), at the start and the end of the interval.
        public var start: Double
        public var end: Double
        public var cores: [CoreUsage]
    }

    public var intervals: [Interval]

    /// Consecutive samples, paired; nil with fewer than two (nothing to subtract).
    public init?(samples: [CPUSample]) {
        guard samples.count >= 2, let origin = samples.first?.uptime else { return nil }
        intervals = zip(samples, samples.dropFirst()).map { a, b in
            Interval(start: a.uptime - origin, end: b.uptime - origin, cores: ProcStatParser.usage(from: a, to: b))
        }
    }

    /// Every core seen in any interval, ascending.
    public var cpus: [Int] { Set(intervals.flatMap { $0.cores.map(\.cpu) }).sorted() }

    /// Seconds covered, first sample to last.
    public var duration: Double { intervals.last?.end ?? 0 }

    /// One core's usage in each interval, nil where the core was missing from a sample.
    public func series(cpu: Int) -> [CoreUsage?] {
        intervals.map { interval in interval.cores.first { $0.cpu == cpu } }
    }
}

/// When a core began to stay saturated in softirq in a repetition: the paper's black hole
/// "manifests in seconds after a traffic surge", which a window average cannot show.
public struct SaturationOnset: Codable, Sendable, Equatable {
    public var cpu: Int
    /// Seconds after the first sample (the start of the traffic) at which the core's first
    /// saturated run began.
    public var seconds: Double

    public init(cpu: Int, seconds: Double) {
        self.cpu = cpu
        self.seconds = seconds
    }

    /// A core counts as saturated at this softirq share (percent) ...
    public static let softirqThreshold = 95.0
    /// ... held for at least this long without a break.
    public static let holdSeconds = 3.0
}

extension CPUTimeline {
    /// Every core that stayed at `SaturationOnset.softirqThreshold`% softirq or more for
    /// `holdSeconds` in a row, with the start of its first such run; earliest first, then by core.
    public var saturationOnsets: [SaturationOnset] {
        cpus.compactMap { cpu -> SaturationOnset? in
            var runStart: Double?
            for (interval, usage) in zip(intervals, series(cpu: cpu)) {
                guard let usage, usage.softirq >= SaturationOnset.softirqThreshold else { runStart = nil; continue }
                let start = runStart ?? interval.start
                runStart = start
                if interval.end - start >= SaturationOnset.holdSeconds - 1e-6 { return SaturationOnset(cpu: cpu, seconds: start) }
            }
            return nil
        }.sorted { ($0.seconds, $0.cpu) < ($1.seconds, $1.cpu) }
    }
}
