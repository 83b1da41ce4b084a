import Foundation
import Testing
import WGBenchCore
import WGBenchRemote

/// The renderer's scripts and argument vectors run in a real /bin/sh, framed as the remote shell
/// gets them: data with spaces, quotes and shell syntax arrive verbatim and run nothing.
struct ShellRendererTests {
    /// A RemoteHost that is this machine's /bin/sh, one framed line per command, as over SSH.
    final class LocalShell: RemoteHost, @unchecked Sendable {
        let name = "local-sh"
        let address = "/bin/sh"

        func run(_ command: Command) throws -> CommandResult {
            let nonce = ShellFraming.newNonce()
            let (outBytes, errBytes) = try runShell(ShellFraming.line(for: command, defaultTimeout: SpecDuration(milliseconds: 10_000), nonce: nonce))
            var parser = ShellFrameParser(nonce: nonce)
            parser.feedStdout(outBytes)
            parser.feedStderr(errBytes)
            return try #require(parser.result)
        }
    }

    let host = LocalShell()
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-render-\(getpid()) it's \"$(touch x)\"").path

    @Test func folderAndUploadOperationsTakeHostilePathsVerbatim() throws {
        defer { try? FileManager.default.removeItem(atPath: base) }
        let marker = base + "-injected"
        let folder = base + "/a `touch \(marker)`; *"
        try host.check(.freshFolder(folder))
        #expect(FileManager.default.fileExists(atPath: folder))
        let part = folder + "/tool.part", tool = folder + "/tool"
        try host.check(.createEmptyFile(part))
        let bytes: [UInt8] = [0, 1, 2, 255, 10] + Array("$(rm -rf /)".utf8)
        try host.check(.appendToFile(part, bytes: bytes))
        try host.check(.appendToFile(part, bytes: bytes))
        let sum = try host.check(.read(.sha256(part))).split(separator: " ").first.map(String.init)
        #expect(sum?.count == 64)
        try host.check(.installExecutable(from: part, to: tool))
        #expect(FileManager.default.contents(atPath: tool).map([UInt8].init) == bytes + bytes)
        #expect(FileManager.default.isExecutableFile(atPath: tool))
        let log = folder + "/daemon.log"
        FileManager.default.createFile(atPath: log, contents: Data("one\ntwo\nthree\n".utf8))
        #expect(try host.check(.read(.logTail(path: log, lines: 2))) == "two\nthree\n")
        #expect(try host.check(.read(.logTail(path: folder + "/none", lines: 2))) == "")
        try host.check(.removeTree(folder))
        #expect(!FileManager.default.fileExists(atPath: folder))
        #expect(!FileManager.default.fileExists(atPath: marker), "no argument ran as shell syntax")
    }

    @Test func theSamplerTakesItsCountAndIntervalAsArguments() throws {
        let output = try host.check(.sampleCPU(CPUSampling(samples: 2, intervalMilliseconds: 100, timeoutMilliseconds: 5000)))
        let samples = ProcStatParser.samples(output)
        #expect(samples.count == 2 && samples[1].uptime > samples[0].uptime)
        #expect(output.contains("@times"))
    }

    @Test func theDropsScriptListsOnlyInterfacesWithAStatsFile() throws {
        // No stats file of these names exists here: nothing is printed, and the script succeeds.
        #expect(try host.check(.read(.daemonDrops(interfaces: ["wgb-none-\(getpid())", "a b"], settle: false))) == "")
    }

    @Test func aKillOfServersWithoutPIDFilesDoesNothingAndSucceeds() throws {
        try host.check(.killIperfServers(pidFiles: [base + "/no.pid", "$(touch \(base)-k)"]))
        #expect(!FileManager.default.fileExists(atPath: base + "-k"))
    }

    /// pin and its read-back against real taskset: a process named like a wireguard-go build, whose
    /// last argument (its "interface") is a sleep's duration.
    @Test func aPinnedDaemonsThreadsReadBackOnTheirCPU() throws {
        // (A path without spaces: the pattern's program is one word, as the daemons' are.)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-pin-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let program = folder + "/wireguard-go-rendertest"
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: program)
        let interface = "2.\(getpid() % 900 + 100)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = [interface]
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        usleep(200_000)
        try host.check(.pinDaemon(target: .wireguardGo, interface: interface, cpus: [0]))
        #expect(try host.read(.daemonAffinity(.wireguardGo, interface: interface)) == [[0]])
        #expect(throws: RemoteError.self) { try host.read(.daemonAffinity(.wireguardGo, interface: interface + "9")) }
    }
}
