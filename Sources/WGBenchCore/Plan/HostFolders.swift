/// What a run keeps on the hosts, under `/run/wgbench/runs/<run>/`: uploaded programs, the tunnel
/// daemons' logs, and one scratch folder per attempt of a repetition (iperf3's JSON, which it
/// appends to: a folder is made fresh for every attempt, with a random part in its name, so output
/// of an earlier attempt, or of a run killed before it could clean up, is never appended to).
///
/// A run folder is marked `.host-<net>` by each host that uses it (the inode of the host's network
/// namespace, as for the lease): a sweep removes exactly the folders its host marked, which on the
/// local testbed, whose hosts share this machine's /run, leaves another testbed's runs alone.
public enum HostFolders {
    public static let runs = "/run/wgbench/runs"

    public static func run(_ runID: String) -> String { "\(runs)/\(runID)" }

    /// Makes the run's folder and marks it as this host's.
    public static func prepare(runID: String) -> HostOperation { .prepareRunFolder(run(runID)) }

    /// Lists (`list`) or removes and lists (`remove`) every run folder this host marked.
    public static func sweep(remove: Bool) -> HostOperation { .sweepRunFolders(remove: remove) }

    /// A fresh scratch folder for one attempt of one repetition.
    public static func attempt(runID: String, key: RunKey, attempt: Int, nonce: String) -> String {
        "\(run(runID))/\(key.series)-\(key.point.directoryName)-rep\(key.repetition)-a\(attempt)-\(nonce)"
    }

    /// Removes whatever is at `path` and makes it anew, empty.
    public static func fresh(_ path: String) -> HostOperation { .freshFolder(path) }

    /// Where a tunnel daemon of the run writes its log.
    public static func daemonLog(runID: String, interface: String) -> String { "\(run(runID))/daemon-\(interface).log" }
}
