import Foundation
import Glibc
import WGBenchCore
import WGBenchEngine
import WGBenchRemote
import XCTest

/// Faults injected into `wgbench run` on a local testbed of its own (prefix wgbf, management
/// 198.18.248.0/24), the way a demanding user meets them: a second run on the same testbed, the
/// controller killed with -9, a host's sshd lost mid-run, the results disk full, a tunnel daemon
/// killed, input too large. Each drives the real `wgbench` binary and checks its exit status, what
/// it says, what it recorded, and that the hosts are clean afterwards. Needs root.
final class FaultInjectionTests: XCTestCase {
    static let yaml = """
    name: faults
    local: {prefix: wgbf, state_dir: /run/wgbench/faults, management: 198.18.248.1/24}
    ssh: {connect_timeout: 2s, command_timeout: 30s}
    hosts:
      source:
        ssh: {address: 198.18.248.11}
        interfaces: {ingress: {name: eth1, address: 198.18.1.2/24}}
      gw1:
        ssh: {address: 198.18.248.12}
        interfaces: {ingress: {name: eth1, address: 198.18.1.1/24}, underlay: {name: eth2, address: 198.18.2.1/24}}
      gw2:
        ssh: {address: 198.18.248.13}
        interfaces: {underlay: {name: eth2, address: 198.18.2.2/24}, egress: {name: eth1, address: 198.18.3.1/24}}
      drain:
        ssh: {address: 198.18.248.14}
        interfaces: {egress: {name: eth1, address: 198.18.3.2/24}}
    """

    nonisolated(unsafe) static var local: LocalTestbed!
    nonisolated(unsafe) static var upError: Error?
    nonisolated(unsafe) static var scratch = ""

    override class func setUp() {
        super.setUp()
        guard geteuid() == 0 else { return }
        do {
            scratch = NSTemporaryDirectory() + "wgb-faults-\(getpid())"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            try yaml.write(toFile: scratch + "/testbed.yaml", atomically: true, encoding: .utf8)
            local = LocalTestbed(testbed: try TestbedLoader.parse(yaml: yaml, file: scratch + "/testbed.yaml"))
            local.down()  // a crashed earlier run may have left it
            try local.up()
        } catch {
            upError = error
        }
    }

    override class func tearDown() {
        if let local {
            let residue = local.down()
            if !residue.isEmpty { fatalError("the fault-injection testbed left residue: \(residue)") }
        }
        try? FileManager.default.removeItem(atPath: scratch)
        super.tearDown()
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(geteuid() == 0, "the local testbed needs root (network namespaces)")
        if let error = Self.upError { XCTFail("testbed up failed: \(error)"); throw error }
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary), "wgbench is not built")
    }

    override func tearDownWithError() throws {
        // Whatever a test did, the next one starts from a clean testbed with sshd on every host.
        for role in HostRole.allCases where !sshdRuns(role) { try startSSHD(role) }
        XCTAssertEqual(ResidueCheck.check(hosts: hosts(), testbed: testbed), [], "a fault left something on the hosts")
        XCTAssertFalse(leaseFiles().contains { FileManager.default.fileExists(atPath: $0) }, "a lease was left on the hosts")
    }

    var testbed: Testbed { Self.local.testbed }
    var testbedFile: String { Self.scratch + "/testbed.yaml" }

    var binary: String { builtProduct("wgbench") }

    func hosts() -> [HostRole: RemoteHost] {
        Dictionary(uniqueKeysWithValues: HostRole.allCases.map { ($0, SSHHost(SSHEndpoint(testbed: testbed, role: $0)) as RemoteHost) })
    }

    // MARK: The faults

    /// Two runs on one testbed skewed each other and both exited 0. Now the second is refused at
    /// once with status 4, naming the first; `testbed down` is refused too; the first finishes
    /// undisturbed.
    func testASecondRunOnABusyTestbedIsRefusedAndTheFirstIsUndisturbed() throws {
        // Long enough that the first run still holds the testbed while the others are refused, on a loaded machine too.
        let experiment = try write("busy.yaml", experiment(name: "busy", repetitions: 8, tunnels: "[1]", duration: 2))
        let first = try Run(binary, ["run", experiment, "--testbed", testbedFile, "--out", Self.scratch + "/busy-1"], in: Self.scratch)
        try waitFor(first, file: Self.scratch + "/busy-1/points/wg/tunnels-1/rep-1/result.json")
        let record = try ResultStore.readRecord(in: URL(fileURLWithPath: Self.scratch + "/busy-1"))

        let start = Date()
        let second = try Run(binary, ["run", experiment, "--testbed", testbedFile, "--out", Self.scratch + "/busy-2"], in: Self.scratch)
        XCTAssertEqual(second.wait(seconds: 60), ExitStatus.busy.rawValue, second.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
        XCTAssertTrue(second.stderr.contains("testbed busy:"), second.stderr)
        XCTAssertTrue(second.stderr.contains("leased to run \(record.id) of process \(first.pid) on controller"), second.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: Self.scratch + "/busy-2"), "a refused run made a result directory")
        // --force does not take a lease its holder renews.
        let forced = try Run(binary, ["run", experiment, "--testbed", testbedFile, "--out", Self.scratch + "/busy-3", "--force"], in: Self.scratch)
        XCTAssertEqual(forced.wait(seconds: 60), ExitStatus.busy.rawValue, forced.stderr)
        let down = try Run(binary, ["testbed", "down", "--testbed", testbedFile], in: Self.scratch)
        XCTAssertEqual(down.wait(seconds: 60), ExitStatus.busy.rawValue, down.stderr)
        XCTAssertTrue(down.stderr.contains("testbed busy:"), down.stderr)

        XCTAssertEqual(first.wait(seconds: 180), ExitStatus.ok.rawValue, first.stderr)
        let results = try results(in: Self.scratch + "/busy-1")
        XCTAssertEqual(results.count, 8)
        XCTAssertTrue(results.allSatisfy { $0.status == .ok && $0.attempts == 1 }, "\(results.map(\.reason))")
    }

    /// A controller killed with -9 leaves tunnels, daemons, iperf3, routes, its run folder and its
    /// lease. Resume takes the lease over (its holder provably gone), sweeps all of it and says what
    /// it removed, and measures the rest in fresh folders: nothing unparsable, nothing lost.
    func testKillNineThenResumeSweepsTheTestbedAndFinishes() throws {
        let out = Self.scratch + "/kill9"
        let experiment = try write("kill9.yaml", experiment(name: "kill9", repetitions: 2, tunnels: "[1, 2]", duration: 3))
        let first = try Run(binary, ["run", experiment, "--testbed", testbedFile, "--out", out], in: Self.scratch)
        try waitFor(first, file: out + "/points/wg/tunnels-1/rep-1/result.json")
        usleep(1_500_000)  // into the next repetition's traffic
        first.kill(SIGKILL)
        XCTAssertEqual(first.wait(seconds: 10), -SIGKILL)
        XCTAssertTrue(leaseFiles().allSatisfy { FileManager.default.fileExists(atPath: $0) }, "the killed run's lease should be left")
        XCTAssertFalse(ResidueCheck.check(hosts: hosts(), testbed: testbed).isEmpty, "the killed run should have left its tunnels")

        let resumed = try Run(binary, ["run", "--resume", out, "--testbed", testbedFile], in: Self.scratch)
        XCTAssertEqual(resumed.wait(seconds: 180), ExitStatus.ok.rawValue, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("taking over the lease of run kill9-"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("no longer runs"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("removed what an earlier run left:"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("gw1: interface wgbf1-1"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("run folder /run/wgbench/runs/kill9-"), resumed.stderr)
        let results = try results(in: out)
        XCTAssertEqual(results.count, 4)
        XCTAssertTrue(results.allSatisfy { $0.status == .ok && ($0.throughput ?? 0) > 0 }, "\(results.map(\.reason))")
    }

    /// gw2's sshd killed mid-run: the run names gw2, stops at once instead of failing every
    /// remaining repetition, tears down the other hosts and prints the resume command (status 1).
    /// Once gw2 is back, resume sweeps it and measures exactly what was left.
    func testALostHostStopsTheRunAndResumeFinishesOnceItIsBack() throws {
        let out = Self.scratch + "/lost"
        let experiment = try write("lost.yaml", experiment(name: "lost", repetitions: 4, tunnels: "[1]", duration: 2))
        let first = try Run(binary, ["run", experiment, "--testbed", testbedFile, "--out", out], in: Self.scratch)
        try waitFor(first, file: out + "/points/wg/tunnels-1/rep-1/result.json")
        let start = Date()
        killSSHD(.gw2)
        XCTAssertEqual(first.wait(seconds: 120), ExitStatus.failed.rawValue, first.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 60, "the run went on after losing gw2")
        XCTAssertTrue(first.stderr.contains("stopped: lost host gw2"), first.stderr)
        XCTAssertTrue(first.stderr.contains("resume with: wgbench run --resume \(out) --testbed \(testbedFile)"), first.stderr)
        let recorded = try results(in: out)
        XCTAssertFalse(recorded.contains { $0.status == .failed }, "a lost host's repetitions were recorded as failed: \(recorded.map(\.reason))")
        XCTAssertLessThan(recorded.count, 4)
        // The other hosts were torn down; gw2 keeps its tunnel until it can be reached.
        XCTAssertTrue(try SSHHost(SSHEndpoint(testbed: testbed, role: .gw1)).check("ip", "-o", "link", "show").contains("wgbf1-") == false)

        try startSSHD(.gw2)
        let resumed = try Run(binary, ["run", "--resume", out, "--testbed", testbedFile], in: Self.scratch)
        XCTAssertEqual(resumed.wait(seconds: 180), ExitStatus.ok.rawValue, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("gw2: interface wgbf2-1"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("\(recorded.count) of 4 repetitions already done"), resumed.stderr)
        let results = try results(in: out)
        XCTAssertEqual(results.count, 4)
        XCTAssertTrue(results.allSatisfy { $0.status == .ok }, "\(results.map(\.reason))")
    }

    /// The results disk fills up mid-run (a small tmpfs, filled after the first result): one line
    /// with the path and errno, no retry spent on it, no temporary file, clean hosts, status 1, the
    /// resume command; with room again, resume finishes the run.
    func testAFullResultsDiskStopsTheRunWithOneLineAndResumeFinishes() throws {
        let mount = Self.scratch + "/small-disk"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        try LocalCommandRunner().check(Command("mount", "-t", "tmpfs", "-o", "size=4m", "wgbench-test", mount))
        addTeardownBlock { _ = try? LocalCommandRunner().run(Command("umount", mount)) }
        let out = mount + "/run"
        let experiment = try write("full.yaml", experiment(name: "full", repetitions: 3, tunnels: "[1]", duration: 2, retries: 2))
        let first = try Run(binary, ["run", experiment, "--testbed", testbedFile, "--out", out], in: Self.scratch)
        try waitFor(first, file: out + "/points/wg/tunnels-1/rep-1/result.json")
        try LocalCommandRunner().run(Command("sh", "-c", "dd if=/dev/zero of=\"$1\" bs=64k 2>/dev/null; sync; exit 0", "fill", mount + "/filler"))
        XCTAssertEqual(first.wait(seconds: 120), ExitStatus.failed.rawValue, first.stderr)
        let lines = first.stderr.split(separator: "\n").filter { $0.contains("No space left on device (errno 28)") }
        XCTAssertEqual(lines.count, 1, first.stderr)
        XCTAssertTrue(lines.first?.contains("stopped: cannot ") == true && lines.first?.contains(" \(out)/") == true, first.stderr)
        XCTAssertFalse(first.stderr.contains("attempt 1 failed"), "a local fault was retried as a host fault: \(first.stderr)")
        XCTAssertTrue(first.stderr.contains("resume with: wgbench run --resume \(out)"), first.stderr)
        let files = FileManager.default.enumerator(atPath: out)!.compactMap { $0 as? String }
        XCTAssertFalse(files.contains { $0.contains(".tmp-") }, "temporary files left: \(files)")
        for log in files where log.hasPrefix("commands/") {
            let text = try String(contentsOfFile: out + "/" + log, encoding: .utf8)
            XCTAssertTrue(text.isEmpty || text.hasSuffix("\n"), "\(log) ends in half a line")
        }

        try FileManager.default.removeItem(atPath: mount + "/filler")
        let resumed = try Run(binary, ["run", "--resume", out, "--testbed", testbedFile], in: Self.scratch)
        XCTAssertEqual(resumed.wait(seconds: 180), ExitStatus.ok.rawValue, resumed.stderr)
        let results = try results(in: out)
        XCTAssertEqual(results.count, 3)
        XCTAssertTrue(results.allSatisfy { $0.status == .ok }, "\(results.map(\.reason))")
    }

    /// A tunnel daemon killed between repetitions: the next repetition fails at once (no 37 s
    /// iperf3 timeout), naming gw2, wireguard-go and its log; the run exits 1 and names it.
    func testADeadDaemonFailsItsRepetitionAtOnceWithItsLog() throws {
        let out = Self.scratch + "/daemon"
        let experiment = try write("daemon.yaml", experiment(name: "daemon", repetitions: 2, tunnels: "[1]", duration: 2, pause: "5s"))
        let run = try Run(binary, ["run", experiment, "--testbed", testbedFile, "--out", out], in: Self.scratch)
        try waitFor(run, file: out + "/points/wg/tunnels-1/rep-1/result.json")
        // The daemon itself, not the shell that keeps its capped log (whose arguments end the same way).
        let daemon = try XCTUnwrap(processes(in: "wgbf-gw2").first { $0.comm.hasPrefix("wireguard-go") && $0.args.hasSuffix("wireguard-go wgbf2-1") })
        kill(daemon.pid, SIGKILL)
        XCTAssertEqual(run.wait(seconds: 120), ExitStatus.failed.rawValue, run.stderr)
        let failed = try XCTUnwrap(try results(in: out).first { $0.key.repetition == 2 })
        let reason = failed.reason ?? ""
        XCTAssertEqual(failed.status, .failed)
        XCTAssertTrue(reason.hasPrefix("gw2: the wireguard-go daemon of wgbf2-1 is not running before traffic"), reason)
        XCTAssertTrue(reason.contains("daemon-wgbf2-1.log"), reason)
        XCTAssertLessThan(failed.finished.timeIntervalSince(failed.started), 10, "the dead daemon was not noticed at once")
        XCTAssertTrue(run.stdout.contains("failed repetitions (1):\n  wg tunnels=1 rep 2: gw2: the wireguard-go daemon of wgbf2-1"), run.stdout)
    }

    /// Oversized or hostile input is refused with status 2 and file:line before any host is touched.
    func testOversizeInputIsRefusedBeforeAnyHostIsTouched() throws {
        let huge = try write("huge.yaml", "name: huge\n#" + String(repeating: "x", count: 2 * InputLimits.maxFileBytes) + "\nseries: [{name: p, target: plain}]\n")
        let many = try write("many.yaml", "name: many\nrepetitions: 1\nseries: ["
                             + (0...InputLimits.maxPoints).map { "{name: s\($0), target: plain}" }.joined(separator: ", ") + "]\n")
        var bomb = "name: bomb\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 { bomb += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let bombFile = try write("bomb.yaml", bomb + "series: [{name: p, target: plain}]\n")
        for (file, location) in [(huge, "\(huge):1:1: the file is larger than 1024 KiB"), (many, "\(many):3:9: "), (bombFile, "\(bombFile):5:5: YAML aliases")] {
            let start = Date()
            let run = try Run(binary, ["run", file, "--testbed", testbedFile, "--out", Self.scratch + "/refused"], in: Self.scratch)
            XCTAssertEqual(run.wait(seconds: 30), ExitStatus.badInput.rawValue, run.stderr)
            XCTAssertTrue(run.stderr.contains(location), run.stderr)
            XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: Self.scratch + "/refused"))
        XCTAssertFalse(leaseFiles().contains { FileManager.default.fileExists(atPath: $0) }, "a refused run took the lease")
        let unknown = try Run(binary, ["run", "--resume", Self.scratch + "/nothing-here", "--testbed", testbedFile], in: Self.scratch)
        XCTAssertEqual(unknown.wait(seconds: 30), ExitStatus.badInput.rawValue, unknown.stderr)
        let usage = try Run(binary, ["run", "--no-such-flag"], in: Self.scratch)
        XCTAssertEqual(usage.wait(seconds: 30), ExitStatus.badInput.rawValue, usage.stderr)
    }

    /// Ctrl-C: cleaned up, resumable, status 130 (SIGTERM's 143 is checked by ExperimentRunTests).
    func testSIGINTCleansUpAndExits130() throws {
        let out = Self.scratch + "/sigint"
        let experiment = try write("sigint.yaml", experiment(name: "sigint", repetitions: 3, tunnels: "[1]", duration: 2))
        let run = try Run(binary, ["run", experiment, "--testbed", testbedFile, "--out", out], in: Self.scratch)
        try waitFor(run, file: out + "/points/wg/tunnels-1/rep-1/result.json")
        run.kill(SIGINT)
        XCTAssertEqual(run.wait(seconds: 60), ExitStatus.interruptedBySIGINT, run.stderr)
        XCTAssertTrue(run.stderr.contains("resume with: wgbench run --resume \(out)"), run.stderr)
    }

    // MARK: Helpers

    func experiment(name: String, repetitions: Int, tunnels: String, duration: Int, retries: Int = 0, pause: String = "0s") -> String {
        """
        name: \(name)
        repetitions: \(repetitions)
        order: sequential
        retries: \(retries)
        pause: \(pause)
        traffic: {duration: \(duration)s, omit: 0s}
        sweep: {tunnels: \(tunnels)}
        series: [{name: wg, target: wireguard-go}]
        """
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = Self.scratch + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func results(in directory: String) throws -> [RepetitionResult] {
        let store = try ResultStore(directory: URL(fileURLWithPath: directory))
        return try store.results(for: try store.readRecord().order)
    }

    /// Waits (up to 120 s) until `file` exists, failing early if the run ends first.
    func waitFor(_ run: Run, file: String) throws {
        for _ in 0..<1200 {
            if FileManager.default.fileExists(atPath: file) { return }
            if !run.isRunning { throw XCTSkip("the run ended before \(file) appeared: \(run.stderr)") }
            usleep(100_000)
        }
        run.kill(SIGKILL)
        XCTFail("\(file) did not appear within 120 s")
    }

    /// The lease files of the testbed's hosts (named after each namespace's inode).
    func leaseFiles() -> [String] {
        HostRole.allCases.compactMap { role in
            var info = stat()
            guard stat("/run/netns/\(Self.local.plan.namespace(role))", &info) == 0 else { return nil }
            return "/run/wgbench/lease-\(info.st_ino)"
        }
    }

    struct NamespaceProcess { var pid: pid_t; var comm: String; var args: String }

    func processes(in namespace: String) -> [NamespaceProcess] {
        let pids = ((try? LocalCommandRunner().run(Command("ip", "netns", "pids", namespace)))?.stdout ?? "")
            .split(separator: "\n").compactMap { pid_t($0.trimmingCharacters(in: .whitespaces)) }
        return pids.compactMap { pid in
            guard let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
                  let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let args = String(decoding: cmdline.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            return NamespaceProcess(pid: pid, comm: comm.trimmingCharacters(in: .whitespacesAndNewlines), args: args)
        }
    }

    /// Kills every sshd of a host: the listener and the sessions the run holds.
    func killSSHD(_ role: HostRole) {
        for process in processes(in: Self.local.plan.namespace(role)) where process.comm == "sshd" { kill(process.pid, SIGKILL) }
        for _ in 0..<50 where sshdRuns(role) { usleep(100_000) }
    }

    func sshdRuns(_ role: HostRole) -> Bool {
        processes(in: Self.local.plan.namespace(role)).contains { $0.comm == "sshd" && LocalTestbed.isAlive($0.pid) }
    }

    func startSSHD(_ role: HostRole) throws {
        try LocalCommandRunner().check(Self.local.plan.sshdCommand(role))
        for _ in 0..<50 {
            if (try? SSHHost(SSHEndpoint(testbed: testbed, role: role)).check("true")) != nil { return }
            usleep(100_000)
        }
        XCTFail("sshd on \(role) did not come back")
    }
}

/// A `wgbench` process with its output collected in files.
final class Run {
    let process = Process()
    private let out: String
    private let err: String

    init(_ binary: String, _ arguments: [String], in directory: String) throws {
        let stamp = UUID().uuidString.prefix(8)
        out = "\(directory)/run-\(stamp).out"
        err = "\(directory)/run-\(stamp).err"
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var stdout: String { (try? String(contentsOfFile: out, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: err, encoding: .utf8)) ?? "" }

    func kill(_ signal: Int32) { Glibc.kill(process.processIdentifier, signal) }

    /// The exit status (a signal as its negative number), or nil after `seconds` (the run is then killed).
    @discardableResult
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            kill(SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
    }
}
