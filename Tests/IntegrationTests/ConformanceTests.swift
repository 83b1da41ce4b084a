import Foundation
import Glibc
import WGBenchCore
import WGBenchEngine
import XCTest

/// scripts/conformance.sh, the behaviours of the upstream WireGuard conformance scripts (the
/// kernel's netns.sh, wireguard-go's tests/netns.sh), for four pairings of wireguard-swift's
/// engines with each other and with Debian's wireguard-go: traffic over every mix of IPv4 and IPv6,
/// big MTUs, padding capped at the MTU, roaming, sticky source addresses, crypto-routing, peer
/// churn and re-added peers, fwmark, wg inside wg, `wg show`, a peer restarted under traffic. Every
/// check must PASS (an XFAIL is allowed only for wireguard-go's known bugs, with its reason printed
/// by the script).
final class ConformanceTests: XCTestCase {
    let runner = LocalCommandRunner()
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/conformance.sh").path

    override func setUpWithError() throws {
        try XCTSkipUnless(geteuid() == 0, "needs root (network namespaces, TUN devices)")
    }

    /// Runs the script for one pairing (a run takes about a minute) and fails with its output
    /// unless every check passed.
    func conformance(left: String, right: String) throws {
        if [left, right].contains("wireguard-go") {
            let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/local/bin:/usr/bin:/bin"
            try XCTSkipUnless(path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/wireguard-go") },
                              "wireguard-go is not installed")
        }
        let binary = builtProduct("wireguard-swift")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: binary), "wireguard-swift is not built")
        let result = try runner.run(Command([script, "--left", left, "--right", right, "--swift", binary],
                                           timeout: SpecDuration(milliseconds: 240_000)))
        let output = result.stdout + (result.stderr.isEmpty ? "" : "\n--- stderr\n" + result.stderr)
        XCTAssertEqual(result.status, 0, "conformance \(left) vs \(right) failed:\n\(output)")
        XCTAssertTrue(result.stdout.contains(" 0 failed"), "no summary line from the script:\n\(output)")
    }

    func testSwiftInlineWithSwiftInline() throws { try conformance(left: "swift:inline", right: "swift:inline") }
    func testSwiftParallelWithSwiftParallel() throws { try conformance(left: "swift:parallel", right: "swift:parallel") }
    func testSwiftInlineWithWireGuardGo() throws { try conformance(left: "swift:inline", right: "wireguard-go") }
    func testWireGuardGoWithSwiftParallel() throws { try conformance(left: "wireguard-go", right: "swift:parallel") }
}
