import Foundation
import Testing
@testable import WGBenchCore

struct ExperimentLoaderTests {
    static let base = """
    repetitions: 3
    traffic:
      duration: 10s
      omit: 2s
    sampling:
      interval: 500ms
    """

    func parse(_ yaml: String, files: [String: String] = [:]) throws -> ExperimentSpec {
        try ExperimentLoader.parse(yaml: yaml, file: "dir/main.yaml") { path, node in
            guard let text = files[path] else { throw node.error("no such file \(path)") }
            return text
        }
    }

    func error(_ yaml: String, files: [String: String] = [:]) -> SpecError? {
        do { _ = try parse(yaml, files: files); return nil } catch { return error as? SpecError }
    }

    @Test func defaultsAreThoseOfThePaper() throws {
        let spec = try parse("name: x\nseries: [{name: p, target: plain}]")
        #expect(spec.repetitions == 10)
        #expect(spec.order == .shuffled)
        #expect(spec.traffic.protocol == .tcp)
        #expect(spec.sampling.hosts == [.gw1, .gw2])
        #expect(spec.placement.steering == .auto)
        #expect(Sweep.points(spec.sweep).map(\.id) == ["default"])
    }

    @Test func includesMergeSectionsKeyByKeyAndTheIncludingFileWins() throws {
        let spec = try parse("""
        name: fig
        include: base.yaml
        traffic: {omit: 1s}
        series: [{name: p, target: plain}]
        """, files: ["dir/base.yaml": Self.base])
        #expect(spec.repetitions == 3)
        #expect(spec.traffic.durationSeconds == 10)
        #expect(spec.traffic.omitSeconds == 1)
        #expect(spec.sampling.intervalMilliseconds == 500)
        #expect(spec.includes == ["dir/base.yaml"])
    }

    @Test func errorsInAnIncludedFileNameThatFile() {
        let found = error("name: x\ninclude: [base.yaml]\nseries: [{name: p, target: plain}]",
                          files: ["dir/base.yaml": "traffic:\n  duraton: 5s\n"])
        #expect(found?.file == "dir/base.yaml")
        #expect(found?.line == 2)
        #expect(found?.keyPath == "traffic.duraton")
    }

    @Test func includeCyclesAreRefused() {
        let found = error("name: x\ninclude: a.yaml\nseries: [{name: p, target: plain}]",
                          files: ["dir/a.yaml": "include: main.yaml\n"])
        #expect(found?.message.contains("include cycle") == true)
    }

    @Test func sweepExpandsAsACrossProduct() throws {
        let spec = try parse("""
        name: x
        sweep: {tunnels: [1, 2], threaded: [0, 1]}
        series: [{name: k, target: kernel}]
        """)
        #expect(Sweep.points(spec.sweep).map(\.id) == ["tunnels=1,threaded=0", "tunnels=1,threaded=1",
                                                        "tunnels=2,threaded=0", "tunnels=2,threaded=1"])
        let point = Sweep.points(spec.sweep)[3]
        #expect(try point.knobs(for: spec.series[0]) == KnobSettings([.threaded: .flag(true)]))
        #expect(point.tunnels == 2 && point.flows == 2)
        #expect(point.directoryName == "tunnels-2_threaded-1")
    }

    @Test(arguments: [
        ("name: x\nseries: [{name: p, target: plane}]", "series.[0].target", "'plane' is not one of"),
        ("name: x\nseries: [{name: p, target: plain, knobs: {threaded: 1}}]", "series.[0].knobs.threaded", "not a knob of target plain"),
        ("name: x\nseries: [{name: k, target: kernel, knobs: {threaded: 2}}]", "series.[0].knobs.threaded", "takes 0 or 1"),
        ("name: x\nseries: [{name: k, target: kernel, knobs: {encrypt_cpumask: ff}}]", "series.[0].knobs.encrypt_cpumask", "not a knob of target kernel"),
        ("name: x\nseries: [{name: k, target: kernel, knobs: {encrypt_cpus: 'ff;rm'}}]", "series.[0].knobs.encrypt_cpus", "not a CPU set"),
        ("name: x\nseries: [{name: k, target: kernel, knobs: {encrypt_cpus: 'all-rx'}}]", "series.[0].knobs.encrypt_cpus", "put spaces around"),
        ("name: x\nseries: [{name: k, target: kernel, knobs: {decrypt_cpus: {gw3: all}}}]", "series.[0].knobs.decrypt_cpus.gw3", "unknown key 'gw3'"),
        ("name: x\nseries: [{name: k, target: kernel, knobs: {decrypt_cpus: 'node(2'}}]", "series.[0].knobs.decrypt_cpus", "expected ')'"),
        ("name: x\nplacement: {rx_tun: {gw2: 'all - rx'}}\nseries: [{name: p, target: plain}]", "placement", "placed first"),
        ("name: x\nplacement: {flow_rx_cpus: '1-3'}\nseries: [{name: p, target: plain}]", "placement.flow_rx_cpus", "unknown key"),
        ("name: x\nseries: [{name: k, target: kernel, placement: {steering: off}}]", "series.[0].placement.steering", "unknown key"),
        ("name: x\nseries: [{name: k, target: kernel, placement: {colocate: maybe}}]", "series.[0].placement.colocate", "true or false"),
        ("name: x\nseries: [{name: p, target: plain}, {name: p, target: plain}]", "series.[1].name", "defined twice"),
        ("name: x\nsweep: {tunels: [1]}\nseries: [{name: p, target: plain}]", "sweep.tunels", "not a sweep variable"),
        ("name: x\nsweep: {tunnels: [0]}\nseries: [{name: p, target: plain}]", "sweep.tunnels.[0]", "out of range"),
        ("name: x\nsweep: {flows: 2, flows_per_tunnel: 1}\nseries: [{name: p, target: plain}]", "sweep.flows", "not both"),
        ("name: x\ntraffic: {duration: 1.5s}\nseries: [{name: p, target: plain}]", "traffic.duration", "whole seconds"),
        ("name: x\ntraffic: {protocol: sctp}\nseries: [{name: p, target: plain}]", "traffic.protocol", "not one of tcp, udp"),
        ("name: x\nsampling: {hosts: [gw3]}\nseries: [{name: p, target: plain}]", "sampling.hosts.[0]", "not a host role"),
        ("name: x\nplacement: {steering: maybe}\nseries: [{name: p, target: plain}]", "placement.steering", "not one of off, auto, required"),
        ("name: x\nrepetitions: 0\nseries: [{name: p, target: plain}]", "repetitions", "out of range"),
        ("name: x\nseries: []", "series", "at least one"),
        ("name: 'x; reboot'\nseries: [{name: p, target: plain}]", "name", "is not a name"),
        ("name: x\ncolour: red\nseries: [{name: p, target: plain}]", "colour", "unknown key"),
    ])
    func malformedFilesAreLocated(_ yaml: String, _ keyPath: String, _ message: String) {
        let found = error(yaml)
        #expect(found?.keyPath == keyPath, "\(String(describing: found))")
        #expect(found?.message.contains(message) == true, "\(String(describing: found))")
        #expect(found?.file == "dir/main.yaml")
    }

    /// Every experiment file in experiments/ (and its subfolders) loads; every mixin is used.
    @Test func everyShippedExperimentLoads() throws {
        let directory = Fixture.repositoryRoot.appendingPathComponent("experiments")
        let files = try FileManager.default.subpathsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
        let mixins = Set(files.filter { $0.hasPrefix("mixins/") }.map { directory.appendingPathComponent($0).standardized.path })
        var included = Set<String>()
        for file in files where !file.hasPrefix("mixins/") {
            let spec = try ExperimentLoader.load(path: directory.appendingPathComponent(file).path)
            #expect(!spec.series.isEmpty, "\(file)")
            // Every figure, the paper's and its local counterpart, says what the paper claims.
            if file.contains("fig") { #expect(!spec.claims.isEmpty, "\(file) has no claims") }
            included.formUnion(spec.includes.map { URL(fileURLWithPath: $0).standardized.path })
        }
        #expect(files.contains("smoke.yaml") && files.contains("fig8.yaml") && files.contains("local/fig8.yaml"))
        #expect(mixins.isSubset(of: included), "unused mixins: \(mixins.subtracting(included))")
    }

    @Test func relativeIncludesMayClimbButAbsoluteOnesMayNot() {
        #expect(IncludePath(specText: "../mixins/local.yaml") != nil)
        #expect(IncludePath(specText: "/etc/../shadow") == nil)
        #expect(IncludePath(specText: "a/../../b") == nil)
    }

    @Test func shuffledOrderIsSeededKeepsSeriesTogetherAndCoversEverything() throws {
        let spec = try parse("name: x\nrepetitions: 3\norder: shuffled\nsweep: {tunnels: [1, 2, 4]}\nseries: [{name: a, target: plain}, {name: b, target: plain}]")
        let one = RunSchedule.order(spec, seed: 1), again = RunSchedule.order(spec, seed: 1), other = RunSchedule.order(spec, seed: 2)
        #expect(one == again)
        #expect(one != other)
        #expect(one.count == 18 && Set(one).count == 18)
        let seriesChanges = zip(one, one.dropFirst()).filter { $0.series != $1.series }.count
        #expect(seriesChanges == 1)
        var sequential = spec
        sequential.order = .sequential
        #expect(RunSchedule.order(sequential, seed: 1).prefix(3).map(\.repetition) == [1, 2, 3])
    }
}
