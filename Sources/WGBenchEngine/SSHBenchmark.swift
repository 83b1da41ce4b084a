import WGBenchCore
import WGBenchRemote

/// Round-trip times of a trivial remote command over the persistent path and over a new
/// connection per command, measured back to back in the same run.
public struct SSHBenchmark: Sendable {
    public struct Figures: Sendable {
        public var host: String
        public var persistentMs: [Double]
        public var freshMs: [Double]

        public var persistentMedian: Double { Percentile.median(persistentMs) ?? .nan }
        public var persistentP99: Double { Percentile.of(persistentMs, 99) ?? .nan }
        public var freshMedian: Double { Percentile.median(freshMs) ?? .nan }
        public var freshP99: Double { Percentile.of(freshMs, 99) ?? .nan }
        /// How many times faster the persistent path is, by median.
        public var speedup: Double { freshMedian / persistentMedian }
    }

    public var persistentCount: Int
    public var freshCount: Int

    public init(persistentCount: Int = 200, freshCount: Int = 20) {
        self.persistentCount = persistentCount
        self.freshCount = freshCount
    }

    public func measure(_ endpoint: SSHEndpoint) throws -> Figures {
        let command = HostOperation.nothing
        let host = SSHHost(endpoint)
        try host.connect()
        defer { host.disconnect() }
        _ = try host.check(command)  // warm-up: the first command pays for page faults and caches
        let clock = ContinuousClock()
        var persistent: [Double] = []
        for _ in 0..<persistentCount {
            persistent.append(try clock.measure { try host.check(command) }.milliseconds)
        }
        var fresh: [Double] = []
        for _ in 0..<freshCount {
            fresh.append(try clock.measure {
                let result = try SSHConnection(endpoint).runOnce(ShellRenderer.command(command))
                guard result.succeeded else {
                    throw RemoteError.commandFailed(host: endpoint.name, address: endpoint.address, command: "true",
                                                    status: result.status, stderrTail: result.stderrTail)
                }
            }.milliseconds)
        }
        return Figures(host: endpoint.name, persistentMs: persistent, freshMs: fresh)
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
