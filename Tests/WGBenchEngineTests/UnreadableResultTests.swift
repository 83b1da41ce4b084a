import Foundation
import Testing
import WGBenchCore
import WGBenchRemote
@testable import WGBenchEngine

/// Issue #23, part 3: a result.json that is there but cannot be read is not "not measured". A
/// resume refuses before it touches a host, names the file, and leaves it as it found it.
struct UnreadableResultTests {
    @Test func resumeRefusesAResultItCannotReadAndLeavesTheFileAlone() throws {
        let lab = recordedLab()
        let spec = try RunResilienceTests.spec()
        let first = try RunResilienceTests.runner(spec, lab: lab)
        #expect(try first.run().executed == 4)
        let file = first.store.url(first.record.order[1].directory + "/result.json")
        let corrupt = Data("{\"key\": {\"series\": ".utf8)
        try corrupt.write(to: file)
        let commands = HostRole.allCases.map { lab.commands($0).count }

        let second = try RunResilienceTests.runner(spec, lab: lab, store: first.store)
        #expect {
            try second.run()
        } throws: { error in
            "\(error)".contains(file.path) && "\(error)".contains("not measured again")
        }
        #expect(try Data(contentsOf: file) == corrupt)
        #expect(HostRole.allCases.map { lab.commands($0).count } == commands)
    }

    @Test func resumeMeasuresAResultThatIsMissing() throws {
        let lab = recordedLab()
        let spec = try RunResilienceTests.spec()
        let first = try RunResilienceTests.runner(spec, lab: lab)
        _ = try first.run()
        try FileManager.default.removeItem(at: first.store.url(first.record.order[1].directory + "/result.json"))
        let second = try RunResilienceTests.runner(spec, lab: lab, store: first.store)
        let report = try second.run()
        #expect(report.executed == 1 && report.stop == nil)
    }
}
