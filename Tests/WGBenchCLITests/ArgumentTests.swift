import ArgumentParser
import Testing
import WGBenchCore
@testable import WGBenchCLI

/// Each command parsed as `wgbench` parses its command line: typed arguments refuse bad values
/// before any command runs, and such a refusal exits 2.
struct ArgumentTests {
    static func parse(_ arguments: [String]) throws -> any ParsableCommand { try WGBench.parseAsRoot(arguments) }

    /// The status a refused command line exits with.
    static func refusal(_ arguments: [String]) -> Int32? {
        do {
            _ = try parse(arguments)
            return nil
        } catch {
            return WGBench.exitStatus(for: error)
        }
    }

    @Test(arguments: [("5%", 5.0), ("2.5", 2.5), ("0", 0.0), ("12.5%", 12.5)])
    func thresholdsAreParsedOnce(_ text: String, _ value: Double) throws {
        let compare = try #require(try Self.parse(["compare", "a", "b", "--threshold", text]) as? CompareCommand)
        #expect(compare.threshold.value == value)
        let history = try #require(try Self.parse(["history", "runs", "--threshold", text]) as? HistoryCommand)
        #expect(history.threshold.value == value)
    }

    @Test(arguments: ["-1", "5%%", "five", "%", "", "nan", "inf"])
    func badThresholdsAreRefusedAsBadInput(_ text: String) {
        #expect(Percentage(argument: text) == nil)
        #expect(Self.refusal(["compare", "a", "b", "--threshold=\(text)"]) == 2)
        #expect(Self.refusal(["history", "runs", "--threshold=\(text)"]) == 2)
    }

    @Test func thresholdsDefaultToFivePercentAndPrintAsWritten() throws {
        let compare = try #require(try Self.parse(["compare", "a", "b"]) as? CompareCommand)
        #expect(compare.threshold == Percentage(5) && compare.threshold.description == "5%")
        #expect(Percentage(argument: "2.5")?.description == "2.5%")
    }

    @Test func hostListsAreRoles() throws {
        let ssh = try #require(try Self.parse(["bench", "ssh", "--hosts", "gw2,source"]) as? BenchCommand.SSH)
        #expect(ssh.hosts.roles == [.gw2, .source])
        let all = try #require(try Self.parse(["bench", "ssh"]) as? BenchCommand.SSH)
        #expect(all.hosts.roles == HostRole.allCases)
    }

    @Test(arguments: ["gw3", "gw1,,gw2", "gw1,gw1", "", "GW1", "gw1 ,gw2"])
    func badHostListsAreRefused(_ text: String) {
        #expect(HostRoleList(argument: text) == nil)
        #expect(Self.refusal(["bench", "ssh", "--hosts", text]) == 2)
    }

    /// One option group: the same flag, default and help wherever a testbed is taken.
    @Test func everyTestbedCommandTakesTheSameOption() throws {
        let commands: [[String]] = [["run", "e.yaml"], ["plan", "e.yaml"], ["testbed", "up"], ["testbed", "down"], ["testbed", "check"],
                                    ["bench", "ssh"]]
        for command in commands {
            let defaulted = try Self.parse(command), named = try Self.parse(command + ["--testbed", "testbeds/lab.yaml"])
            #expect(Self.testbed(of: defaulted) == "testbeds/local.yaml", "\(command)")
            #expect(Self.testbed(of: named) == "testbeds/lab.yaml", "\(command)")
        }
    }

    static func testbed(of command: any ParsableCommand) -> String? {
        switch command {
        case let run as RunCommand: return run.options.testbed
        case let plan as PlanCommand: return plan.options.testbed
        case let up as TestbedCommand.Up: return up.options.testbed
        case let down as TestbedCommand.Down: return down.options.testbed
        case let check as TestbedCommand.Check: return check.options.testbed
        case let ssh as BenchCommand.SSH: return ssh.options.testbed
        default: return nil
        }
    }

    @Test func discoverKeepsPathsAsWrittenAndExpandsThemForSSH() throws {
        let address = ["--source", "a", "--gw1", "b", "--gw2", "c", "--drain", "d"]
        let discover = try #require(try Self.parse(["testbed", "discover"] + address + ["--identity", "~/keys/lab"]) as? TestbedCommand.Discover)
        #expect(discover.identity.written == "~/keys/lab" && discover.identity.expanded(home: "/home/x") == "/home/x/keys/lab")
        #expect(discover.knownHosts.expanded(home: "/root") == "/root/.ssh/known_hosts")
        #expect(UserPath("/etc/key").expanded(home: "/root") == "/etc/key" && UserPath("~bob/k").expanded(home: "/root") == "~bob/k")
        #expect(Self.refusal(["testbed", "discover"] + address + ["--identity", ""]) == 2)
        #expect(Self.refusal(["testbed", "discover"] + address + ["--port", "70000"]) == 2)
    }

    @Test func runTakesAnExperimentOrAResumeDirectory() throws {
        #expect(Self.refusal(["run"]) == 2)
        #expect(Self.refusal(["run", "e.yaml", "--resume", "results/x"]) == 2)
        #expect(Self.refusal(["run", "e.yaml", "--keep-failed"]) == 2)
        #expect(Self.refusal(["run", "--resume", "results/x", "--keep-failed"]) == nil)
        #expect(Self.refusal(["plan", "e.yaml", "--cpus", "0"]) == 2)
        #expect(Self.refusal(["frobnicate"]) == 2)
        #expect(Self.refusal(["run", "e.yaml", "--no-such-flag"]) == 2)
    }
}
