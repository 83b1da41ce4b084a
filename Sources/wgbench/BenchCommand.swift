import ArgumentParser
import Foundation
import WGBenchCore
import WGBenchEngine
import WGBenchRemote

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Micro-benchmarks of wgbench's own machinery.",
        subcommands: [SSH.self]
    )

    struct SSH: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Round trip of a trivial remote command: persistent session vs a new connection per command.")
        @OptionGroup var options: TestbedOptions
        @Option(help: "Round trips over the persistent path, per host.") var count = 200
        @Option(help: "Round trips over a new connection each, per host.") var fresh = 20
        @Option(help: "Hosts to measure (comma-separated roles).") var hosts = "source,gw1,gw2,drain"

        func validate() throws {
            guard count >= 1, fresh >= 1 else { throw ValidationError("--count and --fresh must be at least 1") }
            for name in hosts.split(separator: ",") where HostRole(rawValue: String(name)) == nil {
                throw ValidationError("unknown host '\(name)' in --hosts; the roles are source, gw1, gw2, drain")
            }
        }

        func run() throws {
            let testbed = try TestbedLoader.load(path: options.testbed)
            let bench = SSHBenchmark(persistentCount: count, freshCount: fresh)
            print("host     persistent median   p99      new connection median   p99       speed-up")
            // One host at a time, so the hosts do not compete for the controller's cores.
            for role in hosts.split(separator: ",").compactMap({ HostRole(rawValue: String($0)) }) {
                let f = try bench.measure(SSHEndpoint(testbed: testbed, role: role))
                print(String(format: "%-8@ %10.2f ms %8.2f ms %14.2f ms %9.2f ms %9.0fx",
                             f.host as NSString, f.persistentMedian, f.persistentP99, f.freshMedian, f.freshP99, f.speedup))
            }
            print("(\(count) persistent and \(fresh) new-connection round trips of `true` per host, measured in this run)")
        }
    }
}
