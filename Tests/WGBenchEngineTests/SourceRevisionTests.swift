import Testing
import WGBenchCore
@testable import WGBenchEngine

/// The revision a run records: the commit, marked when the working tree was not that commit.
struct SourceRevisionTests {
    /// Answers the two git commands from a table, and fails any other.
    struct FakeGit: LocalRunning {
        var head: CommandResult?
        var changes: CommandResult?

        func run(_ command: Command) throws -> CommandResult {
            let answer = command == SourceRevision.head ? head : command == SourceRevision.changes ? changes : nil
            guard let answer else { throw LocalCommandError(command: command.description, status: 127, stderrTail: "not faked") }
            return answer
        }
    }

    static func ok(_ stdout: String) -> CommandResult { CommandResult(status: 0, stdout: stdout, stderr: "") }
    static let notARepository = CommandResult(status: 128, stdout: "", stderr: "fatal: not a git repository")

    @Test func cleanTreeIsTheCommit() {
        #expect(SourceRevision.current(environment: [:], runner: FakeGit(head: Self.ok("abc1234\n"), changes: Self.ok(""))) == "abc1234")
    }

    @Test func changedTrackedFilesMarkItDirty() {
        let git = FakeGit(head: Self.ok("abc1234\n"), changes: Self.ok(" M Sources/wgbench/main.swift\n"))
        #expect(SourceRevision.current(environment: [:], runner: git) == "abc1234-dirty")
    }

    @Test func unknownStateIsSaid() {
        #expect(SourceRevision.current(environment: [:], runner: FakeGit(head: Self.ok("abc1234\n"), changes: Self.notARepository))
                == "abc1234-unverified")
        #expect(SourceRevision.current(environment: [:], runner: FakeGit(head: Self.ok("abc1234\n"), changes: nil)) == "abc1234-unverified")
    }

    @Test func noRepositoryIsNoRevision() {
        #expect(SourceRevision.current(environment: [:], runner: FakeGit(head: Self.notARepository, changes: Self.notARepository)) == nil)
        #expect(SourceRevision.current(environment: [:], runner: FakeGit(head: nil, changes: nil)) == nil)
    }

    @Test func theEnvironmentWins() {
        let git = FakeGit(head: Self.ok("abc1234\n"), changes: Self.ok(" M x\n"))
        #expect(SourceRevision.current(environment: ["WGBENCH_COMMIT": "ci-42"], runner: git) == "ci-42")
        #expect(SourceRevision.current(environment: ["WGBENCH_COMMIT": ""], runner: git) == "abc1234-dirty")
    }
}
