import Foundation
import Glibc
import Testing
import WGBenchCore
import WGBenchRemote
@testable import WGBenchEngine

/// The security review's items that live on the controller, each with the attack it stops.
struct SecurityTests {
    func scratch() throws -> String {
        let path = "/tmp/wgb-security-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o755)
        return path
    }

    // MARK: Item 9: run.json's id reaches `rm -rf` on every host

    @Test(arguments: ["../../..", "..", "a/../../etc", "/", "x y", "-rf", ".hidden", ""])
    func aResumedRunJSONWhoseIDCouldClimbIsRefused(_ id: String) throws {
        let store = try ResultStore(directory: URL(fileURLWithPath: try scratch()))
        defer { try? FileManager.default.removeItem(at: store.directory) }
        let testbed = try TestbedLoader.parse(yaml: ExperimentRunnerTests.testbedYAML, file: "fake.yaml")
        var record = ExperimentRunner.newRecord(spec: try RunResilienceTests.spec(), experimentFile: "t.yaml", testbed: testbed)
        try store.writeRecord(record)
        #expect(try store.readRecord().id == record.id)
        record.id = id
        try store.writeRecord(record)
        #expect {
            _ = try store.readRecord()
        } throws: { error in
            guard let refusal = error as? RunRecordError else { return false }
            return refusal.field == "id" && "\(refusal)".contains("refusing to resume") && ExitStatus.of(error) == .badInput
        }
    }

    @Test func seriesAndPointNamesOfARunJSONCannotClimbEither() throws {
        let testbed = try TestbedLoader.parse(yaml: ExperimentRunnerTests.testbedYAML, file: "fake.yaml")
        var record = ExperimentRunner.newRecord(spec: try RunResilienceTests.spec(), experimentFile: "t.yaml", testbed: testbed)
        try record.validate(file: "run.json")
        record.order[1].series = "../x"
        #expect(throws: RunRecordError.self) { try record.validate(file: "run.json") }
        record.order[1].series = "wg"
        record.order[1].point.assignments[0].value = "../../x"
        #expect(throws: RunRecordError.self) { try record.validate(file: "run.json") }
    }

    /// Even a runner handed a bad record (not through readRecord) never sends `rm -rf` with it.
    @Test func theTeardownNeverRemovesAFolderNamedByABadID() throws {
        let lab = recordedLab()
        let testbed = try TestbedLoader.parse(yaml: ExperimentRunnerTests.testbedYAML, file: "fake.yaml")
        var record = ExperimentRunner.newRecord(spec: try RunResilienceTests.spec(), experimentFile: "t.yaml", testbed: testbed)
        record.id = "../../.."
        let store = try ResultStore(directory: URL(fileURLWithPath: try scratch()))
        defer { try? FileManager.default.removeItem(at: store.directory) }
        _ = ExperimentRunner(testbed: testbed, hosts: lab.remoteHosts, store: store, record: record).teardown()
        #expect(!HostRole.allCases.flatMap(lab.commands).contains { $0.hasPrefix("rm -rf") })
    }

    // MARK: Item 11: the local testbed's state directory holds sshd's authorized keys

    /// `testbed up` under a directory another user owns stops before it makes anything: that user
    /// could otherwise swap the state directory, and with it sshd's authorized keys.
    @Test func upRefusesAStateDirectoryUnderAnotherUsersDirectory() throws {
        try #require(geteuid() == 0, "chown and testbed up need root")
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        mkdir(base + "/theirs", 0o755)
        chown(base + "/theirs", 65534, 65534)
        let yaml = LocalTestbedPlanFixture.yaml(prefix: "wgbsec", stateDirectory: base + "/theirs/state", management: "198.18.247.1/24")
        let local = LocalTestbed(testbed: try TestbedLoader.parse(yaml: yaml, file: "sec.yaml"))
        defer { local.down() }
        #expect(throws: SecureDirectory.Refusal(path: base + "/theirs", reason: "it is owned by uid 65534, not root")) { try local.up() }
        #expect(local.residue().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: base + "/theirs/state"))
    }

    /// Issue #22, item 4: a second local testbed (another prefix) in a management network another
    /// testbed's bridge holds is refused before anything is made, naming the bridge.
    @Test func upRefusesAManagementNetworkAnotherTestbedHolds() throws {
        try #require(geteuid() == 0, "testbed up needs root")
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let yaml = LocalTestbedPlanFixture.yaml(prefix: "wgbcol", stateDirectory: base + "/state", management: "198.18.250.1/24")
        let runner = ScriptedRunner { command in
            command.argv == ["ip", "-o", "-4", "addr", "show"]
                ? "5: wgb-mgmt    inet 198.18.250.1/24 scope global wgb-mgmt\\       valid_lft forever preferred_lft forever\n" : ""
        }
        let local = LocalTestbed(testbed: try TestbedLoader.parse(yaml: yaml, file: "col.yaml"), runner: runner)
        #expect {
            try local.up()
        } throws: { error in
            "\(error)".contains("the management network 198.18.250.0/24 is in use on this machine by wgb-mgmt (198.18.250.1/24)")
        }
        #expect(!runner.commands.contains { $0.hasPrefix("ip netns add") || $0.hasPrefix("ip link add") || $0.contains("sshd") })
        #expect(!FileManager.default.fileExists(atPath: base + "/state"))
    }

    @Test func theStateDirectoryIsMadeRootsAlone() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try SecureDirectory.create(base + "/a/state")
        var info = stat()
        #expect(lstat(base + "/a/state", &info) == 0 && info.st_mode & 0o777 == 0o700 && info.st_uid == 0)
    }

    @Test func aStateDirectoryAnotherUserCouldWriteIsRefused() throws {
        try #require(geteuid() == 0, "chown needs root")
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        // Pre-created by another user (as an attacker would before `testbed up`).
        mkdir(base + "/theirs", 0o700)
        chown(base + "/theirs", 65534, 65534)
        #expect(throws: SecureDirectory.Refusal(path: base + "/theirs", reason: "it is owned by uid 65534, not root")) {
            try SecureDirectory.create(base + "/theirs")
        }
        // Root's but open to all.
        mkdir(base + "/open", 0o700)
        chmod(base + "/open", 0o777)
        #expect(throws: SecureDirectory.Refusal.self) { try SecureDirectory.create(base + "/open") }
        // A parent others may write to (without the sticky bit): they could swap the directory.
        mkdir(base + "/parent", 0o755)
        chmod(base + "/parent", 0o777)
        #expect(throws: SecureDirectory.Refusal.self) { try SecureDirectory.create(base + "/parent/state") }
        #expect(!FileManager.default.fileExists(atPath: base + "/parent/state"))
        // A parent that is a symbolic link.
        symlink(base + "/theirs", base + "/link")
        #expect(throws: SecureDirectory.Refusal.self) { try SecureDirectory.create(base + "/link/state") }
        // A sticky world-writable parent (/tmp) is fine: others cannot rename root's entries there.
        try SecureDirectory.create(base + "/a")
    }

    // MARK: Local writes

    @Test func aFailedWriteLeavesNoTemporaryFileAndNamesPathAndErrno() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try Data("old".utf8).write(to: URL(fileURLWithPath: base + "/file"))
        #expect(throws: LocalWriteError(operation: "create directory", path: base + "/file", code: ENOTDIR)) {
            try LocalFile.writeAtomically(Data("x".utf8), to: base + "/file/inside.json", sync: true)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: base) == ["file"])
        let fd = open("/dev/full", O_WRONLY)
        defer { close(fd) }
        #expect(throws: LocalWriteError(operation: "append to", path: "/dev/full", code: ENOSPC)) {
            try LocalFile.append(Data("a line\n".utf8), fd: fd, path: "/dev/full")
        }
        #expect("\(LocalWriteError(operation: "write", path: "/r/x.json", code: ENOSPC))"
                == "cannot write /r/x.json on this machine: No space left on device (errno 28)")
    }

    /// Issue #22, item 2: a run directory to resume may come from elsewhere; a `points` folder or
    /// a command log in it that is a symbolic link must not take the run's writes where it points.
    @Test func aRunNeverWritesThroughALinkInsideItsDirectory() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        mkdir(base + "/elsewhere", 0o755)
        try Data("theirs\n".utf8).write(to: URL(fileURLWithPath: base + "/victim.log"))
        let store = try ResultStore(directory: URL(fileURLWithPath: base + "/run"))
        symlink(base + "/elsewhere", base + "/run/points")
        #expect(throws: LocalWriteError(operation: "create directory", path: base + "/run/points", code: ELOOP)) {
            try store.write("{}", to: "points/wg/tunnels-1/rep-1/result.json")
        }
        mkdir(base + "/run/commands", 0o755)
        symlink(base + "/victim.log", base + "/run/commands/gw1.log")
        store.append("a line", to: "commands/gw1.log")
        #expect(store.fault?.code == ELOOP)
        #expect(try FileManager.default.contentsOfDirectory(atPath: base + "/elsewhere").isEmpty)
        #expect(try String(contentsOf: URL(fileURLWithPath: base + "/victim.log"), encoding: .utf8) == "theirs\n")
        // A link at a file's own name is replaced, not written through; one above the run is the user's own.
        symlink(base + "/victim.log", base + "/run/summary.csv")
        try store.write("new", to: "summary.csv")
        #expect(try String(contentsOf: URL(fileURLWithPath: base + "/victim.log"), encoding: .utf8) == "theirs\n")
        symlink(base + "/run", base + "/link")
        try ResultStore(directory: URL(fileURLWithPath: base + "/link")).write("{}", to: "metadata/gw1.json")
    }

    @Test func aCommandLogThatCannotGrowIsAFaultTheRunChecks() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let store = try ResultStore(directory: URL(fileURLWithPath: base))
        try Data().write(to: URL(fileURLWithPath: base + "/commands"))  // a file where the log folder goes
        store.append("line", to: "commands/gw1.log")
        #expect(store.fault?.code == ENOTDIR)
        #expect(throws: LocalWriteError.self) { try store.checkFault() }
    }
}

/// A local runner that answers from a script and records what it was asked.
final class ScriptedRunner: LocalRunning, @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [String] = []
    private let answer: @Sendable (Command) -> String

    init(_ answer: @escaping @Sendable (Command) -> String) { self.answer = answer }

    var commands: [String] { lock.lock(); defer { lock.unlock() }; return seen }

    func run(_ command: Command) throws -> CommandResult {
        lock.lock()
        seen.append(command.description)
        lock.unlock()
        return CommandResult(status: 0, stdout: answer(command), stderr: "")
    }
}

enum LocalTestbedPlanFixture {
    static func yaml(prefix: String, stateDirectory: String, management: String) -> String {
        let net = management.split(separator: ".").prefix(3).joined(separator: ".")
        return """
        name: sec
        local: {prefix: \(prefix), state_dir: \(stateDirectory), management: \(management)}
        hosts:
          source: {ssh: {address: \(net).11}, interfaces: {ingress: {name: eth1, address: 198.18.1.2/24}}}
          gw1: {ssh: {address: \(net).12}, interfaces: {ingress: {name: eth1, address: 198.18.1.1/24}, underlay: {name: eth2, address: 198.18.2.1/24}}}
          gw2: {ssh: {address: \(net).13}, interfaces: {underlay: {name: eth2, address: 198.18.2.2/24}, egress: {name: eth1, address: 198.18.3.1/24}}}
          drain: {ssh: {address: \(net).14}, interfaces: {egress: {name: eth1, address: 198.18.3.2/24}}}
        """
    }
}
