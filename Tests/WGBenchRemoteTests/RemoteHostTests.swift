import Foundation
import Testing
import WGBenchCore
@testable import WGBenchRemote

struct RemoteHostTests {
    @Test func checkThrowsWithHostCommandStatusAndStderr() {
        let host = FakeHost(name: "gw1", address: "198.18.250.12") { _ in
            CommandResult(status: 3, stdout: "", stderr: "line1\nRTNETLINK answers: File exists\n")
        }
        #expect {
            try host.check("ip", "link", "add", "x y")
        } throws: { error in
            guard case let .commandFailed(name, address, command, status, tail) = error as? RemoteError else { return false }
            let text = (error as! RemoteError).description
            return name == "gw1" && address == "198.18.250.12" && command == "ip link add 'x y'" && status == 3
                && tail.hasSuffix("File exists") && text.contains("gw1 (198.18.250.12)")
        }
    }

    /// Eight bodies that each block until all eight have started can only finish if they run at
    /// once, more of them than this machine has cores.
    @Test func onEachHostKeepsOrderAndRunsAllAtOnce() {
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let count = 8
        Thread {
            for _ in 0..<count where started.wait(timeout: .now() + 5) == .timedOut { return }
            for _ in 0..<count { release.signal() }
        }.start()
        let results = onEachHost(Array(0..<count)) { index -> Int in
            started.signal()
            guard release.wait(timeout: .now() + 10) == .success else { throw CancellationError() }
            return index * 10
        }
        #expect(results.map { try? $0.get() } == (0..<count).map { $0 * 10 })
    }

    @Test func onEachHostOrThrowReportsTheFirstFailureInOrder() {
        struct Boom: Error, Equatable { let index: Int }
        #expect(throws: Boom(index: 1)) {
            _ = try onEachHostOrThrow([0, 1, 2, 3]) { index -> Int in
                if index == 1 || index == 3 { throw Boom(index: index) }
                return index
            }
        }
    }

    @Test func knownHostsLineReadsTheKeyTypeFromTheBlob() {
        let blob: [UInt8] = [0, 0, 0, 11] + Array("ssh-ed25519".utf8) + [0, 0, 0, 2, 0xAB, 0xCD]
        let line = KnownHostsLine.format(host: "198.18.250.11", port: 22, keyBlob: blob)
        #expect(line == "198.18.250.11 ssh-ed25519 \(Data(blob).base64EncodedString())\n")
        #expect(KnownHostsLine.format(host: "h", port: 2222, keyBlob: blob)?.hasPrefix("[h]:2222 ssh-ed25519 ") == true)
        #expect(KnownHostsLine.format(host: "h", port: 22, keyBlob: [0, 0, 0, 99, 1]) == nil)
    }

    /// The framing against a real /bin/sh: what the remote shell sees, minus SSH.
    @Test func framedLinesRunInARealShellWithoutInterpretingArguments() throws {
        let marker = "/tmp/wgb-framing-\(getpid())"
        let nonce = ShellFraming.newNonce()
        let commands = [
            Command("printf", "%s|", "$(touch \(marker))", "`touch \(marker)`", "a;b", "it's", "*"),
            Command(["sh", "-c", "echo out; echo err >&2; exit 7"]),
            Command(["cat"], stdin: [0, 1, 2, 255, 10] + Array("key".utf8)),
            Command("sleep", "5", timeout: SpecDuration(milliseconds: 1000)),
        ]
        var script = ""
        var nonces: [String] = []
        for command in commands {
            let nonce = nonce + String(nonces.count)
            nonces.append(nonce)
            script += ShellFraming.line(for: command, defaultTimeout: SpecDuration(milliseconds: 10_000), nonce: nonce)
        }
        let (out, err) = try runShell(script)
        var results: [CommandResult] = []
        for nonce in nonces {
            // Feed each command's share: everything up to and including its markers.
            var parser = ShellFrameParser(nonce: nonce)
            parser.feedStdout(out)
            parser.feedStderr(err)
            results.append(try #require(parser.result))
        }
        #expect(results[0].stdout.hasSuffix("$(touch \(marker))|`touch \(marker)`|a;b|it's|*|"))
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(results[1].status == 7)
        #expect(results[1].stdout.hasSuffix("out\n"))
        #expect(results[1].stderr.hasSuffix("err\n"))
        #expect(Array(results[2].stdout.utf8).suffix(3) == Array("key".utf8))
        #expect(results[3].status == ShellFraming.timeoutStatus)
    }
}
