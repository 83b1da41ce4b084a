import Foundation
import Testing
import WGBenchCore
@testable import WGBenchReport

/// `wgbench history` over a directory of nightly runs: ordered by time, each run compared with
/// the previous one, a seeded regression marked and linked to its run, CSV beside the page.
struct HistoryTests {
    static let yaml = """
    name: nightly
    repetitions: 4
    baseline: go
    sweep: {tunnels: [1, 2]}
    series: [{name: swift, target: wireguard-swift}, {name: go, target: wireguard-go}]
    """

    /// Four nights; the machine drifts between nights; on night 3 (commit c3) swift loses 25% against go at 2 tunnels.
    static func nights() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-history-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let machine = [1.8, 1.5, 1.6, 1.9]
        let wobble = [0.01, -0.015, 0.02, -0.005]
        // Named so that the names' order is not the time order: the history sorts by start time.
        for (night, name) in ["d-night", "a-night", "c-night", "b-night"].enumerated() {
            let run = try SyntheticRun(yaml: yaml, in: directory, name: name,
                                       started: Date(timeIntervalSince1970: 1_800_000_000 + Double(night) * 86_400), commit: "c\(night + 1)")
            for round in 1...4 {
                for tunnels in ["1", "2"] {
                    let go = machine[night] * (1 + wobble[round - 1])
                    let speedup = night == 2 && tunnels == "2" ? 1.3 * 0.75 : 1.3
                    try run.add(series: "go", point: ["tunnels": tunnels], repetition: round, gbps: go)
                    try run.add(series: "swift", point: ["tunnels": tunnels], repetition: round, gbps: go * speedup * (1 - wobble[round - 1] / 2))
                }
            }
        }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("not-a-run"), withIntermediateDirectories: true)
        return directory
    }

    @Test func aSeededRegressionIsMarkedOnItsNightAndNothingElse() throws {
        let directory = try Self.nights()
        defer { try? FileManager.default.removeItem(at: directory) }
        let history = try History.build(directory: directory, thresholdPercent: 5)
        #expect(history.runs.map(\.commit) == ["c1", "c2", "c3", "c4"] && history.runs.map(\.name) == ["d-night", "a-night", "c-night", "b-night"])
        let marked = history.lines.flatMap { line in line.entries.filter { $0.regression }.map { (line, $0) } }
        #expect(marked.count == 1, "\(marked.map { "\($0.0.series) \($0.0.point) run \($0.1.run)" })")
        #expect(marked.first?.0.series == "swift" && marked.first?.0.point == "tunnels=2" && marked.first?.1.run == 2)
        // Night 4 recovers: an improvement over night 3, at the same point.
        let recovered = history.lines.first { $0.series == "swift" && $0.point == "tunnels=2" }?.entries.last
        #expect(recovered?.improvement == true)
        // go's own drift between nights (1.8 -> 1.5) is not judged.
        #expect(history.lines.filter { $0.series == "go" }.flatMap(\.entries).allSatisfy { !$0.regression })

        let out = directory.appendingPathComponent("history")
        let html = try String(contentsOf: try HistoryWriter.write(history, title: "nightly", to: out), encoding: .utf8)
        #expect(html.contains("class=\"mark regression\"") && html.contains("href=\"./c-night/report/report.html\""))
        #expect(html.contains("▼ regression</td><td><a href=\"./c-night/report/report.html\">c-night</a></td><td>c3</td>"))
        let csv = try String(contentsOf: out.appendingPathComponent("history.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 1 + 4 * 4)
        #expect(csv.contains("c-night,2027-01-17T") && csv.contains(",c3,") && csv.contains(",regression\n"))
    }

    /// Issue #22, item 3: a link is built from a directory's name, which a file name can make
    /// anything; as written, a run named `javascript:alert(1)` linked to script. Every link is now
    /// `./` and the name as one percent-encoded segment, which still leads to that directory.
    @Test func aRunsNameCannotMakeItsLinkAnythingButARelativePath() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-history-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let names = ["javascript:alert(1)", "a \"b\"#c?d&e", "%2e%2e", "night-1"]
        for (night, name) in names.enumerated() {
            let run = try SyntheticRun(yaml: Self.yaml, in: directory, name: name,
                                       started: Date(timeIntervalSince1970: 1_800_000_000 + Double(night) * 86_400))
            for tunnels in ["1", "2"] {
                try run.add(series: "go", point: ["tunnels": tunnels], repetition: 1, gbps: 1)
                try run.add(series: "swift", point: ["tunnels": tunnels], repetition: 1, gbps: night == 3 ? 0.5 : 1)
            }
        }
        let html = HistoryPage.render(try History.build(directory: directory, thresholdPercent: 5), title: "t")
        let links = html.components(separatedBy: "href=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        #expect(links.count >= names.count)
        #expect(links.allSatisfy { $0.hasPrefix("./") && $0.hasSuffix("/report/report.html") }, "\(links)")
        #expect(links.contains("./javascript%3Aalert%281%29/report/report.html"))
        for link in links {
            let segment = link.dropFirst(2).prefix { $0 != "/" }
            #expect(!segment.contains(":") && !segment.contains("#") && !segment.contains("?") && !segment.contains(" "), "\(link)")
            #expect(names.contains(String(segment).removingPercentEncoding ?? ""), "\(link) does not lead to its run")
        }
    }

    /// The page as a person sees it: headless Chromium draws it, the red regression mark included.
    @Test func theHistoryPageRendersInHeadlessChromium() throws {
        let chromium = try #require(["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                    "chromium is not installed: apt-get install chromium (scripts/install-deps.sh does)")
        let directory = try Self.nights()
        defer { try? FileManager.default.removeItem(at: directory) }
        let html = try HistoryWriter.write(try History.build(directory: directory, thresholdPercent: 5), title: "nightly", to: directory)
        let png = directory.appendingPathComponent("history.png")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(directory.path)/profile",
                             "--screenshot=\(png.path)", "--window-size=1280,1400", html.absoluteString]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let script = BrowserRenderingTests.decoder + """
        red = sum(1 for line in lines for x in range(0, len(line), bpp) if line[x] > 150 and line[x+1] < 40 and line[x+2] < 60)
        nonwhite = sum(1 for line in lines for x in range(0, len(line), bpp * 4) if bytes(line[x:x+3]) != b'\\xff\\xff\\xff')
        print(red, nonwhite)
        """
        let process2 = Process()
        process2.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process2.arguments = ["python3", "-c", script, png.path]
        let pipe = Pipe()
        process2.standardOutput = pipe
        try process2.run()
        let numbers = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ")
            .compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        process2.waitUntilExit()
        #expect(numbers.count == 2)
        #expect((numbers.first ?? 0) > 50, "no red regression mark on the screen")
        #expect((numbers.last ?? 0) > 5_000, "a blank page")
    }
}
