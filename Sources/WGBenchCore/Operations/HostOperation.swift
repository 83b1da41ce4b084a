/// Everything the harness does to or reads from a testbed host, as a value: what to do, never how
/// it is typed into a shell. Two interpreters give it meaning: `ShellRenderer`, the one place that
/// turns an operation into an argument vector or a script, and the simulated testbed, which
/// changes its model of a host. A new operation is a new case here, and neither interpreter
/// compiles until it says what the operation means.
public enum HostOperation: Hashable, Sendable {
    // Links, addresses and routes.
    /// A kernel WireGuard device (`ip link add <interface> type wireguard`).
    case addWireGuardDevice(interface: String)
    /// A userspace daemon that makes its TUN interface and serves it.
    case startDaemon(DaemonLaunch)
    /// Removes an interface; `waitForDaemon`: then waits (up to 5 s) for the userspace daemon that
    /// served it to remove its UAPI socket, so that a daemon made next with the name does not meet it.
    case deleteLink(interface: String, waitForDaemon: Bool)
    case setLinkUp(interface: String)
    /// An address with its prefix (`198.18.1.100/32`) on a device, replacing one that is there.
    case replaceAddress(String, device: String)
    case deleteAddress(String, device: String)
    case replaceRoute(destination: String, RouteTarget)
    case deleteRoute(destination: String)

    // WireGuard.
    case setWireGuardConfig(interface: String, WireGuardConfig)
    /// Replaces a peer's allowed IPs and nothing else (the kernel keeps the peer and its id).
    case setAllowedIPs(interface: String, peer: String, allowedIPs: [String])
    /// Pins every thread of the userspace daemon serving `interface` to `cpus`.
    case pinDaemon(target: TargetKind, interface: String, cpus: [Int])
    /// Writes a kernel tunnel's sysfs file, `/sys/class/net/<interface>/<file>`.
    case writeKnob(interface: String, file: String, value: String)
    /// Makes the tunnels of these peer addresses handshake (one ping each).
    case handshake(peers: [IPv4Address])
    /// After an unclean end: waits for the testbed's userspace daemons (their command lines match
    /// `pattern`) to exit, and terminates those still there.
    case stopDaemons(pattern: String)

    // Steering.
    case setNtuple(nic: String, on: Bool)
    case insertFlowRule(FlowRule)
    case deleteFlowRule(nic: String, id: Int)
    /// `cpus` is a CPU list (`3`, or `0-7` as an IRQ's original affinity reads).
    case setIRQAffinity(irq: Int, cpus: String)

    // Traffic and sampling.
    case startIperfServer(IperfServer)
    /// Every client at once; returns when the last has finished.
    case runIperfClients([IperfClient], timeoutSeconds: Int)
    /// Kills the servers whose PID files these are (those whose client never came).
    case killIperfServers(pidFiles: [String])
    case sampleCPU(CPUSampling)
    case kill(pids: [Int32])

    // The run's folders and uploads.
    /// Makes the run's folder and marks it as this host's (by its network namespace).
    case prepareRunFolder(String)
    /// Lists, or removes and lists, every run folder this host marked.
    case sweepRunFolders(remove: Bool)
    /// Removes whatever is at the path and makes it anew, empty.
    case freshFolder(String)
    case removeTree(String)
    /// An upload: an empty file (and its folder), chunks appended, then made executable and moved.
    case createEmptyFile(String)
    case appendToFile(String, bytes: [UInt8])
    case installExecutable(from: String, to: String)

    case lease(LeaseRequest)
    /// Does nothing; answers when the host does.
    case nothing

    /// Reads something and changes nothing.
    case read(HostFact)
}

/// What a host is asked to read, and changes nothing.
public enum HostFact: Hashable, Sendable {
    case links, ipv4Routes, ipv4Addresses
    /// Processes of this host's network namespace (`NamespaceProcessParser`).
    case namespaceProcesses
    /// `ss -Hltn`: listening TCP sockets.
    case listeningSockets
    /// A file's content (`cat`).
    case file(String)
    case sha256(String)
    /// `<program> --version`: a daemon's, or a path's.
    case programVersion(String)
    case toolVersion(CheckedTool)
    /// The files of a kernel tunnel's sysfs directory: which knobs the module has, its peer_* entries.
    case knobFiles(interface: String)
    case knob(interface: String, file: String)
    /// One line per interface: present, its daemon running, its latest handshake (`TunnelHealth`).
    case tunnelHealth(daemon: String?, interfaces: [String])
    /// The CPU affinity of every thread of the userspace daemon serving `interface`.
    case daemonAffinity(target: TargetKind, interface: String)
    case logTail(path: String, lines: Int)
    /// wireguard-swift's drop counters of these interfaces; `settle` first waits 300 ms.
    case daemonDrops(interfaces: [String], settle: Bool)
    case interrupts
    case irqAffinity(irq: Int)
    case irqAffinities
    /// `pgrep -x irqbalance` (`listed`: `pgrep -a`, the command lines).
    case irqbalance(listed: Bool)
    case nicFeatures(String)
    case nicDriver(String)
    case nicQueues(String)
    case nicLink(String)
    case nicChannels(String)
    case nicRings(String)
    case nicRules(String)
    /// Online CPUs, NUMA nodes and each NIC's node and queue count (`TopologyCommands.parse`).
    case topology(nics: [String])
    /// OpenSSL's ChaCha20-Poly1305 sealing and opening `packetBytes` packets for `seconds` each (`CryptoFloorCommands`).
    case cryptoFloor(packetBytes: Int, seconds: Int)
    /// The quiet-machine check's readings (`PreflightCommands.parse`).
    case preflight
    case unameAll, kernelRelease, bootID, cmdline, lscpu, numaCPULists
    case kernelWireGuardVersion
    case wireguardModuleLoaded, wireguardModuleAvailable
    /// One ping from `interface` to `address` (testbed discovery).
    case ping(interface: String, address: String)
}

/// A userspace WireGuard daemon's start: `environment` (`NAME=value`), the program and its
/// arguments, then the interface it makes. With `log`, its output goes to that file on the host at
/// LOG_LEVEL `logLevel`, at most `logCapBytes` of it.
public struct DaemonLaunch: Hashable, Sendable {
    /// Which daemon this is (wireguard-go or wireguard-swift), whatever its program is called.
    public var target: TargetKind
    public var environment: [String]
    public var program: String
    public var arguments: [String]
    public var interface: String
    public var log: String?
    public var logLevel: String
    public var logCapBytes: Int

    public init(_ target: TargetKind, environment: [String] = [], program: String, arguments: [String] = [], interface: String,
                log: String? = nil, logLevel: String = "error", logCapBytes: Int = TunnelCommands.daemonLogCapBytes) {
        self.target = target
        self.environment = environment
        self.program = program
        self.arguments = arguments
        self.interface = interface
        self.log = log
        self.logLevel = logLevel
        self.logCapBytes = logCapBytes
    }
}

public enum RouteTarget: Hashable, Sendable {
    case device(String)
    case gateway(IPv4Address)
}

/// One side of a tunnel's WireGuard configuration (one peer).
public struct WireGuardConfig: Hashable, Sendable {
    public var privateKey: String
    public var listenPort: Int
    public var peerPublicKey: String
    public var allowedIPs: [String]
    public var endpoint: String

    public init(privateKey: String, listenPort: Int, peerPublicKey: String, allowedIPs: [String], endpoint: String) {
        self.privateKey = privateKey
        self.listenPort = listenPort
        self.peerPublicKey = peerPublicKey
        self.allowedIPs = allowedIPs
        self.endpoint = endpoint
    }

    /// The text `wg setconf` reads.
    public var text: String {
        """
        [Interface]
        PrivateKey = \(privateKey)
        ListenPort = \(listenPort)

        [Peer]
        PublicKey = \(peerPublicKey)
        AllowedIPs = \(allowedIPs.joined(separator: ", "))
        Endpoint = \(endpoint)

        """
    }
}

/// An ethtool ntuple rule: a TCP flow (gw1's ingress) or a tunnel's outer UDP flow (gw2's underlay) to a queue.
public struct FlowRule: Hashable, Sendable {
    public enum FlowType: String, Sendable { case tcp4, udp4 }
    public var nic: String
    public var type: FlowType
    public var source: IPv4Address
    public var destination: IPv4Address
    public var destinationPort: Int?
    public var queue: Int

    public init(nic: String, type: FlowType, source: IPv4Address, destination: IPv4Address, destinationPort: Int? = nil, queue: Int) {
        self.nic = nic
        self.type = type
        self.source = source
        self.destination = destination
        self.destinationPort = destinationPort
        self.queue = queue
    }
}

/// A one-off iperf3 server bound to a flow's drain address, JSON to `logFile`.
public struct IperfServer: Hashable, Sendable {
    public var address: IPv4Address
    public var port: Int
    public var logFile: String
    public var pidFile: String
    public var cpu: Int?

    public init(address: IPv4Address, port: Int, logFile: String, pidFile: String, cpu: Int?) {
        self.address = address
        self.port = port
        self.logFile = logFile
        self.pidFile = pidFile
        self.cpu = cpu
    }
}

/// One iperf3 client of a flow.
public struct IperfClient: Hashable, Sendable {
    public var destination: IPv4Address
    public var source: IPv4Address
    public var port: Int
    public var seconds: Int
    public var omitSeconds: Int
    public var logFile: String
    /// UDP at this bitrate; nil: TCP.
    public var udpBitrate: UInt64?
    public var cpu: Int?

    public init(destination: IPv4Address, source: IPv4Address, port: Int, seconds: Int, omitSeconds: Int, logFile: String,
                udpBitrate: UInt64?, cpu: Int?) {
        self.destination = destination
        self.source = source
        self.port = port
        self.seconds = seconds
        self.omitSeconds = omitSeconds
        self.logFile = logFile
        self.udpBitrate = udpBitrate
        self.cpu = cpu
    }
}

/// The CPU sampler: `samples` readings of /proc/uptime and /proc/stat, `interval` apart.
public struct CPUSampling: Hashable, Sendable {
    public var samples: Int
    public var intervalMilliseconds: Int
    /// Killed after this long.
    public var timeoutMilliseconds: Int

    public init(samples: Int, intervalMilliseconds: Int, timeoutMilliseconds: Int) {
        self.samples = samples
        self.intervalMilliseconds = intervalMilliseconds
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}

/// One lease operation (`LeaseCommands`), as `holder`; `expected` is the token a takeover replaces.
public struct LeaseRequest: Hashable, Sendable {
    public var operation: LeaseCommands.Operation
    public var token: String
    public var line: String
    public var expected: String

    public init(operation: LeaseCommands.Operation, token: String, line: String, expected: String) {
        self.operation = operation
        self.token = token
        self.line = line
        self.expected = expected
    }
}
