import Testing
@testable import WGBenchCore

/// Parsers against output recorded from the real tools (Fixtures/).
struct ParserTests {
    @Test func lscpuOnThisMachine() throws {
        let cpu = try #require(LscpuParser.parse(try Fixture.text("lscpu-epyc-2core.txt")))
        #expect(cpu.model == "AMD EPYC")
        #expect(cpu.cpus == 2)
        #expect(cpu.threadsPerCore == 1)
        #expect(cpu.sockets == 1)
        #expect(cpu.numaNodes == [NUMANode(id: 0, cpus: [0, 1])])
    }

    @Test func lscpuWithoutCPUCountIsRejected() {
        #expect(LscpuParser.parse("Model name: x\n") == nil)
    }

    @Test func ethtoolDriverInfoOfVeth() throws {
        let info = try #require(EthtoolParser.driverInfo(try Fixture.text("ethtool-i-veth.txt")))
        #expect(info.driver == "veth")
        #expect(info.version == "1.0")
        #expect(info.firmware == "")
    }

    @Test func ethtoolFeaturesOfVethHaveNoNtuple() throws {
        let features = EthtoolParser.features(try Fixture.text("ethtool-k-veth.txt"))
        #expect(features["ntuple-filters"] == Feature(on: false, fixed: true))
        #expect(features["rx-checksumming"]?.on == true)
        #expect(EthtoolParser.ntuple(features) == .unsupported)
    }

    @Test(arguments: [
        ("ntuple-filters: on\n", NtupleSupport.enabled),
        ("ntuple-filters: off\n", .disabled),
        ("ntuple-filters: off [fixed]\n", .unsupported),
        ("rx-checksumming: on\n", .unknown),
    ])
    func ntupleStates(_ text: String, _ expected: NtupleSupport) {
        #expect(EthtoolParser.ntuple(EthtoolParser.features(text)) == expected)
    }

    @Test func queueCountsFromSysfs() {
        let counts = EthtoolParser.queueCounts("rx-0\nrx-1\nrx-2\ntx-0\ntx-1\n")
        #expect(counts.rx == 3 && counts.tx == 2)
    }

    @Test(arguments: [
        ("version-iperf3.txt", "3.12"),
        ("version-wg.txt", "v1.0.20210914"),
        ("version-wireguard-go.txt", "v0.0.20220316"),
        ("version-ethtool.txt", "6.1"),
        ("version-ip.txt", "6.1.0"),
    ])
    func toolVersions(_ file: String, _ expected: String) throws {
        #expect(VersionParser.version(try Fixture.text(file)) == expected)
    }

    @Test func noVersionInGarbage() {
        #expect(VersionParser.version("command not found") == nil)
        #expect(VersionParser.version("") == nil)
    }

    /// CPU lists as sysfs and lscpu print them.
    @Test(arguments: [
        ("0", [0]),
        ("0-3", [0, 1, 2, 3]),
        ("0,2,4", [0, 2, 4]),
        ("0-1,8-9", [0, 1, 8, 9]),
        ("", []),
        ("0-15\n", Array(0...15)),
    ])
    func cpuListParses(_ text: String, _ cpus: [Int]) {
        #expect(CPUList.parse(text) == cpus)
    }

    @Test(arguments: ["a", "3-1", "1-", "-1", "1,,2", "1-2-3"])
    func cpuListRefuses(_ text: String) { #expect(CPUList.parse(text) == nil) }

    @Test func cpuListFormatsRanges() {
        #expect(CPUList.format([3, 0, 1, 2, 8, 10, 11]) == "0-3,8,10-11")
        #expect(CPUList.format([]) == "")
    }

    @Test func ipLinkNames() {
        let text = """
        1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
        5: wgb-mgmt: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 6e:1b:5f:4c:2b:1a brd ff:ff:ff:ff:ff:ff
        6: wgb-m-source@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master wgb-mgmt state UP
        """
        #expect(IPLinkParser.names(text) == ["lo", "wgb-mgmt", "wgb-m-source"])
        #expect(IPNetnsParser.names("wgb-drain (id: 3)\nwgb-gw2\n") == ["wgb-drain", "wgb-gw2"])
    }

    @Test(arguments: [
        ([1.0], 50.0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 50.0, 2.5),
        ([5.0, 1.0, 3.0], 50.0, 3.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0], 100.0, 5.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0], 0.0, 1.0),
        (Array(stride(from: 1.0, through: 100.0, by: 1.0)), 99.0, 99.01),
    ])
    func percentiles(_ samples: [Double], _ p: Double, _ expected: Double) throws {
        let value = try #require(Percentile.of(samples, p))
        #expect(abs(value - expected) < 1e-9)
    }

    @Test func percentileOfNothing() { #expect(Percentile.median([]) == nil) }
}
