/// Where each file of a run directory lies, relative to the directory: the one place the engine
/// (which writes them, `ResultStore`) and the report (which reads them, `RunDirectory`) learn it.
/// Pure path logic; nothing here touches a file.
///
/// ```
/// run.json                                        RunRecord: resolved spec, seed, order
/// metadata/<host>.json                            raw host metadata, once per run
/// metadata/cpu-cost.json                          crypto floor, whether the gateways share a machine
/// metadata/topology.json, metadata/preflight.json
/// commands/<host>.log                             every command run on the host
/// points/<series>/<point>/rep-<k>/result.json     RepetitionResult
///                                  .../client-<i>.json, server-<i>.json, cpu-<host>.txt   raw
/// summary.json, summary.csv, ratios.json, ratios.csv, repetitions.csv
/// ```
public enum RunLayout {
    public static let record = "run.json"
    public static let metadata = "metadata"
    public static let cpuCost = "metadata/cpu-cost.json"
    public static let topology = "metadata/topology.json"
    public static let preflight = "metadata/preflight.json"
    public static let summaryJSON = "summary.json"
    public static let summaryCSV = "summary.csv"
    public static let ratiosJSON = "ratios.json"
    public static let ratiosCSV = "ratios.csv"
    public static let repetitionsCSV = "repetitions.csv"
    /// A repetition's result file, by name within its folder.
    public static let resultName = "result.json"

    /// One host's raw metadata (`metadata/gw1.json`).
    public static func metadata(_ host: HostRole) -> String { "\(metadata)/\(host.rawValue).json" }

    /// The folder of one repetition: its result and its raw files.
    public static func repetition(_ key: RunKey) -> String { key.directory }

    /// A repetition's result.
    public static func result(_ key: RunKey) -> String { "\(key.directory)/\(resultName)" }

    /// The CPU sampler's raw output for one host in one repetition.
    public static func cpuSamples(_ key: RunKey, host: String) -> String { "\(key.directory)/cpu-\(host).txt" }

    /// Every command run on one host.
    public static func commandLog(_ host: String) -> String { "commands/\(host).log" }
}
