/// The four hosts of the paper's testbed (Fig. 3), in a line: source -> gw1 -> gw2 -> drain.
public enum HostRole: String, CaseIterable, Codable, Sendable, Comparable, CustomStringConvertible {
    case source, gw1, gw2, drain

    /// The links this host has an interface on, in path order.
    public var links: [LinkRole] {
        switch self {
        case .source: return [.ingress]
        case .gw1: return [.ingress, .underlay]
        case .gw2: return [.underlay, .egress]
        case .drain: return [.egress]
        }
    }

    public var isGateway: Bool { self == .gw1 || self == .gw2 }
    public var description: String { rawValue }

    public static func < (a: HostRole, b: HostRole) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The three data-plane links. The tunnels run over `underlay`.
public enum LinkRole: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    /// source - gw1: the plain traffic entering the VPN.
    case ingress
    /// gw1 - gw2: the tunnels' UDP traffic.
    case underlay
    /// gw2 - drain: the plain traffic leaving the VPN.
    case egress

    /// The two hosts on this link, upstream first.
    public var ends: (upstream: HostRole, downstream: HostRole) {
        switch self {
        case .ingress: return (.source, .gw1)
        case .underlay: return (.gw1, .gw2)
        case .egress: return (.gw2, .drain)
        }
    }

    public var description: String { rawValue }
}

/// How a host's SSH host key is checked against the known_hosts file.
public enum HostKeyPolicy: String, CaseIterable, Sendable {
    /// Unknown and mismatching keys are refused (the default).
    case strict
    /// Unknown keys are added to known_hosts; mismatching keys are still refused.
    case acceptNew = "accept-new"
}

/// How the controller reaches one host.
public struct SSHTarget: Hashable, Sendable {
    public var address: HostAddress
    public var port: Port
    public var user: UserName
    /// The private key; its public half is looked for next to it as `<identity>.pub`.
    public var identity: FilePath
    public var connectTimeout: SpecDuration
    /// Default limit for one remote command.
    public var commandTimeout: SpecDuration
}

/// One data-plane interface of a host.
public struct HostInterface: Hashable, Sendable {
    public var link: LinkRole
    public var name: InterfaceName
    public var address: IPv4Interface
}

public struct TestbedHost: Sendable {
    public var role: HostRole
    public var ssh: SSHTarget
    /// Exactly the links of `role`.
    public var interfaces: [LinkRole: HostInterface]

    public func interface(_ link: LinkRole) -> HostInterface {
        guard let interface = interfaces[link] else {
            preconditionFailure("validated testbeds give \(role) an interface on \(link)")
        }
        return interface
    }
}

/// Settings of a testbed that wgbench creates on this machine out of network namespaces.
public struct LocalTestbedSettings: Sendable {
    /// Prefixes every namespace, link and process wgbench creates, so testbeds can coexist.
    public var prefix: NamePrefix
    /// Keys, sshd configs, pid files and logs; removed by `down`.
    public var stateDirectory: FilePath
    /// The management bridge's address in the root namespace; hosts' SSH addresses lie in its network.
    public var management: IPv4Interface
}

/// A validated testbed: four hosts, their SSH access and their data-plane interfaces.
public struct Testbed: Sendable {
    public var name: Identifier
    /// The file it came from, for messages.
    public var file: String
    public var hosts: [HostRole: TestbedHost]
    public var knownHosts: FilePath
    public var hostKeyPolicy: HostKeyPolicy
    /// Present when wgbench creates the testbed itself (`wgbench testbed up`).
    public var local: LocalTestbedSettings?
    /// Programs at paths of their own on the gateways (`tools: {wireguard-swift: /opt/wg/wireguard-swift}`);
    /// others are found on the PATH.
    public var tools: [String: FilePath] = [:]

    /// Programs copied from the controller to the gateways at the start of each run
    /// (`upload: {wireguard-swift: build}`), and run from there; removed at its end.
    public var uploads: [String: UploadSource] = [:]

    /// The program a target runs on the gateways.
    public func program(_ name: String) -> String { tools[name]?.rawValue ?? name }

    public func host(_ role: HostRole) -> TestbedHost {
        guard let host = hosts[role] else { preconditionFailure("validated testbeds have all four roles") }
        return host
    }

    /// Hosts in path order.
    public var orderedHosts: [TestbedHost] { HostRole.allCases.map(host) }
}

/// What to upload for a tool.
public enum UploadSource: Sendable, Equatable, CustomStringConvertible {
    /// The program built beside the running wgbench executable (`swift build` puts both there).
    case build
    /// A file on the controller.
    case file(FilePath)

    public var description: String {
        switch self {
        case .build: return "build"
        case .file(let path): return path.rawValue
        }
    }
}
