import Testing
@testable import WGBenchCore

struct TrafficPlanTests {
    let testbed = try! TestbedLoader.parse(yaml: validLocalTestbed, file: "t.yaml", home: "/h")
    let traffic = TrafficSpec(protocol: .tcp, durationSeconds: 5, omitSeconds: 1, bitrate: 0, basePort: 5201,
                              clientCPUs: [0], serverCPUs: [1, 2])

    @Test func flowsGetTheirOwnAddressesPortsAndTunnelsRoundRobin() throws {
        let plan = try TrafficPlan(testbed: testbed, traffic: traffic, tunnels: 2, flows: 5, target: .wireguardGo)
        #expect(plan.flows.map(\.source.description) == (100...104).map { "198.18.1.\($0)" })
        #expect(plan.flows.map(\.drain.description) == (100...104).map { "198.18.3.\($0)" })
        #expect(plan.flows.map(\.port) == [5201, 5202, 5203, 5204, 5205])
        #expect(plan.flows.map(\.tunnel) == [1, 2, 1, 2, 1])
        #expect(plan.flows.map(\.serverCPU) == [1, 2, 1, 2, 1])
        #expect(plan.tunnels.map(\.flows) == [[0, 2, 4], [1, 3]])
        #expect(plan.tunnels[1].gw1Interface == "wgbt1-2" && plan.tunnels[1].gw2Interface == "wgbt2-2")
        #expect(plan.tunnels[1].gw1Inner.description == "198.19.0.5/30" && plan.tunnels[1].gw2Inner.description == "198.19.0.6/30")
        #expect(plan.tunnels[1].port == 51822)
    }

    @Test func plainFlowsHaveNoTunnel() throws {
        let plan = try TrafficPlan(testbed: testbed, traffic: traffic, tunnels: 4, flows: 4, target: .plain)
        #expect(plan.tunnels.isEmpty && plan.flows.allSatisfy { $0.tunnel == nil })
    }

    @Test func tooManyFlowsForTheNetworkIsAClearError() {
        #expect(throws: TrafficPlan.Failure.tooManyFlows(flows: 200, network: "198.18.1.0/24", room: 154)) {
            try TrafficPlan(testbed: testbed, traffic: traffic, tunnels: 1, flows: 200, target: .plain)
        }
    }

    @Test func routesAndAllowedIPsFollowTheFlowsTunnel() throws {
        let plan = try TrafficPlan(testbed: testbed, traffic: traffic, tunnels: 2, flows: 2, target: .kernel)
        let flow = plan.flows[1]
        #expect(RoutingCommands.route(flow, on: .source, testbed: testbed).description == "ip route replace 198.18.3.101/32 via 198.18.1.1")
        #expect(RoutingCommands.route(flow, on: .gw1, testbed: testbed).description == "ip route replace 198.18.3.101/32 dev wgbt1-2")
        #expect(RoutingCommands.route(flow, on: .gw2, testbed: testbed).description == "ip route replace 198.18.1.101/32 dev wgbt2-2")
        #expect(RoutingCommands.route(flow, on: .drain, testbed: testbed).description == "ip route replace 198.18.1.101/32 via 198.18.3.1")
        #expect(RoutingCommands.addAddress(flow, on: .drain, testbed: testbed).description == "ip addr replace 198.18.3.101/32 dev eth1")
        #expect(TunnelCommands.allowedIPs(for: .gw1, tunnel: plan.tunnels[1], plan: plan) == ["198.19.0.6/32", "198.18.3.101/32"])
        #expect(TunnelCommands.allowedIPs(for: .gw2, tunnel: plan.tunnels[1], plan: plan) == ["198.19.0.5/32", "198.18.1.101/32"])
        let plainPlan = try TrafficPlan(testbed: testbed, traffic: traffic, tunnels: 1, flows: 1, target: .plain)
        #expect(RoutingCommands.route(plainPlan.flows[0], on: .gw1, testbed: testbed).description == "ip route replace 198.18.3.100/32 via 198.18.2.2")
    }

    @Test func iperf3CommandsCarryEveryFlowsSettings() throws {
        var udp = traffic
        udp.protocol = .udp
        udp.bitrate = 500_000_000
        let plan = try TrafficPlan(testbed: testbed, traffic: udp, tunnels: 1, flows: 2, target: .plain)
        #expect(IperfCommands.server(plan.flows[1], directory: "/w").description
                == "iperf3 -s -1 -D -B 198.18.3.101 -p 5202 -J --logfile /w/server-1.json -I /w/server-1.pid -A 2")
        let clients = IperfCommands.clients(plan.flows, traffic: udp, directory: "/w")
        let perClient = ShellRenderer.iperfArguments(IperfCommands.client(plan.flows[0], traffic: udp, directory: "/w"))
        #expect(clients.argv == ["xargs", "-0", "-n", String(perClient.count), "-P", "0", "iperf3"])
        let input = String(decoding: clients.stdin!, as: UTF8.self).split(separator: "\0").map(String.init)
        #expect(input.count == 2 * perClient.count)
        #expect(perClient == ["-c", "198.18.3.100", "-B", "198.18.1.100", "-p", "5201", "-t", "5", "-O", "1", "-J",
                              "--connect-timeout", "3000", "--logfile", "/w/client-0.json", "-u", "-b", "500000000", "-A", "0"])
        #expect(clients.timeout?.milliseconds == 36_000)
    }

    @Test func wireguardSwiftKnobsBecomeDaemonFlagsResolvedPerTunnel() throws {
        let plan = try TrafficPlan(testbed: testbed, traffic: traffic, tunnels: 3, flows: 3, target: .wireguardSwift)
        let topology = HostTopology.uniform(cpus: 16, nodes: 1, nics: ["eth1", "eth2"])
        let placement = try PlacementResolver.resolve(PlacementSpec(), plan: plan, topology: [.gw1: topology, .gw2: topology],
                                                      dataNIC: [.gw1: "eth1", .gw2: "eth2"])
        var knobs = KnobSettings()
        for (knob, text) in [(Knob.engine, "parallel"), (.encryptCPUs, "0-3"), (.decryptCPUs, "4-7"), (.serialCPUs, "tx-tun"),
                             (.inlineCPUs, "tunnel"), (.offload, "0")] {
            knobs[knob] = try knob.parse(text)
        }
        // Tunnel 2 on gw1: its flow (1) is received on CPU 1, its home; TX workers avoid the receiving cores 0-2.
        let second = TunnelCommands.create(.wireguardSwift, interface: "wgb1-t2", role: .gw1, tunnel: 2, knobs: knobs,
                                           placement: placement, program: "/opt/wgs")
        #expect(second.map(\.argv) == [["/opt/wgs", "--decrypt-cpus", "4-7", "--encrypt-cpus", "0-3", "--engine", "parallel", "--cpu", "1",
                                         "--no-offload", "--serial-cpus", "4", "wgb1-t2"]])
        var inline = KnobSettings()
        inline[.engine] = .choice("inline")
        inline[.inlineCPUs] = try Knob.inlineCPUs.parse("tunnel")
        let third = TunnelCommands.create(.wireguardSwift, interface: "wgb2-t3", role: .gw2, tunnel: 3, knobs: inline, placement: placement)
        #expect(third.map(\.argv) == [["wireguard-swift", "--engine", "inline", "--cpu", "2", "wgb2-t3"]])
        #expect(throws: KnobError.self) { try Knob.offload.parse("2") }
    }

    /// A series names its daemon's executable (`binary`): it replaces the testbed's tool for both
    /// userspace targets, so one experiment compares builds; one word only.
    @Test func theBinaryKnobNamesTheDaemon() throws {
        let plan = try TrafficPlan(testbed: testbed, traffic: traffic, tunnels: 1, flows: 1, target: .wireguardGo)
        let topology = HostTopology.uniform(cpus: 4, nodes: 1, nics: ["eth1", "eth2"])
        let placement = try PlacementResolver.resolve(PlacementSpec(), plan: plan, topology: [.gw1: topology, .gw2: topology],
                                                      dataNIC: [.gw1: "eth1", .gw2: "eth2"])
        var knobs = KnobSettings()
        knobs[.binary] = try Knob.binary.parse("/opt/wireguard-go-f333402")
        let go = TunnelCommands.create(.wireguardGo, interface: "wgb1-t1", role: .gw1, tunnel: 1, knobs: knobs, placement: placement,
                                       program: "/usr/bin/wireguard-go")
        #expect(go.map(\.argv) == [["env", TunnelCommands.wireguardGoEnvironment, "/opt/wireguard-go-f333402", "wgb1-t1"]])
        knobs[.binary] = try Knob.binary.parse("/w/wireguard-swift")
        knobs[.engine] = .choice("inline")
        let swift = TunnelCommands.create(.wireguardSwift, interface: "wgb1-t1", role: .gw1, tunnel: 1, knobs: knobs, placement: placement)
        #expect(swift.map(\.argv) == [["/w/wireguard-swift", "--engine", "inline", "wgb1-t1"]])
        #expect(Knob.binary.targets == [.wireguardGo, .wireguardSwift])
        for bad in ["", "-f", "/opt/wireguard go", "a\tb"] { #expect(throws: KnobError.self) { try Knob.binary.parse(bad) } }
        #expect(KnobValue.program("/opt/x").description == "/opt/x")
        // Pinning finds a daemon whose name carries a suffix.
        let pin = HostOperation.pinDaemon(target: .wireguardGo, interface: "wgb1-t1", cpus: [1])
        #expect(pin.argv[4] == "^([^ ]*/)?wireguard-go[^ /]* wgb1-t1$")
    }

    @Test func wgConfigurationHasEverythingAndTravelsOnStdin() {
        let config = WireGuardConfig(privateKey: "PRIV", listenPort: 51821, peerPublicKey: "PUB",
                                     allowedIPs: ["198.19.0.2/32", "198.18.3.100/32"], endpoint: "198.18.2.2:51821")
        #expect(config.text.contains("PrivateKey = PRIV\nListenPort = 51821\n"))
        #expect(config.text.contains("AllowedIPs = 198.19.0.2/32, 198.18.3.100/32\nEndpoint = 198.18.2.2:51821\n"))
        let commands = TunnelCommands.configure(interface: "wgb1-1", config: config, inner: IPv4Interface(specText: "198.19.0.1/30")!)
        #expect(commands[0].argv == ["wg", "setconf", "wgb1-1", "/dev/stdin"])
        #expect(commands[0].stdin == Array(config.text.utf8))
        #expect(!commands.map(\.description).joined().contains("PRIV"))
    }

    @Test(arguments: [([0], "1"), ([2], "4"), ([0, 1, 2, 3], "f"), ([32], "1,00000000"), ([1, 33], "2,00000002")])
    func hexMasks(_ cpus: [Int], _ mask: String) { #expect(CPUList.hexMask(cpus) == mask) }
}
