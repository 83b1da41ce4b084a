import Testing
import WGBenchCore

/// Issue #22, item 1: a swept value becomes part of a folder name here and on the hosts, and
/// nothing it holds may move that folder (a `/`, a `..`), while plain names stay as they were.
struct PathPartEncodingTests {
    /// (#, value, the point's folder name): plain values as they always were, the rest encoded.
    static let cases: [(Int, String, String)] = [
        (1, "2", "binary-2"),
        (2, "wireguard-go", "binary-wireguard-go"),
        (3, "wireguard-go-0.0.20230223", "binary-wireguard-go-0.0.20230223"),
        (4, "/usr/bin/wireguard-go", "binary-%2Fusr%2Fbin%2Fwireguard-go"),
        (5, "/x/../../../../../../tmp/p", "binary-%2Fx%2F..%2F..%2F..%2F..%2F..%2F..%2Ftmp%2Fp"),
        (6, "..", "binary-%2E%2E"),
        (7, ".", "binary-%2E"),
        (8, "a%2Fb", "binary-a%252Fb"),
        (9, "all - first(node(nic))", "binary-all%20-%20first%28node%28nic%29%29"),
        (10, "é\n", "binary-%C3%A9%0A"),
    ]

    @Test(arguments: cases)
    func aValueBecomesOneFolderName(_ row: (Int, String, String)) {
        let point = Point([.init(name: "binary", value: row.1)])
        #expect(point.directoryName == row.2, "case \(row.0)")
        #expect(!point.directoryName.contains("/") && PathPartEncoding.isSafe(point.directoryName), "case \(row.0)")
        let key = RunKey(series: "wg", point: point, repetition: 1)
        #expect(key.directory.split(separator: "/").count == 4 && !key.directory.split(separator: "/").contains(".."), "case \(row.0)")
        #expect(!HostFolders.attempt(runID: "r", key: key, attempt: 1, nonce: "n").dropFirst(HostFolders.run("r").count + 1).contains("/"),
                "case \(row.0)")
    }

    @Test func plainPointsKeepTheirNames() {
        let point = Point([.init(name: "tunnels", value: "2"), .init(name: "flows_per_tunnel", value: "1")])
        #expect(point.directoryName == "tunnels-2_flows_per_tunnel-1")
        #expect(Point([]).directoryName == "default")
        #expect(Point([.init(name: "encrypt_cpus", value: "0-3,8"), .init(name: "engine", value: "inline")]).directoryName
                == "encrypt_cpus-0-3,8_engine-inline")
    }

    @Test func differentValuesNeverShareAFolder() {
        let values = Array(Set(Self.cases.map(\.1) + ["a/b", "a%2Fb", "a%252Fb", String(repeating: "x", count: 300), String(repeating: "x", count: 301)]))
        let names = values.map { Point([.init(name: "binary", value: $0)]).directoryName }
        #expect(Set(names).count == values.count)
    }

    /// A name past the limit keeps its start and a hash of the whole, within NAME_MAX with room for
    /// the host folder's series, repetition, attempt and nonce.
    @Test func aLongValueIsCutToFitAFileName() {
        let long = "/" + String(repeating: "very-long-directory/", count: 200) + "wireguard-go"
        let name = Point([.init(name: "binary", value: long)]).directoryName
        #expect(name.utf8.count == PathPartEncoding.maxBytes && PathPartEncoding.isSafe(name))
        #expect(name.hasPrefix("binary-%2Fvery-long-directory%2F") && name.contains("~"))
        #expect(name == Point([.init(name: "binary", value: long)]).directoryName, "the same value, the same name")
    }

    /// A run of a swept program path can be resumed: run.json's check refuses values that would
    /// climb as folder names, and a path no longer does.
    @Test func aRecordSweepingAProgramPathPassesTheResumeCheck() throws {
        let spec = try ExperimentLoader.parse(yaml: """
        name: t
        repetitions: 1
        sweep: {binary: [/usr/bin/wireguard-go, wireguard-go, "/x/../../../tmp/p"]}
        series: [{name: wg, target: wireguard-go}]
        """, file: "t.yaml")
        let order = RunSchedule.order(spec, seed: 1)
        let record = RunRecord(id: "t-1", experimentFile: "t.yaml", spec: spec, seed: 1, order: order, testbedFile: "tb.yaml",
                               testbedName: "tb", started: .init(timeIntervalSince1970: 0))
        try record.validate(file: "run.json")
        var bad = record
        bad.order[0].point.assignments[0].value = "x\ny"
        #expect(throws: RunRecordError.self) { try bad.validate(file: "run.json") }
        bad.order[0].point.assignments = [.init(name: "tunnels", value: "../..")]
        #expect(throws: RunRecordError.self) { try bad.validate(file: "run.json") }
    }
}
