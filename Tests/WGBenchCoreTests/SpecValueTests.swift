import Testing
@testable import WGBenchCore

/// Each validated type against a table of accepted and refused texts; every refused text
/// includes shell metacharacters somewhere in the table.
struct SpecValueTests {
    static let hostile = ["; rm -rf /", "$(reboot)", "`id`", "a|b", "a&b", "a b", "a\nb", "'q'", "\"q\"", "a>b", "*", "", "a\\b"]

    @Test(arguments: ["eth0", "enp65s0f0np0", "wg-1.x", "a", "abcdefghijklmno"])
    func interfaceNameAccepts(_ text: String) { #expect(InterfaceName(specText: text)?.rawValue == text) }

    @Test(arguments: hostile + ["-eth0", ".x", "abcdefghijklmnop", "eth0:1", "eth/0"])
    func interfaceNameRefuses(_ text: String) { #expect(InterfaceName(specText: text) == nil) }

    @Test(arguments: ["198.18.0.1", "0.0.0.0", "255.255.255.255"])
    func ipv4Accepts(_ text: String) { #expect(IPv4Address(specText: text)?.description == text) }

    @Test(arguments: hostile + ["198.18.0", "198.18.0.1.2", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "1..2.3", "1.2.3.4/24"])
    func ipv4Refuses(_ text: String) { #expect(IPv4Address(specText: text) == nil) }

    @Test func networkRequiresNoHostBits() {
        #expect(IPv4Network(specText: "198.18.0.0/15") != nil)
        #expect(IPv4Network(specText: "198.19.0.0/15") == nil)
        #expect(IPv4Network(specText: "198.18.1.0/33") == nil)
        #expect(IPv4Interface(specText: "198.18.1.7/24")?.network.description == "198.18.1.0/24")
        #expect(IPv4Interface(specText: "198.18.1.7") == nil)
    }

    @Test func benchmarkingRangeContainment() {
        let range = IPv4Network.benchmarking
        #expect(range.contains(IPv4Address(specText: "198.18.0.0")!))
        #expect(range.contains(IPv4Address(specText: "198.19.255.255")!))
        #expect(!range.contains(IPv4Address(specText: "198.20.0.0")!))
        #expect(!range.contains(IPv4Address(specText: "10.0.0.1")!))
        #expect(!range.contains(IPv4Network(specText: "198.16.0.0/12")!))
    }

    @Test(arguments: ["lab-gw1.example.org", "198.18.250.11", "h1"])
    func hostAddressAccepts(_ text: String) { #expect(HostAddress(specText: text) != nil) }

    @Test(arguments: hostile + ["-host", "host-", "a..b", "999.1.1.1", "1.2.3"])
    func hostAddressRefuses(_ text: String) { #expect(HostAddress(specText: text) == nil) }

    @Test(arguments: ["/root/.ssh/id_ed25519", "~/.ssh/known_hosts", "/run/wgbench/local"])
    func pathAccepts(_ text: String) { #expect(FilePath(specText: text) != nil) }

    @Test(arguments: hostile + ["relative/path", "/a/../etc/shadow", "~root/x"])
    func pathRefuses(_ text: String) { #expect(FilePath(specText: text) == nil) }

    @Test func pathExpandsTilde() {
        #expect(FilePath(specText: "~/.ssh/id")!.expandingTilde(home: "/home/u").rawValue == "/home/u/.ssh/id")
        #expect(FilePath(specText: "/abs")!.expandingTilde(home: "/home/u").rawValue == "/abs")
    }

    @Test(arguments: hostile + ["Root", "1user", "-u"])
    func userRefuses(_ text: String) { #expect(UserName(specText: text) == nil) }

    @Test(arguments: hostile + ["WGB", "toolong", "1ab", "a-b"])
    func prefixRefuses(_ text: String) { #expect(NamePrefix(specText: text) == nil) }

    @Test(arguments: [("500ms", 500), ("5s", 5000), ("1.5s", 1500), ("2m", 120_000), ("0s", 0), ("5h", 18_000_000)])
    func durationAccepts(_ text: String, _ milliseconds: Int) {
        #expect(SpecDuration(specText: text)?.milliseconds == milliseconds)
    }

    @Test(arguments: hostile + ["5", "-1s", "s", "25h", "+5s", "nans", "1e300s", "5d"])
    func durationRefuses(_ text: String) { #expect(SpecDuration(specText: text) == nil) }

    @Test(arguments: hostile + ["0", "65536", "-1", "22a"])
    func portRefuses(_ text: String) { #expect(Port(specText: text) == nil) }
}
