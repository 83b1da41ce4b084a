import ArgumentParser
import Foundation
import WGBenchCore
import WGBenchEngine
import WGBenchRemote

struct TestbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "testbed",
        abstract: "Create, inspect and remove testbeds.",
        subcommands: [Up.self, Down.self, Check.self, Discover.self]
    )

    struct Up: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a local testbed (namespaces, links, sshd) on this machine.")
        @OptionGroup var options: TestbedOptions

        func run() throws {
            let local = try LocalTestbed(testbed: options.loadLocal(), log: say)
            let guardian = SignalCleanup { _ = local.down() }
            defer { guardian.cancel() }
            try local.up()
            print("testbed \(local.testbed.name) is up: \(HostRole.allCases.map { "\($0) \(local.testbed.host($0).ssh.address)" }.joined(separator: ", "))")
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove everything `up` made, and every run folder and lease on its hosts. Safe to run twice.",
            discussion: "Refused (exit 4) while a run holds the testbed's lease; exit 3 if something could not be removed, or not verified as gone.")
        @OptionGroup var options: TestbedOptions
        @Flag(help: "Take over a stale lease (one its holder stopped renewing) after reporting it.") var force = false

        func run() throws {
            let local = try LocalTestbed(testbed: options.loadLocal(), log: say)
            let residue = try local.takeDown(force: force)
            let status = Self.status(residue: residue)
            guard status == .ok else {
                say("not clean: \(residue.joined(separator: ", "))")
                throw ExitCode(status.rawValue)
            }
            print("testbed \(local.testbed.name) is down; nothing of it is left")
        }

        /// Anything left of the testbed is residue (3).
        static func status(residue: [String]) -> ExitStatus {
            residue.isEmpty ? .ok : .residue
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Connect to every host over SSH and report what it has and lacks.")
        @OptionGroup var options: TestbedOptions
        @Flag(help: "Print JSON instead of text.") var json = false

        func run() throws {
            let testbed = try options.load()
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
            let status = Self.status(missing: reports.flatMap(\.missing))
            if status != .ok { throw ExitCode(status.rawValue) }
        }

        /// A host lacking what experiments cannot do without makes the testbed unusable as given (2);
        /// limitations (recorded as unsupported in a run) do not.
        static func status(missing: [MissingItem]) -> ExitStatus {
            missing.contains { !$0.limitation } ? .badInput : .ok
        }
    }
}

extension TestbedCommand {
    struct Discover: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Log in to four hosts, find which interfaces connect which roles, and write a testbed file (then check it).")
        @Option(help: "The source host's SSH address.") var source: String
        @Option(help: "gw1's SSH address.") var gw1: String
        @Option(help: "gw2's SSH address.") var gw2: String
        @Option(help: "The drain host's SSH address.") var drain: String
        @Option(help: "SSH user.") var user = "root"
        @Option(help: "SSH private key.") var identity = UserPath("~/.ssh/id_ed25519")
        @Option(help: "known_hosts file the hosts' keys are pinned in.") var knownHosts = UserPath("~/.ssh/known_hosts")
        @Option(help: "SSH port.") var port: UInt16 = 22
        @Option(help: "The testbed's name.") var name = "lab"
        @Option(help: "Where to write the testbed file (default: print it).") var out: String?

        func run() throws {
            let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
            let (identity, knownHosts, user, port) = (identity, knownHosts, user, port)
            let addresses: [HostRole: String] = [.source: source, .gw1: gw1, .gw2: gw2, .drain: drain]
            let hosts = try onEachHostOrThrow(HostRole.allCases) { role -> (HostRole, RemoteHost) in
                let host = SSHHost(SSHEndpoint(name: role.rawValue, address: addresses[role]!, port: port, user: user, identity: identity.expanded(home: home),
                                               knownHosts: knownHosts.expanded(home: home), hostKeyPolicy: .strict, connectTimeoutMilliseconds: 10_000,
                                               commandTimeout: SpecDuration(milliseconds: 30_000)))
                try host.connect()
                return (role, host)
            }
            let connected = Dictionary(uniqueKeysWithValues: hosts)
            defer { for host in connected.values { (host as? SSHHost)?.disconnect() } }
            let outcome = try TestbedDiscoverer.discover(hosts: connected, sshAddresses: addresses, name: name, user: user,
                                                         identity: identity.written, knownHosts: knownHosts.written)
            guard let out else {
                print(outcome.yaml, terminator: "")
                return
            }
            try Data(outcome.yaml.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
            say("wrote \(out)")
            for link in outcome.links where link.chosen == nil || link.confirmed == false {
                say("\(link.role): \(link.chosen == nil ? (link.note ?? "not found") : "a ping across it did not answer"): see the TODO in \(out)")
            }
            // The file as wgbench reads it, then the hosts checked against it.
            let testbed = try TestbedLoader.load(path: out)
            let reports = try onEachHostOrThrow(testbed.orderedHosts) { spec in try HostInspector.inspect(connected[spec.role]!, spec: spec) }
            print(CheckReportRenderer.text(reports), terminator: "")
        }
    }
}
