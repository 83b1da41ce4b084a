/// The lease file on a host, `/run/wgbench/lease-<net>`, and the one script that reads and changes
/// it. `<net>` is the inode of the host's network namespace: real hosts have their own /run, but the
/// local testbed's four namespaces share this machine's, and each must hold a lease of its own.
/// Every operation runs under `flock` on a lock file beside the lease, so two controllers that
/// arrive at once cannot both win; the lease itself is written to a new file and renamed.
///
/// Output, first line: `free <now>` or `held <now>` / `lost <now>` followed by the lease line found.
public enum LeaseCommands {
    public enum Operation: String, Sendable {
        /// Take a free lease (exit 0), or show who holds it (exit 10).
        case acquire
        /// Replace the lease that has `expected` as its token (`*`: whatever is there, for a damaged
        /// file), or show the one there now (exit 10).
        case takeOver = "takeover"
        /// Rewrite our lease with a new time (exit 0), or show that it is no longer ours (exit 11).
        case renew
        /// Remove our lease; another's is left alone. Exit 0.
        case release
        /// Show the lease, if any. Exit 0.
        case show
    }

    public static let heldStatus: Int32 = 10
    public static let lostStatus: Int32 = 11
    /// The lock stayed taken for 10 s: another controller is in the middle of an operation.
    public static let lockBusyStatus: Int32 = 75

    /// `operation` as `holder`; `expected` is the token of the lease a takeover replaces.
    public static func command(_ operation: Operation, holder: LeaseHolder, expected: String = "-") -> HostOperation {
        .lease(LeaseRequest(operation: operation, token: holder.token, line: holder.line, expected: expected))
    }

    /// What a lease operation printed: the host's clock and the lease it found, if any.
    public struct Output: Equatable, Sendable {
        public var hostNow: Int
        public var found: LeaseRecord?
        /// A lease file whose line is not one wgbench writes.
        public var damaged: String?
    }

    public static func parse(_ stdout: String) -> Output? {
        let lines = stdout.split(separator: "\n", omittingEmptySubsequences: true)
        guard let first = lines.first else { return nil }
        let words = first.split(separator: " ")
        guard words.count == 2, ["free", "held", "lost"].contains(words[0]), let now = Int(words[1]) else { return nil }
        guard lines.count > 1 else { return Output(hostNow: now, found: nil, damaged: nil) }
        let line = String(lines[1])
        guard let record = LeaseRecord.parse(line) else { return Output(hostNow: now, found: nil, damaged: String(line.prefix(200))) }
        return Output(hostNow: now, found: record, damaged: nil)
    }
}
