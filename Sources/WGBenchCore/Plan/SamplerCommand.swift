import Foundation

/// The CPU sampler that runs on a host during a run: after the warm-up it prints /proc/uptime and
/// /proc/stat every interval over the measured window, then the shell's `times` (its own CPU cost
/// and its children's). One `cat` per sample is all it costs.
public enum SamplerCommand {
    static let script = """
        sleep "$1"; i=0
        while [ "$i" -lt "$2" ]; do echo @sample; cat /proc/uptime /proc/stat; i=$((i+1)); if [ "$i" -lt "$2" ]; then sleep "$3"; fi; done
        echo @times; times
        """

    /// Samples = measured seconds / interval + 1, so the deltas cover the whole window.
    public static func command(omitSeconds: Int, durationSeconds: Int, intervalMilliseconds: Int) -> Command {
        let samples = durationSeconds * 1000 / intervalMilliseconds + 1
        let interval = intervalMilliseconds % 1000 == 0 ? String(intervalMilliseconds / 1000)
            : String(format: "%.3f", Double(intervalMilliseconds) / 1000)
        return Command(["sh", "-c", script, "sampler", String(omitSeconds), String(samples), interval],
                       timeout: SpecDuration(milliseconds: (omitSeconds + durationSeconds) * 1000 + 30_000))
    }
}
