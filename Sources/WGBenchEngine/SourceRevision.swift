import Foundation
import WGBenchCore

/// The revision of wgbench a run was made with: `WGBENCH_COMMIT` when set (a CI job knows it),
/// else `git rev-parse --short HEAD` in the working directory, else nothing.
enum SourceRevision {
    static func current() -> String? {
        if let commit = ProcessInfo.processInfo.environment["WGBENCH_COMMIT"], !commit.isEmpty { return commit }
        guard let result = try? LocalCommandRunner().run(Command("git", "rev-parse", "--short", "HEAD")), result.succeeded else { return nil }
        let commit = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return commit.isEmpty ? nil : commit
    }
}
