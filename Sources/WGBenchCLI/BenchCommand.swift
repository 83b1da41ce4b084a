import ArgumentParser
import Foundation
import WGBenchCore
import WGBenchEngine
import WGBenchRemote
import WireGuard

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Micro-benchmarks of wgbench's own machinery.",
        subcommands: [SSH.self, Datapath.self]
    )

    struct SSH: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Round trip of a trivial remote command: persistent session vs a new connection per command.")
        @OptionGroup var options: TestbedOptions
        @Option(help: "Round trips over the persistent path, per host.") var count = 200
        @Option(help: "Round trips over a new connection each, per host.") var fresh = 20
        @Option(help: "Hosts to measure: comma-separated roles of source, gw1, gw2, drain.") var hosts = HostRoleList(HostRole.allCases)

        func validate() throws {
            guard count >= 1, fresh >= 1 else { throw ValidationError("--count and --fresh must be at least 1") }
        }

        func run() throws {
            let testbed = try options.load()
            let bench = SSHBenchmark(persistentCount: count, freshCount: fresh)
            print("host     persistent median   p99      new connection median   p99       speed-up")
            // One host at a time, so the hosts do not compete for the controller's cores.
            for role in hosts.roles {
                let f = try bench.measure(SSHEndpoint(testbed: testbed, role: role))
                print(String(format: "%-8@ %10.2f ms %8.2f ms %14.2f ms %9.2f ms %9.0fx",
                             f.host as NSString, f.persistentMedian, f.persistentP99, f.freshMedian, f.freshP99, f.speedup))
            }
            print("(\(count) persistent and \(fresh) new-connection round trips of `true` per host, measured in this run)")
        }
    }

    struct Datapath: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per-packet cost of wireguard-swift's engines over in-memory TUN/UDP, next to the crypto floor (OpenSSL, the datapath's; libsodium for comparison).",
            discussion: "Build with -c release for meaningful figures. CPU time is the whole process's (all threads).")
        @Option(help: "Packets per measurement.") var packets = 200_000
        @Option(help: "IP packet size in bytes.") var size = 1420
        @Option(help: "Worker threads of the parallel engine.") var workers = max(1, ProcessInfo.processInfo.activeProcessorCount)

        func validate() throws {
            guard packets >= 1000 else { throw ValidationError("--packets must be at least 1000") }
            guard (20...65535).contains(size) else { throw ValidationError("--size must be 20 to 65535 bytes") }
            guard (1...256).contains(workers) else { throw ValidationError("--workers must be 1 to 256") }
        }

        func run() throws {
            let figures = DatapathBenchmark.run(packetSize: size, packets: packets, workers: workers)
            let floor = figures[0]
            print("what                                    packets/s   ns/packet (wall)  ns/packet (CPU)   Gbit/s   CPU-s/GB   x floor")
            for f in figures {
                let name = f.name.padding(toLength: 38, withPad: " ", startingAt: 0)
                print(name + String(format: " %11.0f %17.0f %16.0f %8.2f %10.2f %9.2f", f.packetsPerSecond,
                             f.wallNanosecondsPerPacket, f.cpuNanosecondsPerPacket, f.gigabitsPerSecond, f.cpuSecondsPerGB,
                             f.cpuNanosecondsPerPacket / floor.cpuNanosecondsPerPacket))
            }
            print("(\(packets) packets of \(size) bytes each, measured in this run on \(ProcessInfo.processInfo.activeProcessorCount) CPUs)")
        }
    }
}
