/// A fact to read from a host and what its answer means, typed: the engine asks for a reading
/// and gets a value (a topology, the files of a sysfs directory, a knob's value or its absence),
/// never the text. The text is parsed here, once per fact, whoever answered: an SSH host's tools
/// or the simulated testbed, which answers in the same formats (so the parsers are exercised
/// by every plan).
public struct HostReading<Value>: Sendable {
    public let fact: HostFact
    /// The value a finished command's answer means, or why it means none.
    let value: @Sendable (CommandResult) -> Result<Value, ReadingFailure>

    init(_ fact: HostFact, _ value: @escaping @Sendable (CommandResult) -> Result<Value, ReadingFailure>) {
        self.fact = fact
        self.value = value
    }

    /// A reading that needs the command to succeed, then parses its output.
    init(_ fact: HostFact, parse: @escaping @Sendable (String) -> Value?) {
        self.init(fact) { result in
            guard result.succeeded else { return .failure(.failed(status: result.status, stderr: result.stderrTail)) }
            return parse(result.stdout).map(Result.success) ?? .failure(.unreadable(output: ShellQuoting.tail(result.stdout)))
        }
    }

    public func value(of result: CommandResult) -> Result<Value, ReadingFailure> { value(result) }
}

/// Why an answer is no reading.
public enum ReadingFailure: Error, Equatable, Sendable {
    case failed(status: Int32, stderr: String)
    case unreadable(output: String)
}

extension HostReading {
    /// A kernel tunnel's sysfs file, trimmed; nil where the file is not there (this module has no such knob).
    public static func knob(interface: String, file: String) -> HostReading<String?> {
        HostReading<String?>(.knob(interface: interface, file: file)) { result in
            .success(result.succeeded ? result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : nil)
        }
    }

    /// The entries of a kernel tunnel's sysfs directory: the knobs its module has and its `peer_*` directories.
    public static func knobFiles(interface: String) -> HostReading<Set<String>> {
        HostReading<Set<String>>(.knobFiles(interface: interface)) { Set($0.split(whereSeparator: \.isWhitespace).map(String.init)) }
    }

    public static func topology(nics: [String]) -> HostReading<HostTopology> {
        HostReading<HostTopology>(.topology(nics: nics), parse: TopologyCommands.parse)
    }

    /// Each interface's side of its tunnel, by interface.
    public static func tunnelHealth(_ target: TargetKind, interfaces: [String]) -> HostReading<[String: TunnelHealth.Side]> {
        HostReading<[String: TunnelHealth.Side]>(.tunnelHealth(daemon: TunnelHealth.daemon(target), interfaces: interfaces), parse: TunnelHealth.parse)
    }

    /// The CPU set of each thread of a userspace daemon (`taskset -c -p` per thread).
    public static func daemonAffinity(_ target: TargetKind, interface: String) -> HostReading<[[Int]]> {
        HostReading<[[Int]]>(.daemonAffinity(target: target, interface: interface)) { text in
            let sets = text.split(separator: "\n").map { line -> [Int]? in
                guard let colon = line.range(of: "affinity list: ") else { return nil }
                return CPUList.parse(String(line[colon.upperBound...]))
            }
            return sets.isEmpty || sets.contains(where: { $0 == nil }) ? nil : sets.compactMap { $0 }
        }
    }

    /// wireguard-swift's drop counters: interface -> counter -> count.
    public static func daemonDrops(interfaces: [String], settle: Bool) -> HostReading<[String: [String: Int]]> {
        HostReading<[String: [String: Int]]>(.daemonDrops(interfaces: interfaces, settle: settle), parse: DaemonDrops.parse)
    }

    /// `address:port` of every listening TCP socket.
    public static var listeningSockets: HostReading<Set<String>> {
        HostReading<Set<String>>(.listeningSockets, parse: SSParser.listeningEndpoints)
    }

    public static func irqAffinity(irq: Int) -> HostReading<String> {
        HostReading<String>(.irqAffinity(irq: irq)) { text in
            let list = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return CPUList.parse(list) == nil ? nil : list
        }
    }

    public static var interrupts: HostReading<String> { HostReading<String>(.interrupts) { $0 } }

    /// ntuple-filters as `ethtool -k` says (a NIC that cannot be asked: unsupported).
    public static func ntuple(nic: String) -> HostReading<NtupleSupport> {
        HostReading<NtupleSupport>(.nicFeatures(nic)) { result in .success(EthtoolParser.ntuple(EthtoolParser.features(result.stdout))) }
    }

    /// The NIC's receive queues (0 where the listing fails: a device with no queue folder).
    public static func rxQueues(nic: String) -> HostReading<Int> {
        HostReading<Int>(.nicQueues(nic)) { result in .success(EthtoolParser.queueCounts(result.stdout).rx) }
    }

    public static func driver(nic: String) -> HostReading<DriverInfo?> {
        HostReading<DriverInfo?>(.nicDriver(nic)) { result in .success(EthtoolParser.driverInfo(result.stdout)) }
    }

    public static func preflight(host: String, spec: PreflightSpec) -> HostReading<PreflightReport> {
        HostReading<PreflightReport>(.preflight) { PreflightCommands.parse($0, host: host, spec: spec) }
    }

    /// Route destinations, as `ip -4 route show` prints them.
    public static var routeDestinations: HostReading<[String]> { HostReading<[String]>(.ipv4Routes, parse: IPAddressParser.routeDestinations) }

    public static var addresses: HostReading<[IPAddressParser.Assigned]> {
        HostReading<[IPAddressParser.Assigned]>(.ipv4Addresses, parse: IPAddressParser.addresses)
    }

    public static var links: HostReading<[String]> { HostReading<[String]>(.links, parse: IPLinkParser.names) }

    /// The processes of the host's own network namespace.
    public static var namespaceProcesses: HostReading<[NamespaceProcessParser.Entry]> {
        HostReading<[NamespaceProcessParser.Entry]>(.namespaceProcesses, parse: NamespaceProcessParser.living)
    }

    /// Whether irqbalance runs (`pgrep -x` finds it).
    public static var irqbalanceRunning: HostReading<Bool> {
        HostReading<Bool>(.irqbalance(listed: false)) { .success($0.succeeded) }
    }
}
