import ArgumentParser
import Foundation
import WGBenchCore
import WGBenchEngine
import WGBenchRemote

struct TestbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "testbed",
        abstract: "Create, inspect and remove testbeds.",
        subcommands: [Up.self, Down.self, Check.self]
    )

    struct Up: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a local testbed (namespaces, links, sshd) on this machine.")
        @OptionGroup var options: TestbedOptions

        func run() throws {
            let local = try LocalTestbed(testbed: loadLocal(options.testbed), log: say)
            let guardian = SignalCleanup { _ = local.down() }
            defer { guardian.cancel() }
            try local.up()
            print("testbed \(local.testbed.name) is up: \(HostRole.allCases.map { "\($0) \(local.testbed.host($0).ssh.address)" }.joined(separator: ", "))")
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove everything `up` made, and every run folder and lease on its hosts. Safe to run twice.",
            discussion: "Refused (exit 4) while a run holds the testbed's lease; exit 3 if something could not be removed.")
        @OptionGroup var options: TestbedOptions
        @Flag(help: "Take over a stale lease (one its holder stopped renewing) after reporting it.") var force = false

        func run() throws {
            let local = try LocalTestbed(testbed: loadLocal(options.testbed), log: say)
            let residue = try local.takeDown(force: force)
            guard residue.isEmpty else {
                say("could not remove: \(residue.joined(separator: ", "))")
                throw ExitCode(ExitStatus.residue.rawValue)
            }
            print("testbed \(local.testbed.name) is down; nothing of it is left")
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Connect to every host over SSH and report what it has and lacks.")
        @OptionGroup var options: TestbedOptions
        @Flag(help: "Print JSON instead of text.") var json = false

        func run() throws {
            let testbed = try TestbedLoader.load(path: options.testbed)
            let reports = try onEachHostOrThrow(testbed.orderedHosts) { spec in
                let host = SSHHost(SSHEndpoint(testbed: testbed, role: spec.role))
                defer { host.disconnect() }
                return try HostInspector.inspect(host, spec: spec)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(reports), as: UTF8.self))
            } else {
                print(CheckReportRenderer.text(reports), terminator: "")
            }
            if reports.contains(where: { $0.missing.contains { !$0.limitation } }) { throw ExitCode(2) }
        }
    }
}

func loadLocal(_ path: String) throws -> Testbed {
    let testbed = try TestbedLoader.load(path: path)
    guard testbed.local != nil else {
        throw BadInput("\(path) describes real machines (no 'local' section): wgbench creates only local testbeds")
    }
    return testbed
}

@Sendable func say(_ line: String) {
    FileHandle.standardError.write(Data("wgbench: \(line)\n".utf8))
}
