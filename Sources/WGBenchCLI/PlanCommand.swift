import ArgumentParser
import Foundation
import WGBenchCore
import WGBenchEngine
import WGBenchSimulation

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print every command a run would execute, per point and host, without connecting to anything.")

    @Argument(help: "The experiment file.") var experiment: String
    @OptionGroup var options: TestbedOptions
    @Option(help: "CPUs to assume per host.") var cpus = 32
    @Option(help: "NUMA nodes to assume per host (equal blocks of CPUs; the NICs on node 0).") var numaNodes = 2
    @Option(help: "Rx queues to assume per NIC (default: one per CPU); fewer than the CPUs a point places receptions on fails it.")
    var rxQueues: Int?

    func validate() throws {
        guard (1...4096).contains(cpus) else { throw ValidationError("--cpus takes 1 to 4096") }
        guard (1...cpus).contains(numaNodes) else { throw ValidationError("--numa-nodes takes 1 to the number of CPUs") }
        if let rxQueues, !(1...4096).contains(rxQueues) { throw ValidationError("--rx-queues takes 1 to 4096") }
    }

    func run() throws {
        print(try Planner.plan(spec: try ExperimentLoader.load(path: experiment), experimentFile: experiment,
                               testbed: try options.load(), cpus: cpus, numaNodes: numaNodes, rxQueues: rxQueues),
              terminator: "")
    }
}
