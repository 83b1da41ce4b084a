import WireGuard

/// The daemon's command line.
struct Options {
    var foreground = false
    var engine = "inline"
    var interface = ""
    /// inline: the CPU of the tunnel's thread.
    var cpu: Int?
    var parallel = ParallelOptions()
    var offload = true

    static let usage = """
        usage: wireguard-swift [-f|--foreground] [--engine inline|parallel] [--cpu N]
                               [--encrypt-cpus LIST] [--decrypt-cpus LIST] [--serial-cpus LIST] [--workers N]
                               [--small-batch N] [--no-offload] <ifname>
               wireguard-swift --version
        """

    /// The arguments after the program's name; a message on error.
    init(_ arguments: [String]) throws(OptionError) {
        var rest = arguments[...]
        func value(_ flag: String) throws(OptionError) -> String {
            guard let value = rest.popFirst() else { throw OptionError("\(flag) needs a value") }
            return value
        }
        func cpus(_ flag: String) throws(OptionError) -> [Int] {
            let text = try value(flag)
            guard let list = Self.cpuList(text) else { throw OptionError("\(flag) takes a CPU list such as 0-3,8, not \(text)") }
            return list
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "-f", "--foreground": foreground = true
            case "--engine":
                engine = try value(argument)
                guard ["inline", "parallel"].contains(engine) else { throw OptionError("--engine takes inline or parallel, not \(engine)") }
            case "--cpu":
                guard let cpu = Int(try value(argument)), cpu >= 0 else { throw OptionError("--cpu takes a CPU number") }
                self.cpu = cpu
            case "--encrypt-cpus": parallel.encryptCPUs = try cpus(argument)
            case "--decrypt-cpus": parallel.decryptCPUs = try cpus(argument)
            case "--serial-cpus": parallel.serialCPUs = try cpus(argument)
            case "--workers":
                guard let workers = Int(try value(argument)), (1...256).contains(workers) else { throw OptionError("--workers takes 1 to 256") }
                parallel.workers = workers
            case "--small-batch":
                guard let limit = Int(try value(argument)), (0...PacketBatch.defaultCapacity).contains(limit) else {
                    throw OptionError("--small-batch takes 0 to \(PacketBatch.defaultCapacity) packets")
                }
                parallel.smallBatch = limit
            case "--no-offload": offload = false
            default:
                guard interface.isEmpty, !argument.hasPrefix("-") else { throw OptionError("unknown argument \(argument)\n\(Self.usage)") }
                interface = argument
            }
        }
        guard (1...15).contains(interface.utf8.count) else { throw OptionError(Self.usage) }
    }

    /// `0-3,8` as [0, 1, 2, 3, 8].
    static func cpuList(_ text: String) -> [Int]? {
        var cpus: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...2).contains(bounds.count), let low = bounds.first ?? nil, let high = bounds.last ?? nil,
                  low >= 0, low <= high, high < 4096 else { return nil }
            cpus += Array(low...high)
        }
        return cpus
    }
}

struct OptionError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
