import ArgumentParser
import Foundation
import WGBenchEngine

// Exit statuses mean something (see ExitStatus): ArgumentParser's own usage errors become 2,
// like every other input wgbench refuses, and errors map to their status.
do {
    var command = try WGBench.parseAsRoot()
    try command.run()
} catch {
    let code = WGBench.exitCode(for: error)
    if code == .success || error is ExitCode { WGBench.exit(withError: error) }
    FileHandle.standardError.write(Data((WGBench.fullMessage(for: error) + "\n").utf8))
    exit(code == .validationFailure ? ExitStatus.badInput.rawValue : ExitStatus.of(error).rawValue)
}
