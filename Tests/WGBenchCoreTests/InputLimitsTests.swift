import Foundation
import Testing
@testable import WGBenchCore

/// Oversized and hostile input is refused with its file and line, before anything is expanded.
struct InputLimitsTests {
    func scratchFile(_ data: Data) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-limits-\(UUID().uuidString).yaml").path
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    func specError(_ body: () throws -> Void) -> SpecError? {
        do { try body(); return nil } catch { return error as? SpecError }
    }

    @Test func aFileOverOneMebibyteIsRefusedWithoutParsingIt() throws {
        let path = try scratchFile(Data(("name: x\n" + "#" + String(repeating: "x", count: InputLimits.maxFileBytes) + "\n").utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = specError { _ = try ExperimentLoader.load(path: path) }
        #expect(error?.file == path && error?.line == 1)
        #expect(error?.message.contains("larger than 1024 KiB") == true, "\(String(describing: error))")
        let testbed = specError { _ = try TestbedLoader.load(path: path) }
        #expect(testbed?.message.contains("larger than") == true)
    }

    @Test func aDeviceThatNeverEndsCostsOneMebibyte() {
        let error = specError { _ = try ExperimentLoader.load(path: "/dev/zero") }
        #expect(error?.message.contains("larger than") == true, "\(String(describing: error))")
    }

    @Test func binaryGarbageIsLocatedAtItsByte() throws {
        let path = try scratchFile(Data("name: x\nseries: \u{1}".utf8.dropLast()) + Data([0x41, 0xff, 0xfe, 0x00]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(specError { _ = try ExperimentLoader.load(path: path) })
        #expect(error.line == 2 && error.column == 10, "\(error)")
        #expect(error.message.contains("not UTF-8 text: byte 0xff"), "\(error)")
    }

    @Test func aControlCharacterIsLocatedNotReportedAtTheStart() throws {
        let error = try #require(specError { _ = try ExperimentLoader.parse(yaml: "name: x\nseries: a\u{1}b\n", file: "c.yaml") })
        #expect(error.line == 2 && error.column == 10, "\(error)")
        #expect(error.description.hasPrefix("c.yaml:2:10: not valid YAML"), "\(error)")
    }

    /// Nine levels of ten aliases each would be a billion nodes to walk.
    @Test func anAliasBombIsRefusedAtTheKeyThatExpandsIt() throws {
        var yaml = "name: x\nlol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            yaml += "lol\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let error = try #require(specError { _ = try SpecNode.parse(yaml: yaml, file: "bomb.yaml") })
        #expect(error.file == "bomb.yaml" && error.line == 5, "\(error)")  // lol3: 1,110 nodes in, lol4 passes 10,000
        #expect(error.message.contains("aliases here expand to more than 10000 nodes"), "\(error)")
    }

    @Test func reusingABlockWithAnAliasIsFine() throws {
        let spec = try ExperimentLoader.parse(yaml: """
        name: x
        series:
          - {name: a, target: wireguard-swift, knobs: &k {engine: inline, offload: 0}}
          - {name: b, target: wireguard-swift, knobs: *k}
          - {name: c, target: wireguard-swift, knobs: *k}
        """, file: "ok.yaml")
        #expect(spec.series.count == 3)
    }

    @Test func moreThanTenThousandPointsAreRefusedAtTheSeriesOrTheSweep() throws {
        let many = (0...InputLimits.maxPoints).map { "{name: s\($0), target: plain}" }.joined(separator: ", ")
        let series = try #require(specError { _ = try ExperimentLoader.parse(yaml: "name: x\nrepetitions: 1\nseries: [\(many)]\n", file: "big.yaml") })
        #expect(series.line == 3 && series.message.contains("10001 series x 1 sweep points is more than 10000 points"), "\(series)")

        let flows = (1...101).map(String.init).joined(separator: ", ")
        let hundred = (0..<100).map { "{name: s\($0), target: plain}" }.joined(separator: ", ")
        let sweep = try #require(specError {
            _ = try ExperimentLoader.parse(yaml: "name: x\nsweep: {flows: [\(flows)]}\nseries: [\(hundred)]\n", file: "sweep.yaml")
        })
        #expect(sweep.line == 2 && sweep.message.contains("100 series x 101 sweep points"), "\(sweep)")
    }

    @Test func moreThanAHundredThousandRepetitionsAreRefusedAtRepetitions() throws {
        let flows = (1...101).map(String.init).joined(separator: ", ")
        let error = try #require(specError {
            _ = try ExperimentLoader.parse(yaml: "name: x\nsweep: {flows: [\(flows)]}\nrepetitions: 1000\nseries: [{name: p, target: plain}]\n",
                                           file: "reps.yaml")
        })
        #expect(error.line == 3 && error.message.contains("101 points x 1000 repetitions"), "\(error)")
    }

    @Test func includesAreCountedInAll() throws {
        let error = try #require(specError {
            _ = try ExperimentLoader.parse(yaml: "name: x\ninclude: [m.yaml]\nseries: [{name: p, target: plain}]", file: "dir/main.yaml") { path, _ in
                path.hasSuffix("m.yaml") ? "include: [" + Array(repeating: "a.yaml", count: 70).joined(separator: ", ") + "]\n" : "repetitions: 1\n"
            }
        })
        #expect(error.file == "dir/m.yaml" && error.message.contains("more than 64 included files"), "\(error)")
    }

    @Test func durationsAreBoundedAndSayWhy() throws {
        #expect(SpecDuration(specText: "99999999h") == nil)
        #expect(SpecDuration(specText: "1e300s") == nil)
        #expect(SpecDuration(specText: "24h")?.milliseconds == 86_400_000)
        let error = try #require(specError {
            _ = try ExperimentLoader.parse(yaml: "name: x\ntraffic: {duration: 99999999h}\nseries: [{name: p, target: plain}]", file: "d.yaml")
        })
        #expect(error.description == "d.yaml:2:21: traffic.duration: '99999999h' is not a duration with a unit (e.g. 500ms, 5s, 2m, 1h) of at most 24h")
    }
}
