import Foundation

/// Reads and validates a testbed file. Every error names the file, the line and the key.
///
/// ```yaml
/// name: local
/// local: {prefix: wgb, state_dir: /run/wgbench/local, management: 198.18.250.1/24}
/// ssh: {user: root, port: 22, identity: ~/.ssh/id_ed25519, known_hosts: ~/.ssh/known_hosts,
///       host_key_checking: strict, connect_timeout: 5s, command_timeout: 60s}
/// hosts:
///   gw1:
///     ssh: {address: 198.18.250.12}
///     interfaces:
///       ingress: {name: eth1, address: 198.18.1.1/24}
///       underlay: {name: eth2, address: 198.18.2.1/24}
///   ...
/// ```
public enum TestbedLoader {
    public static func load(path: String, home: String = NSHomeDirectory()) throws -> Testbed {
        try parse(yaml: InputLimits.readSpecFile(path), file: path, home: home)
    }

    public static func parse(yaml: String, file: String, home: String = NSHomeDirectory()) throws -> Testbed {
        let root = try SpecNode.parse(yaml: yaml, file: file).mapping(allowed: ["name", "local", "ssh", "hosts", "tools", "upload"])
        let name = try root.required("name").value(Identifier.self)

        let local = try root.optional("local").map(parseLocal)
        let defaults = try parseSSHDefaults(root.optional("ssh"), local: local, home: home)

        let hostsNode = try root.required("hosts")
        var hosts: [HostRole: TestbedHost] = [:]
        for (key, node) in try hostsNode.anyMapping() {
            guard let role = HostRole(rawValue: key) else {
                throw node.error("unknown host role '\(key)'; the roles are \(HostRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            hosts[role] = try parseHost(node, role: role, defaults: defaults, home: home)
        }
        for role in HostRole.allCases where hosts[role] == nil {
            throw SpecError(file: file, line: hostsNode.line, column: hostsNode.column,
                            keyPath: "hosts.\(role)", message: "host '\(role)' is missing; a testbed has source, gw1, gw2 and drain")
        }

        var testbed = Testbed(name: name, file: file, hosts: hosts, knownHosts: defaults.knownHosts,
                              hostKeyPolicy: defaults.policy, local: local)
        if let toolsNode = root.optional("tools") {
            let tools = try toolsNode.mapping(allowed: ["wireguard-go", "wireguard-swift", "wg", "iperf3"])
            for (name, node) in tools.entries { testbed.tools[name] = try node.value(FilePath.self).expandingTilde(home: home) }
        }
        if let uploadNode = root.optional("upload") {
            let uploads = try uploadNode.mapping(allowed: ["wireguard-swift"])
            for (name, node) in uploads.entries {
                if testbed.tools[name] != nil {
                    throw node.error("\(name) is named both in tools (installed on the gateways) and in upload; keep one")
                }
                if (try? node.string()) == "build" {
                    testbed.uploads[name] = .build
                } else {
                    testbed.uploads[name] = .file(try node.value(FilePath.self).expandingTilde(home: home))
                }
            }
        }
        try TestbedValidator(testbed: testbed, root: root).validate()
        return testbed
    }

    // MARK: Sections

    private static func parseLocal(_ node: SpecNode) throws -> LocalTestbedSettings {
        let map = try node.mapping(allowed: ["prefix", "state_dir", "management"])
        return LocalTestbedSettings(
            prefix: try map.required("prefix").value(NamePrefix.self),
            stateDirectory: try map.optional("state_dir")?.value(FilePath.self)
                ?? FilePath(absolute: "/run/wgbench/\(try map.required("prefix").string())"),
            management: try map.required("management").value(IPv4Interface.self))
    }

    struct SSHDefaults {
        var port = Port(22)
        var user = UserName(specText: "root")!
        var identity: FilePath?
        var knownHosts: FilePath
        var policy = HostKeyPolicy.strict
        var local: LocalTestbedSettings?
        var connectTimeout = SpecDuration(milliseconds: 5000)
        var commandTimeout = SpecDuration(milliseconds: 60_000)
    }

    private static func parseSSHDefaults(_ node: SpecNode?, local: LocalTestbedSettings?, home: String) throws -> SSHDefaults {
        // A local testbed keeps its client key and known_hosts in its state directory.
        var defaults = SSHDefaults(
            identity: local.map { $0.stateDirectory.appending("id_ed25519") },
            knownHosts: local.map { $0.stateDirectory.appending("known_hosts") }
                ?? FilePath(absolute: home + "/.ssh/known_hosts"))
        defaults.local = local
        guard let node else { return defaults }
        let map = try node.mapping(allowed: ["user", "port", "identity", "known_hosts", "host_key_checking",
                                             "connect_timeout", "command_timeout"])
        if let n = map.optional("user") { defaults.user = try n.value(UserName.self) }
        if let n = map.optional("port") { defaults.port = try n.value(Port.self) }
        if let n = map.optional("identity") { defaults.identity = try ownFile(n, local: local, name: "id_ed25519", home: home) }
        if let n = map.optional("known_hosts") { defaults.knownHosts = try ownFile(n, local: local, name: "known_hosts", home: home) }
        if let n = map.optional("host_key_checking") {
            let text = try n.string()
            guard let policy = HostKeyPolicy(rawValue: text) else {
                throw n.error("'\(text)' is not a host key policy; use \(HostKeyPolicy.allCases.map(\.rawValue).joined(separator: " or "))")
            }
            defaults.policy = policy
        }
        if let n = map.optional("connect_timeout") { defaults.connectTimeout = try positive(n) }
        if let n = map.optional("command_timeout") { defaults.commandTimeout = try positive(n) }
        return defaults
    }

    /// A key or known_hosts file. A local testbed uses only those `testbed up` makes in its state
    /// directory: `up` writes the host keys it generates into the known_hosts file, and one copied
    /// from a real lab's testbed (`~/.ssh/known_hosts`) would lose the user's real host pins.
    private static func ownFile(_ node: SpecNode, local: LocalTestbedSettings?, name: String, home: String) throws -> FilePath {
        let path = try node.value(FilePath.self).expandingTilde(home: home)
        guard let local else { return path }
        let own = local.stateDirectory.appending(name)
        guard path == own else {
            throw node.error("a local testbed uses the \(name == "known_hosts" ? "known_hosts" : "key") that `testbed up` makes in its "
                             + "state directory (\(own)); \(path) is someone else's\(name == "known_hosts" ? ", and up would overwrite it" : ""): remove this key")
        }
        return path
    }

    private static func positive(_ node: SpecNode) throws -> SpecDuration {
        let duration = try node.value(SpecDuration.self)
        guard duration.milliseconds > 0 else { throw node.error("must be longer than zero") }
        return duration
    }

    private static func parseHost(_ node: SpecNode, role: HostRole, defaults: SSHDefaults, home: String) throws -> TestbedHost {
        let map = try node.mapping(allowed: ["ssh", "interfaces"])
        let sshNode = try map.required("ssh")
        let ssh = try sshNode.mapping(allowed: ["address", "port", "user", "identity"])
        let identity = try ssh.optional("identity").map { try ownFile($0, local: defaults.local, name: "id_ed25519", home: home) } ?? defaults.identity
        guard let identity else {
            throw sshNode.error("no identity (private key file) for \(role); set ssh.identity here or in the top-level ssh block")
        }
        let target = SSHTarget(
            address: try ssh.required("address").value(HostAddress.self),
            port: try ssh.optional("port")?.value(Port.self) ?? defaults.port,
            user: try ssh.optional("user")?.value(UserName.self) ?? defaults.user,
            identity: identity,
            connectTimeout: defaults.connectTimeout,
            commandTimeout: defaults.commandTimeout)

        let interfacesNode = try map.required("interfaces")
        var interfaces: [LinkRole: HostInterface] = [:]
        for (key, node) in try interfacesNode.anyMapping() {
            guard let link = LinkRole(rawValue: key), role.links.contains(link) else {
                throw node.error("'\(key)' is not a link of \(role); \(role) has \(role.links.map(\.rawValue).joined(separator: " and "))")
            }
            let fields = try node.mapping(allowed: ["name", "address"])
            interfaces[link] = HostInterface(link: link,
                                             name: try fields.required("name").value(InterfaceName.self),
                                             address: try fields.required("address").value(IPv4Interface.self))
        }
        for link in role.links where interfaces[link] == nil {
            throw SpecError(file: node.file, line: interfacesNode.line, column: interfacesNode.column,
                            keyPath: "\(interfacesNode.keyPath).\(link)", message: "\(role) needs an interface on the \(link) link")
        }
        return TestbedHost(role: role, ssh: target, interfaces: interfaces)
    }
}
