import Testing
@testable import WGBenchCore

/// Parsers of what a run measures, against output recorded from the real tools.
struct MeasurementParserTests {
    @Test func iperf3TCPClient() throws {
        let result = try #require(Iperf3Parser.parse(try Fixture.text("iperf3-tcp-client.json")))
        #expect(result.error == nil)
        #expect(abs((result.bitsPerSecond ?? 0) - 27_739_463_742.93835) < 1)
        #expect((result.sentBitsPerSecond ?? 0) > 0)
        #expect(result.retransmits != nil)
    }

    @Test func iperf3UDPClient() throws {
        let result = try #require(Iperf3Parser.parse(try Fixture.text("iperf3-udp-client.json")))
        #expect(abs((result.bitsPerSecond ?? 0) - 100_129_295.458) < 1)
        #expect(result.lostPercent == 0)
    }

    @Test func iperf3ErrorIsKept() throws {
        let result = try #require(Iperf3Parser.parse(try Fixture.text("iperf3-refused-client.json")))
        #expect(result.error == "unable to connect to server: Connection refused")
        #expect(result.bitsPerSecond == nil)
        #expect(Iperf3Parser.parse("not json") == nil)
    }

    @Test func samplerOutputGivesPerCoreUsage() throws {
        let text = try Fixture.text("sampler-output.txt")
        let samples = ProcStatParser.samples(text)
        #expect(samples.count == 2)
        #expect(samples[0].cores.keys.sorted() == [0, 1])
        #expect(samples[1].uptime > samples[0].uptime)
        let usage = ProcStatParser.usage(from: samples[0], to: samples[1])
        #expect(usage.map(\.cpu) == [0, 1])
        for core in usage { #expect(abs(core.busy + core.idle - 100) < 5) }
        #expect(ProcStatParser.samplerCPUSeconds(text) == 0)
    }

    /// A table of /proc/stat deltas: user+nice, system, irq, softirq and idle+iowait shares.
    @Test func usageSharesFromJiffies() {
        let a = CPUSample(uptime: 0, cores: [0: [100, 0, 100, 100, 0, 0, 0, 0, 0, 0]])
        let b = CPUSample(uptime: 1, cores: [0: [150, 10, 120, 110, 0, 5, 5, 0, 0, 0]])
        let usage = ProcStatParser.usage(from: a, to: b)[0]
        #expect(usage == CoreUsage(cpu: 0, user: 60, system: 20, irq: 5, softirq: 5, idle: 10))
        let idle = ProcStatParser.usage(from: a, to: a)[0]
        #expect(idle.idle == 100)
    }

    @Test func timesOutputIsSummed() {
        #expect(ProcStatParser.samplerCPUSeconds("@sample\n@times\n0m0.010s 0m0.020s\n1m0.000s 0m0.5s\n") == 60.53)
    }

    @Test func ssListeningSockets() {
        let text = "LISTEN 0      5      198.18.3.100:5201       0.0.0.0:*\nLISTEN 0 4096 127.0.0.53%lo:53 0.0.0.0:*\n"
        #expect(SSParser.listeningEndpoints(text) == ["198.18.3.100:5201", "127.0.0.53%lo:53"])
    }

    @Test func ethtoolRuleIDsAndQueueIRQs() {
        #expect(SteeringCommands.ruleID("Added rule with ID 1023\n") == 1023)
        #expect(SteeringCommands.ruleID("rmgr: Cannot insert RX class rule: Operation not supported") == nil)
        let interrupts = """
                   CPU0       CPU1
         130:          0          0  IR-PCI-MSI 1048576-edge      ens1f0-TxRx-0
         131:          5          0  IR-PCI-MSI 1048577-edge      ens1f0-TxRx-1
         140:          0          9  IR-PCI-MSIX-0000:41:00.0 3-edge      mlx5_comp3@pci:0000:41:00.0
        """
        #expect(SteeringCommands.irq(forQueue: 1, nic: "ens1f0", busInfo: nil, interrupts: interrupts) == 131)
        #expect(SteeringCommands.irq(forQueue: 3, nic: "enp65s0f0np0", busInfo: "0000:41:00.0", interrupts: interrupts) == 140)
        #expect(SteeringCommands.irq(forQueue: 2, nic: "ens1f0", busInfo: nil, interrupts: interrupts) == nil)
    }

    @Test func processListSkipsZombies() {
        let text = "Ss   /usr/sbin/sshd -D\nZ    [iperf3] <defunct>\nS    iperf3 -s -1\n"
        #expect(ProcessListParser.living(text) == ["/usr/sbin/sshd -D", "iperf3 -s -1"])
    }
}

/// Receptions steered to rx queues: a queue's one IRQ runs on one CPU.
struct QueueConflictTests {
    @Test(arguments: [
        (1, [(0, 8)], 8, nil as String?),                                    // one per queue
        (2, [(1, 8), (2, 8), (8, 8)], 8, nil),                               // CPU 8 takes queue 0, free
        (3, [(1, 4), (5, 4)], 4, "rx queue 1 would serve CPU 1 (a) and CPU 5 (b)"),
        (4, [(3, 1), (3, 1)], 1, nil),                                       // two receptions, one CPU: fine
        (5, [(0, 1), (1, 1)], 1, "the NIC has 1 rx queue for 2 placed CPUs"),
    ] as [(Int, [(Int, Int)], Int, String?)])
    func receptionsOnOneQueueNeedOneCPU(_ case: Int, _ cpus: [(Int, Int)], _ queues: Int, _ message: String?) {
        let items = cpus.enumerated().map { (label: String(UnicodeScalar(UInt8(97 + $0.offset))), cpu: $0.element.0) }
        let conflict = SteeringCommands.queueConflict(items, queues: queues, nic: "eth1")
        if let message { #expect(conflict?.contains(message) == true, "case \(`case`): \(conflict ?? "none")") } else { #expect(conflict == nil, "case \(`case`)") }
    }

    @Test func theQueueIsTheCPUModuloTheQueues() {
        #expect(SteeringCommands.queue(forCPU: 9, queues: 8) == 1 && SteeringCommands.queue(forCPU: 3, queues: 0) == 0)
    }
}
