import Foundation
import WGBenchCore

/// The revision of wgbench a run was made with: `WGBENCH_COMMIT` when set (a CI job knows it),
/// else `git rev-parse --short HEAD` in the working directory, with `-dirty` appended when tracked
/// files differ from it (as `git describe --dirty` marks it: untracked files do not count), and
/// `-unverified` when git could not tell; else nothing. A dirty run is not the commit it names.
enum SourceRevision {
    static let head = Command("git", "rev-parse", "--short", "HEAD")
    /// Refreshes the index like `git describe --dirty`, and prints a line per changed tracked file.
    static let changes = Command("git", "status", "--porcelain", "--untracked-files=no")

    static func current(environment: [String: String] = ProcessInfo.processInfo.environment,
                        runner: any LocalRunning = LocalCommandRunner()) -> String? {
        if let commit = environment["WGBENCH_COMMIT"], !commit.isEmpty { return commit }
        return revision(head: try? runner.run(head), changes: try? runner.run(changes))
    }

    /// The decision, from what the two git commands printed (nil: it could not run).
    static func revision(head: CommandResult?, changes: CommandResult?) -> String? {
        guard let head, head.succeeded else { return nil }
        let commit = head.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !commit.isEmpty else { return nil }
        guard let changes, changes.succeeded else { return commit + "-unverified" }
        return changes.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? commit : commit + "-dirty"
    }
}
