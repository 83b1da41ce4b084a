import Foundation
import Glibc
import WGBenchCore
import WGBenchEngine
import WGBenchRemote
import XCTest

/// The local testbed for real: namespaces, veths, one sshd per host, reached over libssh2.
/// Needs root. Uses its own prefix and management network so it never touches a user's
/// `testbeds/local.yaml` testbed.
final class LocalTestbedTests: XCTestCase {
    static let yaml = """
    name: integration
    local: {prefix: wgbit, state_dir: /run/wgbench/integration, management: 198.18.251.1/24}
    ssh: {connect_timeout: 2s, command_timeout: 20s}
    hosts:
      source:
        ssh: {address: 198.18.251.11}
        interfaces: {ingress: {name: eth1, address: 198.18.1.2/24}}
      gw1:
        ssh: {address: 198.18.251.12}
        interfaces: {ingress: {name: eth1, address: 198.18.1.1/24}, underlay: {name: eth2, address: 198.18.2.1/24}}
      gw2:
        ssh: {address: 198.18.251.13}
        interfaces: {underlay: {name: eth2, address: 198.18.2.2/24}, egress: {name: eth1, address: 198.18.3.1/24}}
      drain:
        ssh: {address: 198.18.251.14}
        interfaces: {egress: {name: eth1, address: 198.18.3.2/24}}
    """

    nonisolated(unsafe) static var testbed: Testbed!
    nonisolated(unsafe) static var local: LocalTestbed!
    nonisolated(unsafe) static var upError: Error?

    override class func setUp() {
        super.setUp()
        guard geteuid() == 0 else { return }
        do {
            testbed = try TestbedLoader.parse(yaml: yaml, file: "integration.yaml")
            local = LocalTestbed(testbed: testbed)
            local.down()  // a crashed earlier run may have left it
            try local.up()
        } catch {
            upError = error
        }
    }

    override class func tearDown() {
        if let local {
            let residue = local.down()
            if !residue.isEmpty { fatalError("the local testbed left residue: \(residue)") }
        }
        super.tearDown()
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(geteuid() == 0, "the local testbed needs root (network namespaces)")
        if let error = Self.upError { XCTFail("testbed up failed: \(error)"); throw error }
    }

    var testbed: Testbed { Self.testbed }

    func host(_ role: HostRole) -> SSHHost { SSHHost(SSHEndpoint(testbed: testbed, role: role)) }

    func endpoint(_ role: HostRole, _ change: (inout SSHEndpoint) -> Void = { _ in }) -> SSHEndpoint {
        var endpoint = SSHEndpoint(testbed: testbed, role: role)
        change(&endpoint)
        return endpoint
    }

    // MARK: Commands over SSH

    func testEveryHostRunsCommandsInItsOwnNamespaceConcurrently() throws {
        let testbed = self.testbed
        let outputs = try onEachHostOrThrow(testbed.orderedHosts) { spec in
            let host = SSHHost(SSHEndpoint(testbed: testbed, role: spec.role))
            return try host.check("ip", "-o", "-4", "addr", "show")
        }
        for (spec, output) in zip(testbed.orderedHosts, outputs) {
            XCTAssertTrue(output.contains("\(spec.ssh.address)/24"), "\(spec.role) is not where its SSH address is")
            for interface in spec.interfaces.values {
                XCTAssertTrue(output.contains(interface.address.description), "\(spec.role) lacks \(interface.address)")
            }
        }
    }

    func testSourceReachesDrainThroughBothGateways() throws {
        let drain = testbed.host(.drain).interface(.egress).address.address.description
        let out = try host(.source).check("ping", "-c", "2", "-W", "2", drain)
        // Two routers on the way: the reply's TTL of 64 arrives as 62.
        XCTAssertTrue(out.contains("ttl=62"), out)
        XCTAssertTrue(out.contains("2 received"), out)
    }

    func testArgumentsAreNeverInterpretedByTheRemoteShell() throws {
        let marker = "/tmp/wgb-injected-\(getpid())"
        let hostile = ["$(touch \(marker))", "`touch \(marker)`", "; touch \(marker)", "| touch \(marker)", "'", "\"", "\n", "*"]
        let out = try host(.gw1).check(Command(["printf", "%s\\n"] + hostile))
        XCTAssertEqual(out, hostile.joined(separator: "\n") + "\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
    }

    func testStatusStdoutStderrAndStdinComeBackSeparately() throws {
        let gw2 = host(.gw2)
        let result = try gw2.run(Command(["sh", "-c", "echo to-out; echo to-err >&2; exit 3"]))
        XCTAssertEqual(result, CommandResult(status: 3, stdout: "to-out\n", stderr: "to-err\n"))
        let bytes: [UInt8] = Array(0...255) + Array(0...255)
        let echoed = try gw2.run(Command(["od", "-An", "-v", "-tu1"], stdin: bytes))
        let numbers = echoed.stdout.split(whereSeparator: \.isWhitespace).compactMap { UInt8($0) }
        XCTAssertEqual(numbers, bytes)
        XCTAssertThrowsError(try gw2.check(Command(["sh", "-c", "echo boom >&2; exit 5"]))) { error in
            guard case let .commandFailed(name, address, _, status, tail) = error as? RemoteError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual([name, address, tail], ["gw2", "198.18.251.13", "boom"])
            XCTAssertEqual(status, 5)
        }
    }

    func testATimedOutCommandIsKilledAndTheHostStaysUsable() throws {
        let drain = host(.drain)
        // ps sees the whole machine's processes: a duration of this test's own, not another's `sleep 30`.
        let seconds = "30.\(getpid())"
        XCTAssertThrowsError(try drain.run(Command("sleep", seconds, timeout: SpecDuration(milliseconds: 1000)))) { error in
            guard case .timedOut(let name, _, let command, _) = error as? RemoteError else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "drain")
            XCTAssertEqual(command, "sleep \(seconds)")
        }
        XCTAssertEqual(try drain.check("echo", "still here"), "still here\n")
        XCTAssertFalse(try drain.check("ps", "-eo", "args").contains("sleep \(seconds)"))
    }

    func testTheSessionIsReusedAcrossCommands() throws {
        let gw1 = host(.gw1)
        // Each command runs as shell -> timeout -> sh; the grandparent is the long-lived shell.
        let shell = Command(["sh", "-c", "ps -o ppid= -p $PPID"])
        let first = try gw1.check(shell), second = try gw1.check(shell)
        XCTAssertEqual(first, second)
        let args = try gw1.check("ps", "-o", "args=", "-p", first.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(args, "/bin/sh\n")
    }

    // MARK: Refusals with context

    func testUnreachableHostIsNamedWithinTheConnectTimeout() {
        let start = Date()
        XCTAssertThrowsError(try SSHHost(endpoint(.gw1) { $0.address = "198.18.251.99"; $0.connectTimeoutMilliseconds = 1000 }).connect()) { error in
            guard case let .unreachable(name, address, port, _) = error as? RemoteError else { return XCTFail("\(error)") }
            XCTAssertEqual([name, address], ["gw1", "198.18.251.99"])
            XCTAssertEqual(port, 22)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertThrowsError(try SSHHost(endpoint(.gw1) { $0.port = 2 }).connect()) { error in
            XCTAssertTrue("\(error)".contains("connection refused"), "\(error)")
        }
    }

    func testHostKeyMismatchAndUnknownHostsAreRefused() throws {
        let scratch = try scratchDirectory()
        let wrongKey = scratch + "/other"
        try LocalCommandRunner().check(Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", wrongKey))
        let fields = try String(contentsOfFile: wrongKey + ".pub", encoding: .utf8).split(separator: " ")
        let knownHosts = scratch + "/known_hosts"
        try "198.18.251.12 \(fields[0]) \(fields[1])\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)

        XCTAssertThrowsError(try SSHHost(endpoint(.gw1) { $0.knownHosts = knownHosts }).connect()) { error in
            guard case .hostKeyRejected(let name, _, let reason) = error as? RemoteError else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "gw1")
            XCTAssertTrue(reason.contains("does NOT match"), reason)
        }
        // gw2 is not in that file at all: strict refuses, accept-new records it and then matches.
        XCTAssertThrowsError(try SSHHost(endpoint(.gw2) { $0.knownHosts = knownHosts }).connect()) { error in
            XCTAssertTrue("\(error)".contains("not in \(knownHosts)"), "\(error)")
        }
        try SSHHost(endpoint(.gw2) { $0.knownHosts = knownHosts; $0.hostKeyPolicy = .acceptNew }).connect()
        try SSHHost(endpoint(.gw2) { $0.knownHosts = knownHosts }).connect()
        // ...and a mismatch stays a mismatch under accept-new.
        XCTAssertThrowsError(try SSHHost(endpoint(.gw1) { $0.knownHosts = knownHosts; $0.hostKeyPolicy = .acceptNew }).connect())
    }

    func testUnauthorizedKeyIsRefusedByName() throws {
        let scratch = try scratchDirectory()
        try LocalCommandRunner().check(Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", scratch + "/stranger"))
        XCTAssertThrowsError(try SSHHost(endpoint(.source) { $0.identity = scratch + "/stranger" }).connect()) { error in
            guard case .authenticationFailed(let name, _, let user, _) = error as? RemoteError else { return XCTFail("\(error)") }
            XCTAssertEqual([name, user], ["source", "root"])
        }
        XCTAssertThrowsError(try SSHHost(endpoint(.source) { $0.identity = scratch + "/absent" }).connect()) { error in
            XCTAssertTrue("\(error)".contains("does not exist"), "\(error)")
        }
    }

    // MARK: Testbed life cycle

    func testCheckReportsEveryHost() throws {
        let testbed = self.testbed
        let reports = try onEachHostOrThrow(testbed.orderedHosts) { spec in
            try HostInspector.inspect(SSHHost(SSHEndpoint(testbed: testbed, role: spec.role)), spec: spec)
        }
        XCTAssertEqual(reports.map(\.role), HostRole.allCases)
        for report in reports {
            XCTAssertNotNil(report.kernel)
            XCTAssertGreaterThanOrEqual(report.cpu?.cpus ?? 0, 1)
            XCTAssertEqual(report.nics.count, report.role.links.count)
            for nic in report.nics {
                XCTAssertTrue(nic.present)
                XCTAssertEqual(nic.driver?.driver, "veth")
                XCTAssertEqual(nic.ntuple, .unsupported)  // veth: recorded as a limitation, not hidden
            }
            XCTAssertNotNil(report.tools["iperf3"] ?? nil)
            XCTAssertFalse(report.missing.contains { !$0.limitation }, "\(report.role): \(report.missing)")
        }
    }

    func testUpRefusesWhileUpAndChangesNothing() throws {
        XCTAssertThrowsError(try Self.local.up()) { error in
            XCTAssertTrue("\(error)".contains("already up"), "\(error)")
        }
        XCTAssertEqual(try host(.gw1).check("echo", "ok"), "ok\n")
    }

    /// A second testbed with another prefix comes up beside the first, and its `down` (twice)
    /// removes exactly its own things.
    func testSecondTestbedCoexistsAndDownLeavesNothing() throws {
        let yaml = Self.yaml.replacingOccurrences(of: "wgbit", with: "wgbiu")
            .replacingOccurrences(of: "198.18.251.", with: "198.18.252.")
            .replacingOccurrences(of: "/run/wgbench/integration", with: "/run/wgbench/integration2")
        let other = LocalTestbed(testbed: try TestbedLoader.parse(yaml: yaml, file: "second.yaml"))
        other.down()
        try other.up()
        XCTAssertEqual(try SSHHost(SSHEndpoint(testbed: other.testbed, role: .drain)).check("echo", "second"), "second\n")
        XCTAssertFalse(other.residue().isEmpty)
        XCTAssertEqual(other.down(), [])
        XCTAssertEqual(other.down(), [])
        let namespaces = try LocalCommandRunner().check(Command("ip", "netns", "list"))
        XCTAssertFalse(namespaces.contains("wgbiu-"))
        XCTAssertTrue(namespaces.contains("wgbit-gw1"))
        let processes = try LocalCommandRunner().check(Command("ps", "-eo", "args"))
        XCTAssertFalse(processes.contains("/run/wgbench/integration2/"))
        XCTAssertEqual(try host(.gw1).check("echo", "first"), "first\n")
    }

    /// A step that fails halfway through `up` (here: the first data-plane link) leaves nothing behind.
    func testFailedUpRemovesWhatItMade() throws {
        let yaml = Self.yaml.replacingOccurrences(of: "wgbit", with: "wgbiv")
            .replacingOccurrences(of: "198.18.251.", with: "198.18.253.")
            .replacingOccurrences(of: "/run/wgbench/integration", with: "/run/wgbench/integration3")
        let broken = LocalTestbed(testbed: try TestbedLoader.parse(yaml: yaml, file: "broken.yaml"),
                                  runner: FailingRunner(failOn: "type veth peer name eth2"))
        XCTAssertThrowsError(try broken.up()) { error in
            XCTAssertTrue("\(error)".contains("injected failure"), "\(error)")
        }
        XCTAssertEqual(broken.residue(), [])
    }

    private func scratchDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "wgb-it-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }
}

/// The real runner, except that one command fails.
private struct FailingRunner: LocalRunning {
    let failOn: String

    func run(_ command: Command) throws -> CommandResult {
        if command.description.contains(failOn) {
            return CommandResult(status: 1, stdout: "", stderr: "injected failure")
        }
        return try LocalCommandRunner().run(command)
    }
}
