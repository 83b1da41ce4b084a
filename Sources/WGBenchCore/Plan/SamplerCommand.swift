import Foundation

/// The CPU sampler that runs on a host during a run: from the start of the traffic (the warm-up
/// included, so that the second a core saturates can be seen) it prints /proc/uptime and
/// /proc/stat every interval, then the shell's `times` (its own CPU cost and its children's). One
/// `cat` per sample is all it costs. `steadyWindow` picks the measured window out of the samples.
public enum SamplerCommand {
    static let script = """
        i=0
        while [ "$i" -lt "$1" ]; do echo @sample; cat /proc/uptime /proc/stat; i=$((i+1)); if [ "$i" -lt "$1" ]; then sleep "$2"; fi; done
        echo @times; times
        """

    /// Samples = (warm-up + measured seconds) / interval + 1, so the deltas cover the whole traffic.
    public static func command(omitSeconds: Int, durationSeconds: Int, intervalMilliseconds: Int) -> Command {
        let samples = (omitSeconds + durationSeconds) * 1000 / intervalMilliseconds + 1
        let interval = intervalMilliseconds % 1000 == 0 ? String(intervalMilliseconds / 1000)
            : String(format: "%.3f", Double(intervalMilliseconds) / 1000)
        return Command(["sh", "-c", script, "sampler", String(samples), interval],
                       timeout: SpecDuration(milliseconds: (omitSeconds + durationSeconds) * 1000 + 30_000))
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
