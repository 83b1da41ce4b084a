import Foundation
import WGBenchCore

/// Feeds `script` to a real /bin/sh on its standard input, as the remote shell reads its lines,
/// and returns what it wrote to stdout and stderr (both drained at once, so neither pipe stalls it).
func runShell(_ script: String) throws -> ([UInt8], [UInt8]) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    let input = Pipe(), out = Pipe(), err = Pipe()
    process.standardInput = input
    process.standardOutput = out
    process.standardError = err
    try process.run()
    input.fileHandleForWriting.write(Data(script.utf8))
    try input.fileHandleForWriting.close()
    let errData = Drained()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { errData.data = err.fileHandleForReading.readDataToEndOfFile() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return (Array(outData), Array(errData.data))
}

private final class Drained: @unchecked Sendable { var data = Data() }
