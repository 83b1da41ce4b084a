import Testing
@testable import WGBenchCore

struct MissingAnalysisTests {
    func report(_ role: HostRole, tools: [String: String?], wireguard: KernelWireGuard = .absent,
                nics: [NICReport] = []) -> HostReport {
        HostReport(role: role, address: "a", kernel: "6.1", cpu: LscpuParser.parse("CPU(s): 2\n"), nics: nics,
                   tools: tools, kernelWireGuard: wireguard)
    }

    let allTools: [String: String?] = ["iperf3": "3.12", "wg": "v1", "wireguard-go": "v0", "ethtool": "6.1", "ip": "6.1.0"]

    @Test func completeGatewayLacksOnlyKernelWireGuard() {
        let items = report(.gw1, tools: allTools).missing
        #expect(items.map(\.what) == ["kernel WireGuard is not available"])
        #expect(items[0].limitation)
        #expect(report(.gw1, tools: allTools, wireguard: .available).missing.isEmpty)
    }

    @Test func missingToolsNameTheirPackage() {
        var tools = allTools
        tools["iperf3"] = .some(nil)
        tools["wireguard-go"] = .some(nil)
        let source = report(.source, tools: tools).missing
        #expect(source == [MissingItem(what: "iperf3 is not installed", fix: "apt-get install iperf3", limitation: false)])
        let gateway = report(.gw2, tools: tools, wireguard: .loaded).missing
        #expect(gateway.map(\.fix) == ["apt-get install wireguard-go"])
    }

    @Test func absentInterfaceBlocksAndVethIsALimitation() {
        let nics = [
            NICReport(link: .ingress, name: "eth9", present: false, driver: nil, rxQueues: nil, txQueues: nil, ntuple: .unknown),
            NICReport(link: .underlay, name: "eth2", present: true, driver: nil, rxQueues: 1, txQueues: 1, ntuple: .unsupported),
        ]
        let items = report(.gw1, tools: allTools, wireguard: .loaded, nics: nics).missing
        #expect(items.map(\.limitation) == [false, true])
        #expect(items[0].what.contains("eth9"))
    }

    @Test func rendererListsBlockers() {
        var tools = allTools
        tools["ethtool"] = .some(nil)
        let text = CheckReportRenderer.text([report(.drain, tools: tools)])
        #expect(text.contains("== drain (a)"))
        #expect(text.contains("ethtool missing"))
        #expect(text.contains("1 thing(s) missing: drain: ethtool is not installed"))
    }
}
