import ArgumentParser
import CPUSets
import WireGuard

/// The daemon's command line (swift-argument-parser): the interface and how its engine runs.
struct Options: ParsableArguments {
    @Flag(name: [.customShort("f"), .long], help: "Stay in the foreground (otherwise the daemon detaches once the interface is up).")
    var foreground = false

    @Option(help: "inline (run to completion on one thread) or parallel (crypto workers).")
    var engine: EngineKind = .inline

    @Option(help: "inline: the CPU of the tunnel's thread.")
    var cpu: Int?

    @Option(name: .customLong("encrypt-cpus"), help: "parallel: one encryption worker per CPU of this list (such as 0-3,8).",
            transform: Options.cpuList)
    var encryptCPUs: [Int] = []

    @Option(name: .customLong("decrypt-cpus"), help: "parallel: one decryption worker per CPU of this list.", transform: Options.cpuList)
    var decryptCPUs: [Int] = []

    @Option(name: .customLong("serial-cpus"), help: "parallel: the CPUs of the in-order send and deliver threads.", transform: Options.cpuList)
    var serialCPUs: [Int] = []

    @Option(help: "parallel: workers per direction where no CPU list is given (1 to 256; default: the CPUs allowed).")
    var workers: Int?

    @Option(name: .customLong("small-batch"),
            help: "parallel: batches of at most this many packets whose peer has nothing in flight are handled by the reading thread (0: never).")
    var smallBatch: Int?

    @Flag(name: .customLong("no-offload"), help: "No TUN TSO and no UDP GSO/GRO.")
    var noOffload = false

    @Argument(help: "The interface to create (1 to 15 bytes).")
    var interface: String

    enum EngineKind: String, ExpressibleByArgument { case inline, parallel }

    func validate() throws {
        guard (1...15).contains(interface.utf8.count), !interface.contains("/") else {
            throw ValidationError("the interface name must be 1 to 15 bytes without '/', not \(interface)")
        }
        if let cpu, !(0...LinuxCPUList.maxCPU).contains(cpu) { throw ValidationError("--cpu takes a CPU number, 0 to \(LinuxCPUList.maxCPU)") }
        if let workers, !(1...256).contains(workers) { throw ValidationError("--workers takes 1 to 256") }
        if let smallBatch, !(0...PacketBatch.defaultCapacity).contains(smallBatch) {
            throw ValidationError("--small-batch takes 0 to \(PacketBatch.defaultCapacity) packets")
        }
    }

    var parallel: ParallelOptions {
        var options = ParallelOptions()
        options.encryptCPUs = encryptCPUs
        options.decryptCPUs = decryptCPUs
        options.serialCPUs = serialCPUs
        if let workers { options.workers = workers }
        if let smallBatch { options.smallBatch = smallBatch }
        return options
    }

    /// `0-3,8` as [0, 1, 2, 3, 8], by the harness's rules (`LinuxCPUList`); an empty list names
    /// no CPU, which no flag of the daemon means, so it is refused here.
    static func cpuList(_ text: String) throws -> [Int] {
        guard let cpus = LinuxCPUList.parse(text), !cpus.isEmpty else {
            throw ValidationError("a CPU list such as 0-3,8 (CPUs 0 to \(LinuxCPUList.maxCPU)), not '\(text)'")
        }
        return cpus
    }
}
