import Foundation
import Glibc
import WGBenchCore
import WGBenchEngine
import WGBenchRemote
import XCTest

/// `wgbench run` for real on the local testbed (shares LocalTestbedTests' testbed).
extension LocalTestbedTests {
    var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Runs an experiment on the testbed into a scratch result directory removed after the test.
    func runExperiment(_ spec: ExperimentSpec, file: String, on testbed: Testbed) throws -> (ResultStore, RunRecord, ExperimentRunner.Report) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-\(spec.name)-\(getpid())")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let store = try ResultStore(directory: directory)
        let record = ExperimentRunner.newRecord(spec: spec, experimentFile: file, testbed: testbed)
        try store.writeRecord(record)
        return (store, record, try ExperimentRunner(testbed: testbed, hosts: try sshHosts(), store: store, record: record).run())
    }

    func sshHosts() throws -> [HostRole: RemoteHost] {
        let testbed = self.testbed
        var hosts: [HostRole: RemoteHost] = [:]
        for role in HostRole.allCases { hosts[role] = SSHHost(SSHEndpoint(testbed: testbed, role: role)) }
        return hosts
    }

    /// The testbed with the built wireguard-swift uploaded to the gateways, as a run of the main job does.
    var testbedWithBuiltDaemon: Testbed {
        let path = builtProduct("wireguard-swift")
        var testbed = self.testbed
        testbed.uploads["wireguard-swift"] = .file(FilePath(absolute: path))
        return testbed
    }

    /// experiments/smoke.yaml end to end: every point of plain, wireguard-go and both
    /// wireguard-swift engines measured with non-zero throughput in randomized blocks, CPU samples
    /// from both gateways, metadata and command logs, summary files, paired ratios over
    /// wireguard-go round by round, and clean hosts.
    func testSmokeExperimentRunsEndToEnd() throws {
        let spec = try ExperimentLoader.load(path: repositoryRoot.appendingPathComponent("experiments/smoke.yaml").path)
        XCTAssertEqual(spec.order, .blocks)
        let (store, record, report) = try runExperiment(spec, file: "experiments/smoke.yaml", on: testbedWithBuiltDaemon)

        XCTAssertEqual(report.executed, 16)
        XCTAssertEqual(report.failed, 0, "\((try? store.results(for: record.order))?.compactMap(\.reason) ?? [])")
        XCTAssertEqual(report.residue, [])
        XCTAssertEqual(report.summary.count, 8)
        // Each of the other series over wireguard-go at both points, paired over both rounds.
        XCTAssertEqual(report.ratios.count, 6)
        XCTAssertTrue(report.ratios.allSatisfy { $0.paired && $0.rounds == 2 && $0.over == "wireguard-go" && $0.ratio > 0 }, "\(report.ratios)")
        XCTAssertTrue(store.exists("ratios.csv"))
        for row in report.summary {
            XCTAssertGreaterThan(row.throughputGbps?.mean ?? 0, 0.01, "\(row.series) \(row.point.id)")
        }
        for result in (try store.results(for: record.order)) {
            XCTAssertEqual(result.cpu.keys.sorted(), ["gw1", "gw2"])
            XCTAssertFalse(result.cpu["gw1"]?.isEmpty ?? true)
            XCTAssertTrue(result.steps.contains { $0.status == .unsupported }, "veth steering must be recorded as unsupported")
            XCTAssertTrue(store.exists("\(result.key.directory)/client-0.json"))
            // CPU is sampled from the start of the traffic: the 1 s warm-up, then the 3 s measured.
            let samples = ProcStatParser.samples(try String(contentsOf: store.url("\(result.key.directory)/cpu-gw2.txt"), encoding: .utf8))
            XCTAssertEqual(samples.count, 5)
            let steadyFrom = try XCTUnwrap(result.steadyFrom)
            XCTAssertTrue((0.9...1.6).contains(steadyFrom), "the measured window starts \(steadyFrom) s into the traffic")
            XCTAssertEqual(result.saturation?.keys.sorted(), ["gw1", "gw2"])
        }
        for role in HostRole.allCases {
            XCTAssertTrue(store.exists("metadata/\(role).json"))
            XCTAssertTrue(store.exists("commands/\(role).log"))
        }
        let csv = try String(contentsOf: store.url("summary.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 9)
        // The wireguard-go tunnels carried the traffic: its gateways ran daemons of ours.
        let log = try String(contentsOf: store.url("commands/gw1.log"), encoding: .utf8)
        XCTAssertTrue(log.contains("wireguard-go wgbit1-2"))
        XCTAssertFalse(log.contains("PrivateKey"))
    }

    /// SIGTERM in the middle of `wgbench run` leaves the hosts clean, and `--resume` finishes the sweep
    /// without redoing what was done.
    func testInterruptedRunIsCleanAndResumes() throws {
        let binaryPath = builtProduct("wgbench")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binaryPath), "wgbench is not built")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-resume-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: scratch) }
        let testbedFile = scratch.appendingPathComponent("testbed.yaml").path
        try Self.yaml.write(toFile: testbedFile, atomically: true, encoding: .utf8)
        let experiment = scratch.appendingPathComponent("exp.yaml").path
        try """
        name: resume
        repetitions: 2
        order: sequential
        traffic: {duration: 2s, omit: 0s}
        sweep: {tunnels: [1, 2]}
        series: [{name: wg, target: wireguard-go}]
        """.write(toFile: experiment, atomically: true, encoding: .utf8)
        let out = scratch.appendingPathComponent("out").path

        let first = try launch(binaryPath, ["run", experiment, "--testbed", testbedFile, "--out", out])
        let firstResult = URL(fileURLWithPath: out).appendingPathComponent("points/wg/tunnels-1/rep-1/result.json").path
        for _ in 0..<300 where !FileManager.default.fileExists(atPath: firstResult) { usleep(100_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: firstResult))
        first.terminate()
        first.waitUntilExit()
        XCTAssertEqual(first.terminationStatus, 128 + SIGTERM)
        XCTAssertEqual(ResidueCheck.check(hosts: try sshHosts(), testbed: testbed), [])

        let done = try FileManager.default.subpathsOfDirectory(atPath: out).filter { $0.hasSuffix("result.json") }
        XCTAssertLessThan(done.count, 4)
        let stamp = try FileManager.default.attributesOfItem(atPath: firstResult)[.modificationDate] as? Date
        let second = try launch(binaryPath, ["run", "--resume", out, "--testbed", testbedFile])
        second.waitUntilExit()
        XCTAssertEqual(second.terminationStatus, 0)
        let all = try FileManager.default.subpathsOfDirectory(atPath: out).filter { $0.hasSuffix("result.json") }
        XCTAssertEqual(all.count, 4)
        // What the first run finished was not measured again.
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: firstResult)[.modificationDate] as? Date, stamp)
        let record = try ResultStore(directory: URL(fileURLWithPath: out)).readRecord()
        let results = try ResultStore(directory: URL(fileURLWithPath: out)).results(for: record.order)
        XCTAssertTrue(results.allSatisfy { $0.status == .ok && ($0.throughput ?? 0) > 0 })
    }

    private func launch(_ path: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}

extension LocalTestbedTests {
    /// The wireguard-swift target in `wgbench run`: the built daemon, uploaded to the gateways as
    /// the testbed's `upload:` asks, carries traffic through one and two tunnels with both
    /// engines, and nothing is left behind, the uploaded copy included.
    func testWireGuardSwiftTargetCarriesTraffic() throws {
        let testbed = testbedWithBuiltDaemon
        let spec = try ExperimentLoader.parse(yaml: """
        name: swift
        repetitions: 1
        order: sequential
        retries: 0
        traffic: {duration: 2s, omit: 0s}
        sweep: {tunnels: [1, 2]}
        series:
          - {name: swift-inline, target: wireguard-swift, knobs: {engine: inline}}
          - {name: swift-parallel, target: wireguard-swift, knobs: {engine: parallel}}
        """, file: "swift.yaml")
        let (store, record, report) = try runExperiment(spec, file: "swift.yaml", on: testbed)
        XCTAssertEqual(report.residue, [])
        let results = (try store.results(for: record.order))
        XCTAssertEqual(results.count, 4)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/run/wgbench/runs/\(record.id)"), "the uploaded copy is left")
        XCTAssertTrue(try String(contentsOf: store.directory.appendingPathComponent("commands/gw1.log"), encoding: .utf8)
            .contains("/run/wgbench/runs/\(record.id)/wireguard-swift --engine inline wgbit1-1"))
        for result in results {
            XCTAssertEqual(result.status, .ok, "\(result.key.series): \(result.reason ?? "")")
            XCTAssertGreaterThan(result.throughput ?? 0, 1_000_000, result.key.series)
            // The daemons' drop counters were read on both gateways around the traffic.
            XCTAssertEqual(result.drops.map { Set($0.keys) }, ["gw1", "gw2"], "\(result.key): drops not recorded")
        }
    }
}

/// The CLI's shell completion comes from the build.
final class CommandLineTests: XCTestCase {
    func testBashCompletionComesFromTheBuild() throws {
        let binary = builtProduct("wgbench")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--generate-completion-script", "bash"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let script = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertTrue(script.hasPrefix("#!/bin/bash"))
        for command in ["run", "plan", "report", "compare", "history", "testbed"] { XCTAssertTrue(script.contains(command), command) }
    }
}

extension LocalTestbedTests {
    /// `wgbench testbed discover` on the local testbed's four hosts finds its roles' links, each
    /// confirmed by a ping, and writes a file that reads back as the same testbed.
    func testDiscoveryReproducesTheLocalTestbed() throws {
        let testbed = self.testbed
        let hosts = try sshHosts()
        let addresses = Dictionary(uniqueKeysWithValues: HostRole.allCases.map { ($0, testbed.host($0).ssh.address.rawValue) })
        let outcome = try TestbedDiscoverer.discover(hosts: hosts, sshAddresses: addresses, name: "discovered", user: "root",
                                                     identity: testbed.host(.gw1).ssh.identity.rawValue, knownHosts: testbed.knownHosts.rawValue)
        XCTAssertEqual(outcome.links.map(\.confirmed), [true, true, true], outcome.yaml)
        XCTAssertFalse(outcome.yaml.contains("# TODO ") || outcome.yaml.contains("# TODO:"), outcome.yaml)
        let found = try TestbedLoader.parse(yaml: outcome.yaml, file: "discovered.yaml", home: "/root")
        for role in HostRole.allCases {
            XCTAssertEqual(found.host(role).ssh.address, testbed.host(role).ssh.address)
            for link in role.links {
                XCTAssertEqual(found.host(role).interface(link).name, testbed.host(role).interface(link).name, "\(role) \(link)")
                XCTAssertEqual(found.host(role).interface(link).address, testbed.host(role).interface(link).address, "\(role) \(link)")
            }
        }
    }
}

extension LocalTestbedTests {
    /// A series that names its daemon's build (`binary`) with a suffixed name, as the comparison
    /// with upstream wireguard-go does: the tunnel's health checks find that daemon too.
    func testADaemonNamedByTheBinaryKnobIsFoundByTheHealthChecks() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-binary-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let renamed = directory.appendingPathComponent("wireguard-go-renamed").path
        try FileManager.default.createSymbolicLink(atPath: renamed, withDestinationPath: "/usr/bin/wireguard-go")
        let spec = try ExperimentLoader.parse(yaml: """
        name: binary
        repetitions: 1
        retries: 0
        traffic: {duration: 1s, omit: 0s}
        series: [{name: renamed, target: wireguard-go, knobs: {binary: \(renamed)}}]
        """, file: "binary.yaml")
        let (store, record, report) = try runExperiment(spec, file: "binary.yaml", on: testbed)
        XCTAssertEqual(report.failed, 0, "\((try? store.results(for: record.order))?.compactMap(\.reason) ?? [])")
        XCTAssertEqual(report.residue, [])
        XCTAssertTrue(try String(contentsOf: store.url("commands/gw1.log"), encoding: .utf8).contains("wireguard-go-renamed wgbit1-1"))
    }
}
