import Testing
@testable import WGBenchCore

struct CPUCostTests {
    static func cores(_ busy: [Double]) -> [CoreUsage] {
        busy.enumerated().map { CoreUsage(cpu: $0.offset, user: $0.element, system: 0, irq: 0, softirq: 0, idle: 100 - $0.element) }
    }

    @Test func cpuSecondsPerGigabyteFromBusyCoresAndThroughput() throws {
        // 1 Gbit/s is 0.125 GB/s; gw1 keeps 1.5 cores busy and gw2 0.5: 2 cores / 0.125 GB/s = 16 s/GB.
        let cpu = ["gw1": Self.cores([100, 50]), "gw2": Self.cores([25, 25])]
        let separate = try #require(CPUCost.secondsPerGB(cpu: cpu, throughputBitsPerSecond: 1e9, gatewaysShareMachine: false))
        #expect(abs(separate - 16) < 1e-9)
        // One machine: gw1's /proc/stat already is the machine's, counted once.
        let shared = try #require(CPUCost.secondsPerGB(cpu: cpu, throughputBitsPerSecond: 1e9, gatewaysShareMachine: true))
        #expect(abs(shared - 12) < 1e-9)
        #expect(CPUCost.secondsPerGB(cpu: ["gw1": Self.cores([50])], throughputBitsPerSecond: 1e9, gatewaysShareMachine: false) == nil)
        #expect(CPUCost.secondsPerGB(cpu: cpu, throughputBitsPerSecond: 0, gatewaysShareMachine: false) == nil)
    }

    @Test func bootIDsTellOneMachineFromTwo() {
        #expect(CPUCost.sameMachine(bootID: "0b9e\n", bootID: "0b9e"))
        #expect(!CPUCost.sameMachine(bootID: "0b9e", bootID: "77aa"))
        #expect(!CPUCost.sameMachine(bootID: nil, bootID: nil) && !CPUCost.sameMachine(bootID: "", bootID: ""))
    }
}
