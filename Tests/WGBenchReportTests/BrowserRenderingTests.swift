import Foundation
import Testing
@testable import WGBenchReport

/// The report as a person sees it: headless Chromium renders report.html to a PNG, which must
/// have the window's size and real content (not a blank page). Needs Debian's chromium and
/// python3 (both installed by scripts/install-deps.sh); without them the test fails and says so.
struct BrowserRenderingTests {
    static let width = 1280, height = 2000

    @Test func reportRendersInHeadlessChromium() throws {
        let chromium = try #require(["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                    "chromium is not installed: apt-get install chromium (scripts/install-deps.sh does)")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-render-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let html = try ReportWriter.write(run: try RecordedRun.load(), to: out)
        let png = out.appendingPathComponent("report.png")
        let status = try run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                        "--user-data-dir=\(out.path)/profile", "--screenshot=\(png.path)",
                                        "--window-size=\(Self.width),\(Self.height)", html.absoluteString])
        #expect(status == 0)
        let data = try Data(contentsOf: png)
        #expect(data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        let bigEndian = { (offset: Int) in data[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) } }
        #expect(bigEndian(16) == Self.width && bigEndian(20) == Self.height)

        // Decode the pixels (python3's zlib; PNG filters undone row by row) and count what is not white.
        let script = Self.decoder + """
        colours = set(); nonwhite = 0
        for line in lines:
            for x in range(0, len(line), bpp * 4):
                px = bytes(line[x:x+3]); colours.add(px)
                if px != b'\\xff\\xff\\xff': nonwhite += 1
        print(nonwhite, len(colours))
        """
        let (pixels, colours) = try decode(script, png.path)
        // A blank page is all white; the report has text, tables, plots and colour.
        #expect(pixels > 5_000, "only \(pixels) sampled pixels are not white")
        #expect(colours > 20, "only \(colours) colours")
    }

    /// The smoke experiment's spread (plain 14-22 Gbit/s, wireguard-go 0.44 with a whisker below
    /// zero) drawn as a person sees it: on the log axis wireguard-go's line stands well clear of the
    /// x axis, and nothing orange (its colour) is drawn below the plot.
    @Test func seriesOrdersOfMagnitudeApartAreReadableOnTheScreen() throws {
        let chromium = try #require(["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                    "chromium is not installed: apt-get install chromium (scripts/install-deps.sh does)")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-scale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        let svg = Charts.line(title: "smoke: throughput vs tunnels", xLabel: "tunnels", yLabel: "throughput (Gbit/s)", series: [
            LineSeries(name: "plain", points: [(1, 14.5, 0.8), (2, 22.0, 1.5)]),
            LineSeries(name: "wireguard-go", points: [(1, 0.44, 0.6), (2, 0.30, 0.05)]),
        ])
        #expect(svg.contains("data-y-scale=\"log\"") && svg.contains("whiskers: 95% CI"))
        let page = out.appendingPathComponent("plot.html")
        try Data("<html><body style=\"margin:0\">\(svg)</body></html>".utf8).write(to: page)
        let png = out.appendingPathComponent("plot.png")
        let status = try run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(out.path)/profile",
                                        "--screenshot=\(png.path)", "--window-size=720,420", page.absoluteString])
        #expect(status == 0)
        // Rows holding wireguard-go's colour (#E69F00); the x axis is at y = 420 - 60 = 360.
        let script = Self.decoder + """
        rows = [y for y, line in enumerate(lines) for x in range(0, len(line), bpp) if abs(line[x]-230) < 30 and abs(line[x+1]-159) < 30 and line[x+2] < 60]
        print(min(rows), max(rows))
        """
        let (top, bottom) = try decode(script, png.path)
        #expect(bottom <= 360, "wireguard-go is drawn below the x axis (row \(bottom))")
        // Its markers at 0.44 and 0.30 Gbit/s, on a log axis from 0.1 to 100: well above the axis.
        #expect(top < 360 - 60, "wireguard-go hugs the x axis: its highest row is \(top)")
    }

    /// PNG pixels into `lines` (one bytearray per row) and `bpp`, with python3's zlib.
    static let decoder = """
    import sys, zlib, struct
    data = open(sys.argv[1], 'rb').read()
    w, h, depth, ctype = struct.unpack('>IIBB', data[16:26])
    idat = b''; i = 8
    while i < len(data):
        n, kind = struct.unpack('>I4s', data[i:i+8])
        if kind == b'IDAT': idat += data[i+8:i+8+n]
        i += 12 + n
    raw = zlib.decompress(idat); bpp = {2: 3, 6: 4}[ctype]; stride = w * bpp
    prev = bytearray(stride); lines = []; pos = 0
    for y in range(h):
        f = raw[pos]; line = bytearray(raw[pos+1:pos+1+stride]); pos += 1 + stride
        for x in range(stride):
            a = line[x-bpp] if x >= bpp else 0; b = prev[x]; c = prev[x-bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p-a), abs(p-b), abs(p-c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line; lines.append(line)

    """

    private func run(_ program: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    private func decode(_ script: String, _ path: String) throws -> (Int, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let numbers = output.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard process.terminationStatus == 0, numbers.count == 2 else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "could not decode the screenshot: \(output)"])
        }
        return (numbers[0], numbers[1])
    }
}
