import Foundation

/// What the CPU cost of a run is measured against, written once per run (`metadata/cpu-cost.json`).
public struct CPUCostContext: Codable, Sendable, Equatable {
    /// The crypto-only floor: ChaCha20-Poly1305 (OpenSSL, the datapath's library) on one core of
    /// a gateway's machine (`CryptoFloorCommands`).
    public struct Floor: Codable, Sendable, Equatable {
        /// The machine it was measured on, as it names itself (`uname -n`); runs before the floor
        /// moved to the gateways measured it on the controller, and have no `roles`.
        public var host: String
        /// The gateways it stands for: both where they are one machine.
        public var roles: [String]
        /// What measured it (`openssl version`), where known.
        public var tool: String?
        public var packetBytes: Int
        public var sealSecondsPerGB: Double
        public var openSecondsPerGB: Double
        /// What the measurement printed, from which the rates were read (raw data is kept).
        public var output: String?

        public init(host: String, roles: [String], tool: String? = nil, packetBytes: Int, sealSecondsPerGB: Double, openSecondsPerGB: Double,
                    output: String? = nil) {
            self.host = host
            self.roles = roles
            self.tool = tool
            self.packetBytes = packetBytes
            self.sealSecondsPerGB = sealSecondsPerGB
            self.openSecondsPerGB = openSecondsPerGB
            self.output = output
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            host = try container.decode(String.self, forKey: .host)
            roles = try container.decodeIfPresent([String].self, forKey: .roles) ?? []
            tool = try container.decodeIfPresent(String.self, forKey: .tool)
            packetBytes = try container.decode(Int.self, forKey: .packetBytes)
            sealSecondsPerGB = try container.decode(Double.self, forKey: .sealSecondsPerGB)
            openSecondsPerGB = try container.decode(Double.self, forKey: .openSecondsPerGB)
            output = try container.decodeIfPresent(String.self, forKey: .output)
        }

        /// Both ends on one machine: every byte is sealed once and opened once.
        public var tunnelSecondsPerGB: Double { sealSecondsPerGB + openSecondsPerGB }

        /// `gw1 (lab-a)`, `gw1 and gw2 (lab-a)`; the bare host for a controller-measured floor.
        public var label: String {
            roles.isEmpty ? host : "\(roles.joined(separator: " and ")) (\(host))"
        }
    }

    /// A gateway where the floor could not be measured, and why (no openssl there, say).
    public struct UnavailableFloor: Codable, Sendable, Equatable {
        public var host: String
        public var roles: [String]
        public var reason: String

        public init(host: String, roles: [String], reason: String) {
            self.host = host
            self.roles = roles
            self.reason = reason
        }
    }

    /// One floor per gateway machine measured (one where gw1 and gw2 are one machine).
    public var floors: [Floor]
    public var unavailableFloors: [UnavailableFloor]
    /// gw1 and gw2 are one machine (same boot id: the local testbed's namespaces). /proc/stat is
    /// then the machine's, so it is counted once, and it includes source and drain.
    public var gatewaysShareMachine: Bool

    public init(floors: [Floor], unavailableFloors: [UnavailableFloor] = [], gatewaysShareMachine: Bool) {
        self.floors = floors
        self.unavailableFloors = unavailableFloors
        self.gatewaysShareMachine = gatewaysShareMachine
    }

    enum CodingKeys: String, CodingKey { case floors, unavailableFloors, gatewaysShareMachine, floor }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Runs before per-gateway floors wrote one `floor` (the controller's).
        floors = try container.decodeIfPresent([Floor].self, forKey: .floors)
            ?? [container.decodeIfPresent(Floor.self, forKey: .floor)].compactMap { $0 }
        unavailableFloors = try container.decodeIfPresent([UnavailableFloor].self, forKey: .unavailableFloors) ?? []
        gatewaysShareMachine = try container.decode(Bool.self, forKey: .gatewaysShareMachine)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(floors, forKey: .floors)
        try container.encode(unavailableFloors, forKey: .unavailableFloors)
        try container.encode(gatewaysShareMachine, forKey: .gatewaysShareMachine)
    }

    /// The floor measured on `role`'s machine; a run's only floor where none names its gateways.
    public func floor(of role: String) -> Floor? {
        floors.first { $0.roles.contains(role) } ?? (floors.count == 1 && floors[0].roles.isEmpty ? floors[0] : nil)
    }

    /// The tunnel's floor per GB: gw1 seals what the flows send, gw2 opens it, each at its own
    /// machine's rate; nil unless both were measured.
    public var tunnelFloorSecondsPerGB: Double? {
        guard let gw1 = floor(of: "gw1"), let gw2 = floor(of: "gw2") else { return nil }
        return gw1.sealSecondsPerGB + gw2.openSecondsPerGB
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
