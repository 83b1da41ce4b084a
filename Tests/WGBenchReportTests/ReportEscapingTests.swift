import Foundation
import Testing
import WGBenchCore
@testable import WGBenchReport

/// What the hosts printed is data: a tool whose `--version` prints markup must not put it into
/// report.html (security review, item 10).
struct ReportEscapingTests {
    static let hostile = "wireguard-tools v1.0<script>alert(1)</script> \"><img src=x onerror=alert(2)>\n"

    /// The recorded run, with gw1's `wg --version` replaced by `output`.
    func run(withWGVersion output: String) throws -> RunDirectory {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-escape-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: RecordedRun.url, to: copy)
        let file = copy.appendingPathComponent("metadata/gw1.json")
        var entries = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as! [[String: Any]]
        for index in entries.indices where entries[index]["name"] as? String == "version_wg" { entries[index]["stdout"] = output }
        try JSONSerialization.data(withJSONObject: entries).write(to: file)
        return try RunDirectory(copy)
    }

    @Test func toolVersionsFromTheHostsCannotInjectMarkup() throws {
        let run = try self.run(withWGVersion: Self.hostile)
        defer { try? FileManager.default.removeItem(at: run.url) }
        let html = HTMLReport.render(run: run, plots: [])
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(html.contains("wg -<br>"))  // gw1: no version it can trust
        #expect(html.contains("wg v1.0.20210914"))  // the other hosts' honest output still shows
    }

    @Test(arguments: [("wireguard-tools v1.0.20210914 - https://git.zx2c4.com/wireguard-tools/", "v1.0.20210914"),
                      ("ip utility, iproute2-6.1.0, libbpf 1.1.2", "6.1.0"),
                      ("wireguard-tools v1.0<b>x</b>", nil), ("iperf 3.12&amp; (cJSON)", nil)])
    func versionsAreVersionCharactersOnly(_ text: String, _ version: String?) {
        #expect(VersionParser.version(text) == version)
    }
}
