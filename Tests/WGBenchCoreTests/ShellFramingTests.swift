import Foundation
import Testing
@testable import WGBenchCore

struct ShellFramingTests {
    @Test(arguments: [
        ("eth0", "eth0"),
        ("198.18.1.0/24", "198.18.1.0/24"),
        ("", "''"),
        ("a b", "'a b'"),
        ("it's", "'it'\\''s'"),
        ("$(id)", "'$(id)'"),
        ("`id`", "'`id`'"),
        ("a;b", "'a;b'"),
        ("*", "'*'"),
        ("~", "'~'"),
        ("line\nbreak", "'line\nbreak'"),
    ])
    func quoting(_ argument: String, _ quoted: String) {
        #expect(ShellQuoting.quote(argument) == quoted)
    }

    @Test func lineWrapsInTimeoutAndEndsWithBothMarkers() {
        let line = ShellFraming.line(for: Command("ip", "link", "show", "dev", "a b"),
                                     defaultTimeout: SpecDuration(milliseconds: 1500), nonce: "n1")
        #expect(line.hasPrefix("timeout -k 2 2 ip link show dev 'a b' </dev/null; "))
        #expect(line.contains("'__WGB_END_n1' \"$?\""))
        #expect(line.hasSuffix(">&2\n"))
    }

    @Test func stdinTravelsAsBase64NotArgv() {
        let line = ShellFraming.line(for: Command(["cat"], stdin: Array("secret key".utf8)),
                                     defaultTimeout: SpecDuration(milliseconds: 1000), nonce: "n")
        #expect(!line.contains("secret"))
        #expect(line.hasPrefix("printf '%s' '\(Data("secret key".utf8).base64EncodedString())' | base64 -d | timeout"))
        #expect(!line.contains("</dev/null"))
    }

    @Test func parserReturnsOutputByteForByte() {
        var parser = ShellFrameParser(nonce: "abc")
        parser.feedStdout(Array("hello\n\n__WGB_END_abc 0\n".utf8))
        #expect(parser.result == nil)  // stderr marker still missing
        parser.feedStderr(Array("warn\n__WGB_END_abc\n".utf8))
        #expect(parser.result == CommandResult(status: 0, stdout: "hello\n", stderr: "warn"))
    }

    @Test func parserHandlesOutputWithoutTrailingNewlineAndChunking() {
        var parser = ShellFrameParser(nonce: "abc")
        let out = Array("no newline\n__WGB_END_abc 17\n".utf8)
        for byte in out { parser.feedStdout([byte]) }
        for byte in "\n__WGB_END_abc\n".utf8 { parser.feedStderr([byte]) }
        #expect(parser.result == CommandResult(status: 17, stdout: "no newline", stderr: ""))
    }

    @Test func markerWithAnotherNonceIsOutput() {
        var parser = ShellFrameParser(nonce: "real")
        parser.feedStdout(Array("\n__WGB_END_fake 0\n".utf8))
        parser.feedStderr(Array("\n__WGB_END_real\n".utf8))
        #expect(parser.result == nil)
        parser.feedStdout(Array("\n__WGB_END_real 3\n".utf8))
        #expect(parser.result?.stdout == "\n__WGB_END_fake 0\n")
        #expect(parser.result?.status == 3)
    }

    @Test func noncesDiffer() {
        #expect(ShellFraming.newNonce() != ShellFraming.newNonce())
        #expect(ShellFraming.newNonce().count == 16)
    }

    @Test func commandDescriptionQuotes() {
        #expect(Command("echo", "a b", "$x").description == "echo 'a b' '$x'")
    }
}
