import Foundation
import Testing
import WGBenchCore
import WGBenchRemote
@testable import WGBenchEngine
import WGBenchSimulation

/// Issue #22, item 1: a swept value is part of folder names in the result directory and on the
/// hosts; a value that climbs (`/x/../../../tmp/p`) must stay inside both, `wgbench plan` must
/// write nothing at all, and an honest swept path (`/usr/bin/wireguard-go`) must resume.
struct SweptPathTests {
    static func spec(binaries: [String]) throws -> ExperimentSpec {
        try ExperimentLoader.parse(yaml: """
        name: t
        repetitions: 1
        order: sequential
        seed: 1
        traffic: {duration: 1s, omit: 0s}
        sweep: {binary: [\(binaries.map { "\"\($0)\"" }.joined(separator: ", "))]}
        series:
          - {name: wg, target: wireguard-go}
        """, file: "t.yaml")
    }

    static func scratch() throws -> URL {
        let url = URL(fileURLWithPath: "/tmp/wgb-swept-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Every host folder of the run named in the plan's commands, as the hosts would resolve it.
    static func hostPaths(in text: String) -> [String] {
        text.components(separatedBy: HostFolders.run("plan")).dropFirst().map { rest in
            HostFolders.run("plan") + rest.prefix { $0 != " " && $0 != "'" && $0 != "\"" && $0 != "\n" }
        }
    }

    @Test func aPlanOfAClimbingValueWritesNothingAndKeepsTheHostsFoldersInTheRun() throws {
        let target = "/tmp/wgb-swept-escape-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: target) }
        let value = "/x/../../../../../../../../..\(target)/wireguard-go"
        let testbed = try TestbedLoader.parse(yaml: ExperimentRunnerTests.testbedYAML, file: "fake.yaml")
        let text = try Planner.plan(spec: try Self.spec(binaries: [value, "wireguard-go"]), experimentFile: "t.yaml",
                                    testbed: testbed, cpus: 4, numaNodes: 1)
        #expect(!FileManager.default.fileExists(atPath: target), "the plan wrote \(target)")
        let paths = Self.hostPaths(in: text)
        #expect(paths.contains { $0.contains("binary-%2Fx%2F..%2F") })
        #expect(paths.allSatisfy { !$0.split(separator: "/").contains("..") }, "\(paths.filter { $0.contains("/../") })")
    }

    /// Before: the second value's attempt emptied the folder its name climbed to (every raw file
    /// but result.json) and then wrote its result.json there.
    @Test func aRunNeverTouchesFilesOutsideItsDirectory() throws {
        let base = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: base) }
        let victim = base.appendingPathComponent("victim/wireguard-go/rep-1")
        try FileManager.default.createDirectory(at: victim, withIntermediateDirectories: true)
        for file in ["result.json", "client-0.json"] { try Data("theirs".utf8).write(to: victim.appendingPathComponent(file)) }
        let store = try ResultStore(directory: base.appendingPathComponent("run"))
        let spec = try Self.spec(binaries: ["/x/../../../../../victim/wireguard-go-a", "/x/../../../../../victim/wireguard-go"])
        let lab = recordedLab()
        let runner = try RunResilienceTests.runner(spec, lab: lab, store: store)
        _ = try runner.run()
        for file in ["result.json", "client-0.json"] {
            #expect(try String(contentsOf: victim.appendingPathComponent(file), encoding: .utf8) == "theirs", "\(file) was changed")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: base.path).sorted() == ["run", "victim"])
        #expect((try store.results(for: runner.record.order)).count == 2)
    }

    /// Before: run.json's check refused the `/` in the recorded point, so the run could not resume.
    @Test func aSweptProgramPathResumes() throws {
        let base = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: base) }
        let store = try ResultStore(directory: base)
        let lab = recordedLab(), secondLab = recordedLab()
        let first = try RunResilienceTests.runner(try Self.spec(binaries: ["/usr/bin/wireguard-go", "wireguard-go"]),
                                                  lab: lab, store: store)
        _ = try first.run()
        try FileManager.default.removeItem(at: store.url(store.resultPath(first.record.order[0])))
        let record = try store.readRecord()
        let again = ExperimentRunner(testbed: try RunResilienceTests.testbed(), hosts: secondLab.remoteHosts, store: store, record: record)
        #expect((try again.pending) == [first.record.order[0]])
        #expect(store.exists("points/wg/binary-%2Fusr%2Fbin%2Fwireguard-go/rep-1/client-0.json"))
    }

    /// The store `wgbench plan` runs on keeps its files in memory: nothing appears on disk.
    @Test func anInMemoryStoreKeepsEverythingInMemory() throws {
        let store = ResultStore.inMemory()
        try store.write("{}", to: "points/wg/x/rep-1/result.json")
        try store.write("1", to: "points/wg/x/rep-1/client-0.json")
        store.append("a line", to: "commands/gw1.log")
        #expect(store.exists("points/wg/x") && store.exists("points/wg/x/rep-1/result.json") && !store.exists("points/wg/y"))
        #expect(store.contents(of: "points/wg/x/rep-1") == ["client-0.json", "result.json"])
        store.remove("points/wg/x/rep-1/client-0.json")
        #expect(store.contents(of: "points/wg/x/rep-1") == ["result.json"])
        #expect(String(decoding: try store.read("commands/gw1.log"), as: UTF8.self) == "a line\n")
        #expect(!FileManager.default.fileExists(atPath: store.directory.path))
    }
}
