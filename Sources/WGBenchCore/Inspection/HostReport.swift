/// What `wgbench testbed check` learns about one host. Every field is read from the host;
/// nil means the host could not tell (the tool was missing or printed nothing usable).
public struct HostReport: Codable, Sendable {
    public var role: HostRole
    public var address: String
    public var kernel: String?
    public var cpu: CPUInfo?
    public var nics: [NICReport]
    public var tools: [String: String?]
    public var kernelWireGuard: KernelWireGuard
    public var missing: [MissingItem]

    public init(role: HostRole, address: String, kernel: String?, cpu: CPUInfo?, nics: [NICReport],
                tools: [String: String?], kernelWireGuard: KernelWireGuard) {
        self.role = role
        self.address = address
        self.kernel = kernel
        self.cpu = cpu
        self.nics = nics
        self.tools = tools
        self.kernelWireGuard = kernelWireGuard
        self.missing = []
        self.missing = MissingAnalysis.missing(in: self)
    }
}

public struct NICReport: Codable, Sendable {
    public var link: LinkRole
    public var name: String
    /// False when the testbed names an interface the host does not have.
    public var present: Bool
    public var driver: DriverInfo?
    public var rxQueues: Int?
    public var txQueues: Int?
    public var ntuple: NtupleSupport

    public init(link: LinkRole, name: String, present: Bool, driver: DriverInfo?, rxQueues: Int?, txQueues: Int?,
                ntuple: NtupleSupport) {
        self.link = link
        self.name = name
        self.present = present
        self.driver = driver
        self.rxQueues = rxQueues
        self.txQueues = txQueues
        self.ntuple = ntuple
    }
}

/// Whether the host kernel has WireGuard.
public enum KernelWireGuard: String, Codable, Sendable {
    case loaded
    /// A module file exists; it loads on first use.
    case available
    case absent
}

/// Something a host lacks, with the fix.
public struct MissingItem: Codable, Hashable, Sendable {
    public var what: String
    public var fix: String
    /// A limitation experiments can live with (recorded as unsupported) rather than a blocker.
    public var limitation: Bool
}

/// The tools `check` asks for, with the Debian package that brings each.
public enum CheckedTool: String, CaseIterable, Sendable {
    case iperf3, wg, wireguardGo = "wireguard-go", ethtool, ip

    public var package: String {
        switch self {
        case .iperf3: return "iperf3"
        case .wg: return "wireguard-tools"
        case .wireguardGo: return "wireguard-go"
        case .ethtool: return "ethtool"
        case .ip: return "iproute2"
        }
    }

    public var versionCommand: HostOperation { .read(.toolVersion(self)) }

    /// Which roles need the tool for experiments.
    public func needed(by role: HostRole) -> Bool {
        switch self {
        case .iperf3: return !role.isGateway
        case .wg, .wireguardGo: return role.isGateway
        case .ethtool, .ip: return true
        }
    }
}

public enum MissingAnalysis {
    public static func missing(in report: HostReport) -> [MissingItem] {
        var items: [MissingItem] = []
        for tool in CheckedTool.allCases where tool.needed(by: report.role) {
            if (report.tools[tool.rawValue] ?? nil) == nil {
                items.append(MissingItem(what: "\(tool.rawValue) is not installed",
                                         fix: "apt-get install \(tool.package)", limitation: false))
            }
        }
        if report.kernel == nil {
            items.append(MissingItem(what: "the kernel release could not be read", fix: "check that uname runs", limitation: false))
        }
        if report.cpu == nil {
            items.append(MissingItem(what: "lscpu gave no CPU information", fix: "apt-get install util-linux", limitation: false))
        }
        for nic in report.nics {
            if !nic.present {
                items.append(MissingItem(what: "interface \(nic.name) (\(nic.link) link) does not exist",
                                         fix: "fix the interface name in the testbed file or create the link", limitation: false))
            } else if nic.ntuple == .unsupported || nic.ntuple == .unknown {
                let driver = nic.driver?.driver ?? "unknown driver"
                items.append(MissingItem(what: "\(nic.name) (\(driver)) has no ntuple flow steering",
                                         fix: "steering steps will be recorded as unsupported; use a NIC with ntuple filters to place flows",
                                         limitation: true))
            }
        }
        if report.role.isGateway, report.kernelWireGuard == .absent {
            items.append(MissingItem(what: "kernel WireGuard is not available",
                                     fix: "boot a kernel with the wireguard module (Linux >= 5.6); userspace targets still work",
                                     limitation: true))
        }
        return items
    }
}
