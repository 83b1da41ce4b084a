import Foundation
import Testing
@testable import WGBenchCore

/// Issue #23, item 2: a knob is one descriptor, and everything that handles knobs asks it. The
/// parallel engine's `small_batch` was added that way: its case, its descriptor, these tests.
struct KnobDescriptorTests {
    let testbed = try! TestbedLoader.parse(yaml: validLocalTestbed, file: "t.yaml", home: "/h")

    func daemonLine(_ knobs: KnobSettings) throws -> [String] {
        let traffic = TrafficSpec(protocol: .tcp, durationSeconds: 5, omitSeconds: 1, bitrate: 0, basePort: 5201, clientCPUs: [0], serverCPUs: [1])
        let plan = try TrafficPlan(testbed: testbed, traffic: traffic, tunnels: 1, flows: 1, target: .wireguardSwift)
        let topology = HostTopology.uniform(cpus: 4, nodes: 1, nics: ["eth1", "eth2"])
        let placement = try PlacementResolver.resolve(PlacementSpec(), plan: plan, topology: [.gw1: topology, .gw2: topology],
                                                      dataNIC: [.gw1: "eth1", .gw2: "eth2"])
        let start = try #require(TunnelCommands.create(.wireguardSwift, interface: "wgb1-1", role: .gw1, tunnel: 1, knobs: knobs, placement: placement).first)
        return start.argv
    }

    @Test func smallBatchIsAWholeNumberTheParallelDaemonTakes() throws {
        #expect(Knob(rawValue: "small_batch") == .smallBatch)
        #expect(Knob.smallBatch.targets == [.wireguardSwift] && TargetKind.wireguardSwift.knobs.contains(.smallBatch))
        #expect(try Knob.smallBatch.parse("0") == .integer(0) && Knob.smallBatch.parse("64") == .integer(64))
        for bad in ["65", "-1", "four", "", "4.5"] {
            #expect(throws: KnobError.self) { try Knob.smallBatch.parse(bad) }
        }
        #expect((try? Knob.smallBatch.parse("65")) == nil)
        do { _ = try Knob.smallBatch.parse("65") } catch { #expect(error.message == "small_batch takes a whole number from 0 to 64") }
        var knobs = KnobSettings()
        knobs[.engine] = .choice("parallel")
        knobs[.smallBatch] = .integer(8)
        #expect(try daemonLine(knobs) == ["wireguard-swift", "--engine", "parallel", "--small-batch", "8", "wgb1-1"])
        knobs[.smallBatch] = nil
        #expect(try !daemonLine(knobs).contains("--small-batch"), "unset: the daemon's own default")
    }

    @Test func anExperimentSetsAndSweepsSmallBatchAndABadValueNamesFileLineAndKey() throws {
        let spec = try ExperimentLoader.parse(yaml: """
            name: t
            sweep: {small_batch: [0, 4, 16]}
            series:
              - {name: p, target: wireguard-swift, knobs: {engine: parallel, small_batch: 8}}
            """, file: "e.yaml")
        #expect(spec.series[0].knobs[.smallBatch] == .integer(8))
        let point = try #require(Sweep.points(spec.sweep).last)
        #expect(try point.knobs(for: spec.series[0])[.smallBatch] == .integer(16))
        do {
            _ = try ExperimentLoader.parse(yaml: """
                name: t
                series:
                  - name: p
                    target: wireguard-swift
                    knobs: {small_batch: 100}
                """, file: "e.yaml")
            Issue.record("small_batch 100 was accepted")
        } catch let error as SpecError {
            #expect(error.file == "e.yaml" && error.line == 5 && error.description.contains("small_batch"), "\(error)")
        }
        // A kernel series has no small_batch: refused, not ignored.
        #expect(throws: SpecError.self) {
            try ExperimentLoader.parse(yaml: "name: t\nseries:\n  - {name: k, target: kernel, knobs: {small_batch: 4}}\n", file: "e.yaml")
        }
    }

    /// Every descriptor is whole: help, defaults only for its own targets, and an application on
    /// each target that is of the kind's sort.
    @Test(arguments: Knob.allCases)
    func eachDescriptorIsConsistent(_ knob: Knob) throws {
        let descriptor = knob.descriptor
        #expect(!descriptor.help.isEmpty && !descriptor.targets.isEmpty)
        #expect(Set(descriptor.defaults.keys).isSubset(of: descriptor.targets))
        for target in descriptor.targets {
            switch (knob.application(for: target), knob.kind) {
            case (.sysfs, .flag), (.daemonSwitch, .flag), (.cryptoMask, .cpus), (.daemonCPUs, .cpus), (.taskset, .cpus),
                 (.daemonOption, .choice), (.daemonOption, .integer), (.program, .program), (.logLevel, .choice):
                break
            case (let application, let kind):
                Issue.record("\(knob) on \(target): \(application) cannot apply a \(kind)")
            }
            if case .sysfs = knob.application(for: target) { #expect(target == .kernel) }
        }
        if let value = descriptor.defaults.values.first { #expect(try knob.parse(value.description) == value) }
    }

    @Test func theKernelsFilesComeFromTheDescriptors() {
        #expect(Knob.kernelFlags.map(\.file) == ["threaded", "inline_en"])
        #expect(Knob.kernelMasks.map(\.file) == ["encrypt_cpumask", "decrypt_cpumask"])
    }

    @Test func runJSONKeepsKnobsTypedAndReadsTheTextOfFormatTwo() throws {
        var knobs = KnobSettings()
        knobs[.threaded] = .flag(true)
        knobs[.smallBatch] = .integer(8)
        knobs[.engine] = .choice("inline")
        knobs[.encryptCPUs] = try Knob.encryptCPUs.parse("gw1: 0-3; gw2: all")
        let json = try JSONEncoder().encode(knobs)
        let object = try #require(JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["threaded"] as? Bool == true)
        #expect(object["small_batch"] as? Int == 8)
        #expect(object["engine"] as? String == "inline")
        #expect(try JSONDecoder().decode(KnobSettings.self, from: json) == knobs)
        // Format 2 kept every value as text.
        let old = try JSONDecoder().decode(KnobSettings.self, from: Data(#"{"threaded": "1", "inline_en": "0"}"#.utf8))
        #expect(old[.threaded] == .flag(true) && old[.inlineEnabled] == .flag(false))
    }

    @Test func anUnknownKnobInRunJSONIsRefusedNamingIt() throws {
        do {
            _ = try JSONDecoder().decode(KnobSettings.self, from: Data(#"{"threaded": true, "turbo_boost": "1"}"#.utf8))
            Issue.record("an unknown knob was dropped")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription.contains("unknown knob 'turbo_boost'"))
        }
        // A wrong type for a known knob is refused too.
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(KnobSettings.self, from: Data(#"{"engine": true}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(KnobSettings.self, from: Data(#"{"small_batch": 65}"#.utf8)) }
        // Format 1's names, which every result records as read back, are still skipped.
        #expect(try JSONDecoder().decode(KnobSettings.self, from: Data(#"{"serial_work_cpus": "3"}"#.utf8)).isEmpty)
    }
}

/// A swept count that is not one was read as 1 (`Int(..) ?? 1`): a run would have measured one
/// tunnel under the name of another count.
struct PointCountTests {
    @Test func aSweptCountThatIsNoCountIsAnErrorNotOne() throws {
        #expect(try Point([]).counts() == (1, 1))
        #expect(try Point([.init(name: "tunnels", value: "4"), .init(name: "flows_per_tunnel", value: "2")]).counts() == (4, 8))
        #expect(try Point([.init(name: "tunnels", value: "4"), .init(name: "flows", value: "3")]).counts() == (4, 3))
        for bad in ["x", "0", "-2", "1.5"] {
            #expect(throws: PointError.self) { try Point([.init(name: "tunnels", value: bad)]).counts() }
            #expect(throws: PointError.self) { try Point([.init(name: "flows_per_tunnel", value: bad)]).counts() }
        }
    }
}
