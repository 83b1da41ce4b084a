import WGBenchCore
import WGBenchRemote

/// What wgbench's exit status says, so a script or CI can tell a broken run from a good one.
/// Where several apply, the first in this order wins: busy (4), bad input (2), residue (3),
/// failed (1). A signal ends a run with 128 + its number (130 for SIGINT, 143 for SIGTERM).
public enum ExitStatus: Int32, Sendable {
    /// Every repetition measured (or unsupported by the testbed, which the summary says).
    case ok = 0
    /// Some repetitions failed or were not measured: the summary names them; the run stopped
    /// early (a host lost, a local write failure) or could not start (a host unreachable).
    case failed = 1
    /// The input was refused before any host was touched: a testbed or experiment file, a run
    /// directory to resume, the command line.
    case badInput = 2
    /// Something of the run is still on a host after its teardown (`testbed down`: on this machine).
    case residue = 3
    /// The testbed is leased to another run (or `testbed up`/`down`), or holds a stale lease.
    case busy = 4

    public static let interruptedBySIGINT: Int32 = 130
    public static let interruptedBySIGTERM: Int32 = 143

    /// The status of a run that returned a report.
    public static func of(_ report: ExperimentRunner.Report) -> ExitStatus {
        if case .leaseLost = report.stop { return .busy }
        if !report.residue.isEmpty { return .residue }
        if report.stop != nil || report.failed > 0 { return .failed }
        return .ok
    }

    /// The status of a command that ended with `error`.
    public static func of(_ error: Error) -> ExitStatus {
        switch error {
        case let lease as LeaseError:
            if case .failed = lease { return .failed }
            return .busy
        case is LocalLock.Busy:
            return .busy
        case is SpecError, is RunRecordError, is DecodingError, is BadInput:
            return .badInput
        case let stop as RunStop:
            if case .leaseLost = stop { return .busy }
            return .failed
        default:
            return .failed
        }
    }
}

/// Input refused for a reason no file location carries (a result directory without run.json, a
/// run resumed on another testbed).
public struct BadInput: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) { self.description = description }
}
