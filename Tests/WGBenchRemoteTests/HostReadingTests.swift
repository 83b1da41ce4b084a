import Testing
import WGBenchCore
import WGBenchRemote

/// Readings are typed: the engine gets a value or an error naming host and command, never text.
struct HostReadingTests {
    static func host(_ answer: @escaping @Sendable (Command) -> CommandResult) -> FakeHost {
        FakeHost(name: "gw1", address: "198.18.250.12") { answer($0) }
    }

    @Test func aTopologyReadsAsOneAndAnAnswerThatIsNoneIsAnErrorNamingTheHost() throws {
        let good = Self.host { _ in CommandResult(status: 0, stdout: "0-3\n/sys/devices/system/node/node0/cpulist:0-3\n@nic eth1 0 4\n", stderr: "") }
        let topology = try good.read(.topology(nics: ["eth1"]))
        #expect(topology.onlineCPUs == [0, 1, 2, 3] && topology.nics["eth1"]?.rxQueues == 4)
        #expect(good.commands.first?.argv.prefix(2) == ["sh", "-c"], "the renderer's script")
        let garbled = Self.host { _ in CommandResult(status: 0, stdout: "no cpus here\n", stderr: "") }
        #expect { try garbled.read(.topology(nics: ["eth1"])) } throws: { error in
            guard case .unreadableAnswer(let host, let address, _, let output) = error as? RemoteError else { return false }
            return host == "gw1" && address == "198.18.250.12" && output.contains("no cpus here")
        }
        let failing = Self.host { _ in CommandResult(status: 2, stdout: "", stderr: "cat: permission denied") }
        #expect { try failing.read(.topology(nics: ["eth1"])) } throws: { error in
            guard case .commandFailed(_, _, _, let status, let stderr) = error as? RemoteError else { return false }
            return status == 2 && stderr.contains("permission denied")
        }
    }

    @Test func aKnobFileThatIsNotThereReadsAsAbsentNotAsAnError() throws {
        let absent = Self.host { _ in CommandResult(status: 1, stdout: "", stderr: "No such file or directory") }
        #expect(try absent.read(.knob(interface: "wgb1-1", file: "inline_en")) == nil)
        let present = Self.host { _ in CommandResult(status: 0, stdout: "1\n", stderr: "") }
        #expect(try present.read(.knob(interface: "wgb1-1", file: "inline_en")) == "1")
        #expect(present.commands.first?.argv == ["cat", "/sys/class/net/wgb1-1/inline_en"])
    }

    @Test func anIRQAffinityThatIsNoCPUListIsUnreadable() throws {
        let host = Self.host { _ in CommandResult(status: 0, stdout: "zero\n", stderr: "") }
        #expect(throws: RemoteError.self) { try host.read(.irqAffinity(irq: 200)) }
        let ok = Self.host { _ in CommandResult(status: 0, stdout: "0-7\n", stderr: "") }
        #expect(try ok.read(.irqAffinity(irq: 200)) == "0-7")
    }
}
