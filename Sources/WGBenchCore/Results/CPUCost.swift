import Foundation

/// What the CPU cost of a run is measured against, written once per run (`metadata/cpu-cost.json`).
public struct CPUCostContext: Codable, Sendable, Equatable {
    /// The crypto-only floor: ChaCha20-Poly1305 (OpenSSL, the datapath's) on one core.
    public struct Floor: Codable, Sendable, Equatable {
        /// Where it was measured (the controller; on the local testbed the gateways' machine too).
        public var host: String
        public var packetBytes: Int
        public var sealSecondsPerGB: Double
        public var openSecondsPerGB: Double

        public init(host: String, packetBytes: Int, sealSecondsPerGB: Double, openSecondsPerGB: Double) {
            self.host = host
            self.packetBytes = packetBytes
            self.sealSecondsPerGB = sealSecondsPerGB
            self.openSecondsPerGB = openSecondsPerGB
        }

        /// Both gateways: every byte is sealed once and opened once.
        public var tunnelSecondsPerGB: Double { sealSecondsPerGB + openSecondsPerGB }
    }

    public var floor: Floor?
    /// gw1 and gw2 are one machine (same boot id: the local testbed's namespaces). /proc/stat is
    /// then the machine's, so it is counted once, and it includes source and drain.
    public var gatewaysShareMachine: Bool

    public init(floor: Floor?, gatewaysShareMachine: Bool) {
        self.floor = floor
        self.gatewaysShareMachine = gatewaysShareMachine
    }
}

/// CPU-seconds per gigabyte through the tunnel: the gateways' busy cores over the measured window
/// divided by the bytes the flows delivered in it.
public enum CPUCost {
    public static func secondsPerGB(cpu: [String: [CoreUsage]], throughputBitsPerSecond: Double, gatewaysShareMachine: Bool) -> Double? {
        let hosts = gatewaysShareMachine ? ["gw1"] : ["gw1", "gw2"]
        guard throughputBitsPerSecond > 0, hosts.allSatisfy({ cpu[$0]?.isEmpty == false }) else { return nil }
        // busy is a percentage of one core; cores busy x seconds / (bytes per second x seconds / 1e9).
        let busyCores = hosts.flatMap { cpu[$0]! }.map(\.busy).reduce(0, +) / 100
        return busyCores / (throughputBitsPerSecond / 8 / 1e9)
    }

    /// The boot ids of two hosts' metadata say whether they are one machine.
    public static func sameMachine(bootID a: String?, bootID b: String?) -> Bool {
        guard let a = a?.trimmingCharacters(in: .whitespacesAndNewlines), let b = b?.trimmingCharacters(in: .whitespacesAndNewlines),
              !a.isEmpty else { return false }
        return a == b
    }
}
