import Foundation
import Testing
@testable import WGBenchCore

/// CPU expressions, topology reading and the placement resolver, and the paper's figure files
/// resolved on the paper's hardware (32 CPUs, two NUMA nodes of 16, NICs on node 0).
struct PlacementTests {
    static let paper = HostTopology.uniform(cpus: 32, nodes: 2, nics: ["enp65s0f0np0", "enp65s0f1np1"])

    // MARK: Expressions

    @Test(arguments: [
        ("all", "all"),
        ("0-3,8", "0-3,8"),
        ("all - rx-tun", "all - rx-tun"),
        ("node(tunnel) - rx - tx", "node(tunnel) - rx - tx"),
        ("node(1) + first(node(nic))", "node(1) + first(node(nic))"),
        ("all - (rx + tx)", "all - (rx + tx)"),
        ("  node( other )  ", "node(other)"),
    ])
    func expressionsParseAndPrintBack(_ text: String, _ printed: String) throws {
        let expression = try CPUExpression.parse(text)
        #expect(expression.description == printed)
        #expect(try CPUExpression.parse(expression.description) == expression)
    }

    @Test(arguments: [
        ("", "missing"),
        ("all-rx", "put spaces around"),
        ("all -rx", "put spaces around"),
        ("nodes(1)", "not a CPU set"),
        ("node(x)", "node(...) takes"),
        ("first(all", "expected ')'"),
        ("0-", "put spaces around"),
        ("3-1", "not a CPU list"),
        ("all all", "unexpected"),
        ("9999", "not a CPU list"),
    ])
    func badExpressionsSayWhy(_ text: String, _ message: String) {
        #expect(throws: CPUExpressionError.self) { try CPUExpression.parse(text) }
        do { _ = try CPUExpression.parse(text) } catch { #expect(error.description.contains(message), "\(error)") }
    }

    /// Numbered cases on the paper's topology: gw2, tunnel 2 received on CPU 17 (node 1), its TX worker on 20.
    @Test(arguments: [
        (1, "all", Array(0...31)),
        (2, "node(0)", Array(0...15)),
        (3, "node(tunnel)", Array(16...31)),
        (4, "node(other)", Array(0...15)),
        (5, "node(nic)", Array(0...15)),
        (6, "tunnel", [17]),
        (7, "rx-tun", [17]),
        (8, "tx-tun", [20]),
        (9, "rx", [5, 17]),
        (10, "node(tunnel) - rx-tun - tx-tun", Array(16...31).filter { $0 != 17 && $0 != 20 }),
        (11, "first(node(tunnel) - rx)", [16]),
        (12, "all - node(3)", Array(0...31)),
        (13, "40-41", []),
        (14, "rx-plain", []),
    ])
    func expressionsEvaluateOnATopology(_ number: Int, _ text: String, _ cpus: [Int]) throws {
        let assignments = [CoreAssignment(cpu: 5, stage: .rxTunnel, tunnel: 1), CoreAssignment(cpu: 17, stage: .rxTunnel, tunnel: 2),
                           CoreAssignment(cpu: 20, stage: .txTunnel, tunnel: 2)]
        let context = CPUContext(topology: Self.paper, tunnel: 2, assignments: assignments, homeStage: .rxTunnel, dataNIC: "enp65s0f1np1")
        #expect(try CPUExpression.parse(text).evaluate(context).sorted() == cpus, "case \(number)")
    }

    // MARK: Topology

    @Test func topologyIsReadFromRecordedSysfsOutput() throws {
        let topology = try #require(TopologyCommands.parse(try Fixture.text("topology-this-machine.txt")))
        #expect(topology.onlineCPUs == [0, 1])
        #expect(topology.nodes == [NUMANode(id: 0, cpus: [0, 1])])
        #expect(topology.nics["eth0"] == HostTopology.NIC(node: nil, rxQueues: 1))
        #expect(topology.node(ofNIC: "eth0") == 0)
    }

    @Test func twoNodesAndANICNodeAreRead() throws {
        let output = """
        0-31
        /sys/devices/system/node/node0/cpulist:0-15
        /sys/devices/system/node/node1/cpulist:16-31
        @nic enp65s0f1np1 1 63
        """
        let topology = try #require(TopologyCommands.parse(output))
        #expect(topology.nodes.map(\.cpus) == [Array(0...15), Array(16...31)])
        #expect(topology.node(ofNIC: "enp65s0f1np1") == 1 && topology.nics["enp65s0f1np1"]?.rxQueues == 63)
        #expect(topology.cpus(ofNode: topology.node(ofCPU: 20)) == Array(16...31))
        #expect(TopologyCommands.parse("garbage") == nil)
    }

    // MARK: Resolver

    let testbed = try! TestbedLoader.parse(yaml: validLocalTestbed, file: "t.yaml", home: "/h")
    let traffic = TrafficSpec(protocol: .tcp, durationSeconds: 5, omitSeconds: 1, bitrate: 0, basePort: 5201, clientCPUs: [], serverCPUs: [])

    func resolve(_ yaml: String, tunnels: Int, flows: Int, topology: HostTopology = paper) throws -> ResolvedPlacement {
        let spec = try ExperimentLoader.parse(yaml: "name: x\n\(yaml)\nseries: [{name: k, target: kernel}]", file: "x.yaml")
        let plan = try TrafficPlan(testbed: testbed, traffic: traffic, tunnels: tunnels, flows: flows, target: .kernel)
        return try PlacementResolver.resolve(spec.series[0].placement, plan: plan, topology: [.gw1: topology, .gw2: topology],
                                             dataNIC: [.gw1: "enp65s0f0np0", .gw2: "enp65s0f1np1"])
    }

    @Test func fig4sLayoutKeepsTheTXWorkerOffEveryFlowsCore() throws {
        let placement = try resolve("""
        placement:
          rx_plain: {gw1: "all - first(node(nic))"}
          rx_tun: {gw2: "first(node(nic))"}
          tx_tun: {gw1: "first(node(nic))"}
        """, tunnels: 1, flows: 31)
        #expect(placement.cpu(.gw1, .txTunnel, tunnel: 1) == 0)
        #expect((placement.cores[.gw1] ?? []).filter { $0.stage == .rxPlain }.map(\.cpu) == Array(1...31))
        #expect(placement.cpu(.gw2, .rxTunnel, tunnel: 1) == 0 && placement.cpu(.gw2, .txTunnel, tunnel: 1) == 1)
        #expect(placement.notes.isEmpty)
    }

    @Test func reverseSteeringGivesEachGatewayThreeDistinctStageCores() throws {
        let placement = try resolve("placement: {reverse: true}", tunnels: 1, flows: 1)
        for role in [HostRole.gw1, .gw2] {
            let cpus = [CoreAssignment.Stage.rxPlain, .rxTunnel, .txTunnel].compactMap { placement.cpu(role, $0, tunnel: 1) }
            #expect(cpus.count == 3 && Set(cpus).count == 3, "\(role): \(cpus)")
        }
        #expect(placement.cpu(.gw1, .rxPlain, flow: 0) == 0 && placement.cpu(.gw2, .rxTunnel, tunnel: 1) == 0)
    }

    @Test func colocatePutsEveryStageOfATunnelOnItsOwnCore() throws {
        let placement = try resolve("placement: {colocate: true}", tunnels: 32, flows: 32)
        for role in [HostRole.gw1, .gw2] {
            for tunnel in 1...32 {
                let cpus = Set((placement.cores[role] ?? []).filter { $0.tunnel == tunnel }.map(\.cpu))
                #expect(cpus == [tunnel - 1], "\(role) tunnel \(tunnel)")
            }
        }
    }

    @Test func interleaveSpreadsTunnelsOverTheNodesInTurn() throws {
        let placement = try resolve("placement: {interleave: true}", tunnels: 4, flows: 4)
        #expect((1...4).compactMap { placement.cpu(.gw2, .rxTunnel, tunnel: $0) } == [0, 16, 1, 17])
        #expect((0...3).compactMap { placement.cpu(.gw1, .rxPlain, flow: $0) } == [0, 16, 1, 17])
    }

    @Test func anEmptyDifferenceFallsBackToItsBaseWithANoteAndAnEmptyBaseIsAnError() throws {
        let placement = try resolve("placement: {tx_tun: 'node(tunnel) - rx'}", tunnels: 32, flows: 32)
        #expect(placement.cpu(.gw2, .txTunnel, tunnel: 20).map { (16...31).contains($0) } == true)
        #expect(placement.notes.contains { $0.contains("`node(tunnel) - rx` had no CPU left, so `node(tunnel)` was used for tunnels 1-32") })
        #expect(throws: PlacementResolver.Failure.self) { try resolve("placement: {tx_tun: 'node(5)'}", tunnels: 1, flows: 1) }
    }

    // MARK: The paper's figures

    static let figures = ["fig4", "fig5", "fig6", "fig7a", "fig7b", "fig8", "fig9"]

    static func paperTestbed() throws -> Testbed {
        let text = try String(contentsOf: Fixture.repositoryRoot.appendingPathComponent("testbeds/paper-cloudlab.yaml"), encoding: .utf8)
        return try TestbedLoader.parse(yaml: text, file: "testbeds/paper-cloudlab.yaml", home: "/root")
    }

    /// Every placement of every point of every figure, on the paper's hardware.
    static func everyPlacement(_ figure: String) throws -> [(series: SeriesSpec, point: Point, plan: TrafficPlan, placement: ResolvedPlacement)] {
        let spec = try ExperimentLoader.load(path: Fixture.repositoryRoot.appendingPathComponent("experiments/\(figure).yaml").path)
        let testbed = try paperTestbed()
        var all: [(SeriesSpec, Point, TrafficPlan, ResolvedPlacement)] = []
        for series in spec.series {
            for point in Sweep.points(spec.sweep) {
                let plan = try TrafficPlan(testbed: testbed, traffic: spec.traffic, tunnels: point.tunnels, flows: point.flows, target: series.target)
                let placement = try PlacementResolver.resolve(series.placement, plan: plan, topology: [.gw1: paper, .gw2: paper],
                                                              dataNIC: [.gw1: "enp65s0f0np0", .gw2: "enp65s0f1np1"])
                all.append((series, point, plan, placement))
            }
        }
        return all
    }

    /// The paper keeps TX workers off the cores that receive flows ("doesn't overlap with the TX
    /// worker"). Wherever the gateway has a core for every reception and every TX worker, none shares.
    @Test(arguments: figures)
    func noTXWorkerSharesACoreWithAReceptionWhereThereIsRoom(_ figure: String) throws {
        var checked = 0
        for (series, point, plan, placement) in try Self.everyPlacement(figure) where !series.placement.colocate {
            for role in [HostRole.gw1, .gw2] {
                let cores = placement.cores[role] ?? []
                let rx = Set(cores.filter { $0.stage == .rxPlain || $0.stage == .rxTunnel }.map(\.cpu))
                let tx = Set(cores.filter { $0.stage == .txTunnel }.map(\.cpu))
                #expect(!tx.isEmpty, "\(figure) \(series.name) \(point.id) \(role): no TX worker placed")
                guard rx.count + plan.tunnels.count <= Self.paper.onlineCPUs.count else { continue }
                #expect(rx.isDisjoint(with: tx), "\(figure) \(series.name) \(point.id) \(role): TX \(tx.sorted()) on rx cores \(rx.sorted())")
                checked += 1
            }
        }
        #expect(checked > 0)
    }

    /// Past 16 tunnels overlaps are necessary ("past 16 tunnels, overlaps are necessary"), and they
    /// spread: no item of a stage sits on a core holding two or more of that stage than another core
    /// its pool (without the stage exclusions it avoids while there is room) would have allowed. So
    /// no core holds more than ceil(items / cores of the pool) of one stage.
    @Test(arguments: figures)
    func overlapsSpreadEvenlyOverEveryCoreAStageMayUse(_ figure: String) throws {
        var checked = 0
        for (series, point, _, placement) in try Self.everyPlacement(figure) {
            for role in [HostRole.gw1, .gw2] {
                let cores = placement.cores[role] ?? []
                for stage in [CoreAssignment.Stage.rxPlain, .rxTunnel, .txTunnel, .inline] {
                    let mine = cores.filter { $0.stage == stage }
                    let counts = Dictionary(grouping: mine, by: \.cpu).mapValues(\.count)
                    for item in mine {
                        let pool = series.placement.effectivePool(stage, on: role).withoutStageExclusions
                        let allowed = placement.cpus(pool, on: role, tunnel: item.tunnel)
                        let emptiest = allowed.map { counts[$0] ?? 0 }.min() ?? 0
                        #expect(counts[item.cpu]! <= emptiest + 1, """
                            \(figure) \(series.name) \(point.id) \(role): \(stage.rawValue) of \(item.tunnel.map { "tunnel \($0)" } ?? "?")                             on CPU \(item.cpu) with \(counts[item.cpu]!) others while `\(pool)` has a core with \(emptiest)
                            """)
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 0)
    }

    /// Fig. 8 at 28, 30 and 31 tunnels: every TX worker on a core of its own (the old fallback put
    /// 7, 15 and 31 on one core), and NUMA-aware's on its tunnel's node.
    @Test(arguments: [28, 30, 31])
    func fig8SpreadsTXWorkersOverEveryCorePastSixteenTunnels(_ tunnels: Int) throws {
        for (series, point, _, placement) in try Self.everyPlacement("fig8") where point.tunnels == tunnels && !series.placement.colocate {
            for role in [HostRole.gw1, .gw2] {
                let tx = (1...tunnels).compactMap { placement.cpu(role, .txTunnel, tunnel: $0) }
                #expect(Set(tx).count == tunnels, "\(series.name) \(role): TX workers on \(CPUList.format(tx))")
                for tunnel in 1...tunnels {
                    let home = try #require(placement.cpu(role, PlacementSpec.homeStage(role), tunnel: tunnel))
                    #expect(placement.cpu(role, .txTunnel, tunnel: tunnel) != home, "\(series.name) \(role) tunnel \(tunnel): TX worker on its own rx core")
                    if series.placement.interleave {
                        #expect(Self.paper.node(ofCPU: placement.cpu(role, .txTunnel, tunnel: tunnel)!) == Self.paper.node(ofCPU: home))
                    }
                }
                #expect(placement.notes.contains { $0.contains("\(role): tx_tun") && $0.contains("at most 1 tx-tun per core") },
                        "\(series.name): \(placement.notes)")
            }
        }
    }

    /// NUMA-aware keeps each tunnel's crypto on its own node: at 32 tunnels, both nodes' masks.
    @Test func fig8NUMAAwareWritesNodeLocalMasks() throws {
        let all = try Self.everyPlacement("fig8").filter { $0.series.name == "numa-aware" && $0.point.tunnels == 32 }
        let (series, _, plan, placement) = try #require(all.first)
        for role in [HostRole.gw1, .gw2] {
            let masks = plan.tunnels.map { tunnel in
                placement.cpus(series.knobs.expression(.decryptCPUs, on: role, for: .kernel)!, on: role, tunnel: tunnel.index)
            }
            #expect(Set(masks).count == 2, "\(role): \(Set(masks))")
            for (tunnel, mask) in zip(plan.tunnels, masks) {
                let home = try #require(placement.cpu(role, PlacementSpec.homeStage(role), tunnel: tunnel.index))
                #expect(mask == Self.paper.cpus(ofNode: Self.paper.node(ofCPU: home)))
                let tx = try #require(placement.cpu(role, .txTunnel, tunnel: tunnel.index))
                #expect(Self.paper.node(ofCPU: tx) == Self.paper.node(ofCPU: home), "the TX worker stays on the tunnel's node")
            }
        }
    }

    /// Fig. 7b's improved series: no crypto pool holds gw1's TX worker core or gw2's tunnel core,
    /// and every pool is on the tunnel's node.
    @Test func fig7bImprovedAvoidsOverlapsAndStaysOnTheNode() throws {
        for (series, _, _, placement) in try Self.everyPlacement("fig7b") where series.name == "improved" {
            for (role, avoided) in [(HostRole.gw1, CoreAssignment.Stage.txTunnel), (.gw2, .rxTunnel)] {
                let core = try #require(placement.cpu(role, avoided, tunnel: 1))
                for knob in [Knob.encryptCPUs, .decryptCPUs] {
                    let pool = placement.cpus(series.knobs.expression(knob, on: role, for: .kernel)!, on: role, tunnel: 1)
                    #expect(!pool.contains(core) && Set(pool).isSubset(of: Self.paper.cpus(ofNode: Self.paper.node(ofCPU: core))))
                }
            }
        }
    }
}
