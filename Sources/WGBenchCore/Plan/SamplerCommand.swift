import Foundation

/// The CPU sampler that runs on a host during a run: from the start of the traffic (the warm-up
/// included, so that the second a core saturates can be seen) it prints /proc/uptime and
/// /proc/stat every interval, then the shell's `times` (its own CPU cost and its children's). One
/// `cat` per sample is all it costs. `steadyWindow` picks the measured window out of the samples.
public enum SamplerCommand {
    /// Samples = (warm-up + measured seconds) / interval + 1, so the deltas cover the whole traffic.
    public static func command(omitSeconds: Int, durationSeconds: Int, intervalMilliseconds: Int) -> HostOperation {
        .sampleCPU(CPUSampling(samples: (omitSeconds + durationSeconds) * 1000 / intervalMilliseconds + 1, intervalMilliseconds: intervalMilliseconds,
                               timeoutMilliseconds: (omitSeconds + durationSeconds) * 1000 + 30_000))
    }

    /// The measured window of a sampler's series: from the first sample taken once the warm-up
    /// is over (within a quarter interval: `sleep` only ever runs late) to the last; nil with
    /// fewer than two samples there.
    public static func steadyWindow(_ samples: [CPUSample], warmUpSeconds: Int, intervalMilliseconds: Int) -> (from: CPUSample, to: CPUSample)? {
        guard let origin = samples.first?.uptime, let last = samples.last else { return nil }
        let slack = Double(intervalMilliseconds) / 4000
        guard let from = samples.first(where: { $0.uptime - origin >= Double(warmUpSeconds) - slack }), from.uptime < last.uptime else { return nil }
        return (from, last)
    }
}

extension SamplerCommand {
    /// What the sampler prints for `samples` (the inverse of `ProcStatParser.samples`): the
    /// simulated testbed's answer, and recorded-looking series for tests.
    public static func output(_ samples: [CPUSample]) -> String {
        var text = ""
        for sample in samples {
            let cpus = sample.cores.keys.sorted()
            text += "@sample\n" + String(format: "%.2f %.2f\n", sample.uptime, sample.uptime * Double(cpus.count))
            let fields = sample.cores.values.map(\.count).max() ?? 0
            text += "cpu  " + (0..<fields).map { field in String(cpus.map { sample.cores[$0]!.indices.contains(field) ? sample.cores[$0]![field] : 0 }.reduce(0, +)) }
                .joined(separator: " ") + "\n"
            for cpu in cpus { text += "cpu\(cpu) " + sample.cores[cpu]!.map(String.init).joined(separator: " ") + "\n" }
            text += "ctxt 1\nbtime 1\n"
        }
        return text + "@times\n0m0.000s 0m0.000s\n0m0.000s 0m0.000s\n"
    }
}

extension CPUSample {
    /// A sample of `cores` CPUs with every counter at `jiffies`, at `uptime`.
    public static func start(cores: Int, uptime: Double, jiffies: UInt64 = 1000) -> CPUSample {
        CPUSample(uptime: uptime, cores: Dictionary(uniqueKeysWithValues: (0..<cores).map { ($0, [UInt64](repeating: jiffies, count: 10)) }))
    }

    /// The sample `seconds` later, each core in `usage` having spent those shares (percent) of
    /// them at `hz` jiffies a second, the rest idle: what a host whose load is known reads next.
    public func advanced(by seconds: Double, usage: [CoreUsage], hz: Double = 100) -> CPUSample {
        var next = self
        next.uptime += seconds
        for load in usage {
            guard var counters = next.cores[load.cpu], counters.count >= 7 else { continue }
            let jiffies = { (share: Double) in UInt64((share / 100 * seconds * hz).rounded()) }
            let busy = [jiffies(load.user), jiffies(load.system), jiffies(load.irq), jiffies(load.softirq)]
            counters[0] += busy[0]
            counters[2] += busy[1]
            counters[5] += busy[2]
            counters[6] += busy[3]
            counters[3] += UInt64((seconds * hz).rounded()) - min(UInt64((seconds * hz).rounded()), busy.reduce(0, +))
            next.cores[load.cpu] = counters
        }
        return next
    }
}
