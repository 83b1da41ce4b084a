import Foundation

/// What `wgbench testbed up` builds on this machine, as data: names, commands and config files.
///
/// ```
///  root namespace (the controller)
///    bridge <p>-mgmt  ── veth <p>-m-<role> ── mgmt0 in each host namespace, sshd listening there
///  data plane, in a line like the paper's Fig. 3:
///    <p>-source ──ingress── <p>-gw1 ══underlay══ <p>-gw2 ──egress── <p>-drain
/// ```
/// Everything is named after the prefix so that two testbeds can coexist, and so that `down`
/// and the residue check find all of it again.
public struct LocalTestbedPlan: Sendable {
    public let testbed: Testbed
    public let settings: LocalTestbedSettings

    public init(testbed: Testbed) {
        guard let settings = testbed.local else { preconditionFailure("\(testbed.name) is not a local testbed") }
        self.testbed = testbed
        self.settings = settings
    }

    // MARK: Names

    /// The prefix of the embedded default testbed (testbeds/local.yaml).
    public static let defaultPrefix = "wgb"

    public var prefix: String { settings.prefix.rawValue }
    public func namespace(_ role: HostRole) -> String { "\(prefix)-\(role)" }
    public var bridge: String { "\(prefix)-mgmt" }
    public func managementVeth(_ role: HostRole) -> String { "\(prefix)-m-\(role)" }
    public static let managementInterface = "mgmt0"
    public var namespaces: [String] { HostRole.allCases.map(namespace) }

    // MARK: Files

    public var stateDirectory: FilePath { settings.stateDirectory }
    public var clientKey: FilePath { stateDirectory.appending("id_ed25519") }
    public var authorizedKeys: FilePath { stateDirectory.appending("authorized_keys") }
    /// The host keys `up` makes, pinned: the only known_hosts a local testbed uses.
    public var knownHosts: FilePath { stateDirectory.appending("known_hosts") }
    /// Held while `up` or `down` works (beside the state directory, which `up` makes and `down` removes).
    public var lockFile: String {
        let parent = (stateDirectory.rawValue as NSString).deletingLastPathComponent
        return (parent == "/" ? "" : parent) + "/.\(prefix).lock"
    }
    public func hostDirectory(_ role: HostRole) -> FilePath { stateDirectory.appending(role.rawValue) }
    public func hostKey(_ role: HostRole) -> FilePath { hostDirectory(role).appending("ssh_host_ed25519_key") }
    public func sshdConfigPath(_ role: HostRole) -> FilePath { hostDirectory(role).appending("sshd_config") }
    public func sshdPidFile(_ role: HostRole) -> FilePath { hostDirectory(role).appending("sshd.pid") }
    public func sshdLog(_ role: HostRole) -> FilePath { hostDirectory(role).appending("sshd.log") }

    public func sshdConfig(_ role: HostRole) -> String {
        let host = testbed.host(role)
        return """
        # Written by wgbench for the local testbed '\(testbed.name)', host \(role). Removed by `wgbench testbed down`.
        ListenAddress \(host.ssh.address)
        Port \(host.ssh.port)
        HostKey \(hostKey(role))
        PidFile \(sshdPidFile(role))
        AuthorizedKeysFile \(authorizedKeys)
        PermitRootLogin prohibit-password
        PubkeyAuthentication yes
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        UsePAM no
        StrictModes no
        PrintMotd no
        UseDNS no
        MaxSessions 64
        MaxStartups 100:30:200
        LogLevel VERBOSE
        Subsystem sftp internal-sftp

        """
    }

    // MARK: Commands, run in the root namespace

    /// Namespaces, the management bridge and veths, the data-plane links, forwarding and routes.
    /// sshd is started separately, once its keys and config are written.
    public var networkCommands: [Command] {
        var commands: [Command] = []
        for role in HostRole.allCases {
            commands.append(Command("ip", "netns", "add", namespace(role)))
            commands.append(Command("ip", "-n", namespace(role), "link", "set", "lo", "up"))
        }
        commands += [
            Command("ip", "link", "add", bridge, "type", "bridge"),
            Command("ip", "addr", "add", settings.management.description, "dev", bridge),
            Command("ip", "link", "set", bridge, "up"),
        ]
        for host in testbed.orderedHosts {
            let ns = namespace(host.role), veth = managementVeth(host.role), mgmt = Self.managementInterface
            let address = "\(host.ssh.address)/\(settings.management.prefixLength)"
            commands += [
                Command("ip", "link", "add", veth, "type", "veth", "peer", "name", mgmt, "netns", ns),
                Command("ip", "link", "set", veth, "master", bridge),
                Command("ip", "link", "set", veth, "up"),
                Command("ip", "-n", ns, "addr", "add", address, "dev", mgmt),
                Command("ip", "-n", ns, "link", "set", mgmt, "up"),
            ]
        }
        for link in LinkRole.allCases {
            let (up, down) = link.ends
            let a = testbed.host(up).interface(link), b = testbed.host(down).interface(link)
            commands.append(Command("ip", "link", "add", a.name.rawValue, "netns", namespace(up), "type", "veth",
                                    "peer", "name", b.name.rawValue, "netns", namespace(down)))
            for (role, interface) in [(up, a), (down, b)] {
                commands.append(Command("ip", "-n", namespace(role), "addr", "add", interface.address.description,
                                        "dev", interface.name.rawValue))
                commands.append(Command("ip", "-n", namespace(role), "link", "set", interface.name.rawValue, "up"))
            }
        }
        for role in HostRole.allCases where role.isGateway {
            commands.append(Command("ip", "netns", "exec", namespace(role), "sysctl", "-qw", "net.ipv4.ip_forward=1"))
        }
        for route in routes {
            commands.append(Command("ip", "-n", namespace(route.host), "route", "add", route.destination.description,
                                    "via", route.via.description))
        }
        return commands
    }

    public struct Route: Hashable, Sendable {
        public var host: HostRole
        public var destination: IPv4Network
        public var via: IPv4Address
    }

    /// Static routes that make source and drain reach each other through both gateways.
    public var routes: [Route] {
        let ingress = testbed.host(.gw1).interface(.ingress).address
        let underlayGW1 = testbed.host(.gw1).interface(.underlay).address
        let underlayGW2 = testbed.host(.gw2).interface(.underlay).address
        let egress = testbed.host(.gw2).interface(.egress).address
        return [
            Route(host: .source, destination: egress.network, via: ingress.address),
            Route(host: .gw1, destination: egress.network, via: underlayGW2.address),
            Route(host: .gw2, destination: ingress.network, via: underlayGW1.address),
            Route(host: .drain, destination: ingress.network, via: egress.address),
        ]
    }

    public func sshdCommand(_ role: HostRole) -> Command {
        Command("ip", "netns", "exec", namespace(role), "/usr/sbin/sshd",
                "-f", sshdConfigPath(role).rawValue, "-E", sshdLog(role).rawValue)
    }

    /// Removes the namespaces; deleting a namespace deletes its end of every veth, and so the pair.
    /// Processes inside must be killed first (see `namespacePidsCommand`).
    public var namespaceTeardownCommands: [Command] {
        namespaces.map { Command("ip", "netns", "del", $0) }
    }

    /// Removes what lives in the root namespace: the bridge, and management veths left by a partial `up`.
    public var linkTeardownCommands: [Command] {
        [Command("ip", "link", "del", bridge)] + HostRole.allCases.map { Command("ip", "link", "del", managementVeth($0)) }
    }

    public func namespacePidsCommand(_ role: HostRole) -> Command {
        Command("ip", "netns", "pids", namespace(role))
    }
}
