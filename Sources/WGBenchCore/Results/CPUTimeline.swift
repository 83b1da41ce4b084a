import Foundation

/// One host's per-core CPU usage interval by interval (the sampler's period, a second by
/// default) over a repetition's measured window: how fast a core saturates, and whether it stays
/// so, which the window's average in `RepetitionResult.cpu` cannot show (Fig. 9's black hole
/// "appears within seconds").
public struct CPUTimeline: Sendable, Equatable {
    /// The usage between two consecutive samples.
    public struct Interval: Sendable, Equatable {
        /// Seconds since the first sample, at the start and the end of the interval.
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
