import ArgumentParser
import Foundation
import WGBenchEngine

/// `wgbench`: the root command. The executable only calls `runAsMain`.
public struct WGBench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "wgbench",
        abstract: "Measure WireGuard tunnels on a 4-host testbed (source, gw1, gw2, drain).",
        subcommands: [RunCommand.self, PlanCommand.self, ReportCommand.self, CompareCommand.self, HistoryCommand.self, TestbedCommand.self,
                      BenchCommand.self]
    )

    public init() {}

    /// Parses the process's arguments, runs the command and exits with the status its outcome
    /// means (`exitStatus(for:)`).
    public static func runAsMain(_ arguments: [String]? = nil) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Foundation.exit(0)
        } catch {
            // Help, --version and a command's own ExitCode print (or not) as ArgumentParser does.
            if error is ExitCode || exitCode(for: error) == .success { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(exitStatus(for: error))
        }
    }

    /// What an error ending a command exits with. Exit statuses mean something (see ExitStatus):
    /// ArgumentParser's own usage errors become 2, like every other input wgbench refuses; a
    /// command's `ExitCode` is its own; help is 0; other errors map as `ExitStatus.of` says.
    public static func exitStatus(for error: any Error) -> Int32 {
        let code = exitCode(for: error)
        if error is ExitCode || code == .success { return code.rawValue }
        return code == .validationFailure ? ExitStatus.badInput.rawValue : ExitStatus.of(error).rawValue
    }
}
