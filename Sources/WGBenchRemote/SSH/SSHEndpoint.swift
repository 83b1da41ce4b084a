import WGBenchCore

/// Everything needed to log in to one host.
public struct SSHEndpoint: Sendable {
    public var name: String
    public var address: String
    public var port: UInt16
    public var user: String
    public var identity: String
    public var knownHosts: String
    public var hostKeyPolicy: HostKeyPolicy
    public var connectTimeoutMilliseconds: Int
    public var commandTimeout: SpecDuration

    public init(name: String, address: String, port: UInt16, user: String, identity: String, knownHosts: String,
                hostKeyPolicy: HostKeyPolicy, connectTimeoutMilliseconds: Int, commandTimeout: SpecDuration) {
        self.name = name
        self.address = address
        self.port = port
        self.user = user
        self.identity = identity
        self.knownHosts = knownHosts
        self.hostKeyPolicy = hostKeyPolicy
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.commandTimeout = commandTimeout
    }

    /// The endpoint of one host of a testbed.
    public init(testbed: Testbed, role: HostRole) {
        let ssh = testbed.host(role).ssh
        self.init(name: role.rawValue, address: ssh.address.rawValue, port: ssh.port.value, user: ssh.user.rawValue,
                  identity: ssh.identity.rawValue, knownHosts: testbed.knownHosts.rawValue,
                  hostKeyPolicy: testbed.hostKeyPolicy, connectTimeoutMilliseconds: ssh.connectTimeout.milliseconds,
                  commandTimeout: ssh.commandTimeout)
    }
}
