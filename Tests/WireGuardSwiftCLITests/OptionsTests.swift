import ArgumentParser
import Testing
@testable import WireGuardSwiftCLI

/// The daemon's command line, parsed as `wireguard-swift` parses it, without starting anything.
struct OptionsTests {
    @Test func cpuListsBecomeTheParallelEnginesCPUs() throws {
        let options = try Options.parse(["--engine", "parallel", "--encrypt-cpus", "0-3,8", "--decrypt-cpus", "4-5\n",
                                         "--serial-cpus", "6", "--workers", "2", "wg0"])
        #expect(options.engine == .parallel && options.interface == "wg0")
        let parallel = options.parallel
        #expect(parallel.encryptCPUs == [0, 1, 2, 3, 8])
        #expect(parallel.decryptCPUs == [4, 5])  // trimmed, as the harness trims sysfs lists
        #expect(parallel.serialCPUs == [6])
        #expect(parallel.workers == 2)
    }

    /// One rule set with the harness's (LinuxCPUList), plus: a daemon flag naming no CPU is refused.
    @Test(arguments: ["", "4096", "0-4096", "3-1", "1,,2", "+1", "a"])
    func badCPUListsAreRefused(_ list: String) {
        #expect(throws: (any Error).self) { try Options.parse(["--encrypt-cpus", list, "wg0"]) }
        #expect(throws: (any Error).self) { try Options.cpuList(list) }
    }

    @Test func otherFlagsAreChecked() throws {
        #expect(throws: (any Error).self) { try Options.parse(["wg0/x"]) }
        #expect(throws: (any Error).self) { try Options.parse(["sixteen-bytes-xx"]) }
        #expect(throws: (any Error).self) { try Options.parse(["--cpu", "4096", "wg0"]) }
        #expect(throws: (any Error).self) { try Options.parse(["--workers", "0", "wg0"]) }
        #expect(throws: (any Error).self) { try Options.parse(["--engine", "fast", "wg0"]) }
        #expect(try Options.parse(["-f", "--cpu", "4095", "wg0"]).cpu == 4095)
    }

    @Test func theCommandTakesTheOptions() throws {
        let command = try WireGuardSwift.parseAsRoot(["-f", "--no-offload", "wg1"])
        let daemon = try #require(command as? WireGuardSwift)
        #expect(daemon.options.foreground && daemon.options.noOffload && daemon.options.interface == "wg1")
    }
}
