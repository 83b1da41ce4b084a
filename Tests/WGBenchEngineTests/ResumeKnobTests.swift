import Foundation
import Testing
import WGBenchCore
@testable import WGBenchEngine

/// `--resume` reads run.json back: a knob this wgbench does not know is refused with its name,
/// never dropped (a run resumed without it would measure something else under the same name).
struct ResumeKnobTests {
    @Test func aRunJSONWithAnUnknownKnobIsRefusedOnResume() throws {
        let testbed = try TestbedLoader.parse(yaml: ExperimentRunnerTests.testbedYAML, file: "fake.yaml")
        let spec = try ExperimentRunnerTests.spec(series: "  - {name: p, target: wireguard-swift, knobs: {engine: parallel, small_batch: 8}}")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-resume-knob-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try ResultStore(directory: directory)
        try store.writeRecord(ExperimentRunner.newRecord(spec: spec, experimentFile: "t.yaml", testbed: testbed))
        let read = try ResultStore.readRecord(in: directory)
        #expect(read.spec.series[0].knobs[.smallBatch] == .integer(8))

        let file = directory.appendingPathComponent("run.json")
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains("\"small_batch\" : 8"), "typed in run.json")
        try text.replacingOccurrences(of: "\"small_batch\" : 8", with: "\"small_batch\" : 8, \"turbo\" : \"1\"")
            .write(to: file, atomically: true, encoding: .utf8)
        #expect { try ResultStore.readRecord(in: directory) } throws: { "\($0)".contains("unknown knob 'turbo'") }
    }
}
