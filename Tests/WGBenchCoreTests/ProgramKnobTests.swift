import Testing
@testable import WGBenchCore

/// Issue #22, item 9: `binary` names the daemon's executable and becomes the first word `env` runs
/// on the gateways, so it is a path or a bare program name and nothing else: `LD_PRELOAD=/x.so`
/// there was an environment assignment, and the daemon ran with a library of the file's choosing.
struct ProgramKnobTests {
    /// (#, value, accepted)
    static let cases: [(Int, String, Bool)] = [
        (1, "wireguard-go", true),
        (2, "wireguard-go-0.0.20230223", true),
        (3, "wireguard_swift+dbg", true),
        (4, "/usr/bin/wireguard-go", true),
        (5, "/opt/wireguard-go-f333402", true),
        (6, "/x/../../tmp/wireguard-go", true),  // a path; where it points is the file's business, not a climb out of a folder
        (7, "LD_PRELOAD=/x.so", false),
        (8, "/x/LD_PRELOAD=y", false),
        (9, "wireguard-go;reboot", false),
        (10, "$(reboot)", false),
        (11, "`reboot`", false),
        (12, "wire*", false),
        (13, "a|b", false),
        (14, "a b", false),
        (15, "a\tb", false),
        (16, "a\nb", false),
        (17, "-f", false),
        (18, "", false),
        (19, "..", false),
        (20, "relative/wireguard-go", false),
        (21, "~/wireguard-go", false),
        (22, "/usr/bin/", false),
        (23, "/usr//bin/wireguard-go", false),
        (24, "/", false),
        (25, "wïreguard", false),
        (26, "/" + String(repeating: "a", count: 4095), false),
    ]

    @Test(arguments: cases)
    func aBinaryIsAPathOrAProgramName(_ row: (Int, String, Bool)) {
        let parsed = try? Knob.binary.parse(row.1)
        #expect((parsed != nil) == row.2, "case \(row.0): '\(row.1)'")
        if row.2 { #expect(parsed == .program(row.1), "case \(row.0)") }
    }

    /// The refusal names the file, line and key, as every bad value of an experiment file does,
    /// for a series' knob and for a swept one.
    @Test func theRefusalIsLocated() {
        let series = """
        name: x
        series:
          - name: go
            target: wireguard-go
            knobs: {binary: "LD_PRELOAD=/x.so"}
        """
        #expect {
            _ = try ExperimentLoader.parse(yaml: series, file: "e.yaml")
        } throws: { error in
            guard let error = error as? SpecError else { return false }
            return error.file == "e.yaml" && error.line == 5 && error.keyPath == "series.[0].knobs.binary"
                && error.message.contains("not 'LD_PRELOAD=/x.so'")
        }
        let sweep = """
        name: x
        sweep:
          binary: [wireguard-go, "LD_PRELOAD=/x.so"]
        series: [{name: go, target: wireguard-go}]
        """
        #expect {
            _ = try ExperimentLoader.parse(yaml: sweep, file: "e.yaml")
        } throws: { error in
            guard let error = error as? SpecError else { return false }
            return error.file == "e.yaml" && error.line == 3 && error.keyPath == "sweep.binary.[1]"
                && error.message.contains("absolute path or a program name")
        }
    }
}
