import WGBenchCore

/// Why a point could not be brought about on the testbed: typed, with the host and what was
/// asked of it, so a reason in result.json says what failed where.
enum ProvisioningError: Error, CustomStringConvertible {
    case aborted
    /// A command on a host exited non-zero.
    case commandFailed(host: HostRole, what: String, command: String, status: Int32, stderr: String)
    /// A CPU knob's expression comes out empty for a tunnel.
    case emptyCPUSet(host: HostRole, knob: String, expression: String, tunnel: Int, topology: String?)
    /// A knob file the series needs is not there.
    case knobMissing(host: HostRole, path: String, reason: String)
    /// An older patched module (one `cpumask`) asked for different encryption and decryption pools.
    case singleCryptoMask(host: HostRole, interface: String)
    /// Crypto pools asked of a module that has no masks.
    case noCryptoMasks(host: HostRole, interface: String)
    /// A knob file that did not read back what was written.
    case readBack(host: HostRole, path: String, read: String, written: String)
    case steeringRequired(host: HostRole, detail: String)
    /// Two placed receptions would share an rx queue with different CPUs.
    case queueShared(host: HostRole, detail: String)
    case noRuleID(host: HostRole, item: String, output: String)
    case unreachable(host: HostRole, detail: String)
    /// The preflight check found the hosts busy or tuned for power, under `strict`.
    case notQuiet(warnings: [String])
    case serversNotListening

    var description: String {
        switch self {
        case .aborted:
            return "the run was aborted"
        case let .commandFailed(host, what, command, status, stderr):
            return "\(what) on \(host) failed: `\(command)` exited \(status)" + (stderr.isEmpty ? "" : ": \(stderr)")
        case let .emptyCPUSet(host, knob, expression, tunnel, topology):
            return "\(host): \(knob) `\(expression)` is empty for tunnel \(tunnel)" + (topology.map { " (\($0))" } ?? "")
        case let .knobMissing(host, path, reason):
            return "\(host): \(path) does not exist: \(reason)"
        case let .singleCryptoMask(host, interface):
            return "\(host): \(interface) has one cpumask for both crypto pools (an older patched module); "
                + "the series gives encryption and decryption different CPUs"
        case let .noCryptoMasks(host, interface):
            return "\(host): \(interface) has no crypto masks (encrypt_cpumask, decrypt_cpumask or cpumask): "
                + "this kernel's WireGuard is not the paper's patched module"
        case let .readBack(host, path, read, written):
            return "\(host): \(path) reads \(read) after wgbench wrote \(written): the series' configuration did not take"
        case let .queueShared(host, detail):
            return "\(host): \(detail)"
        case let .steeringRequired(host, detail):
            return "steering is required, but on \(host) \(detail)"
        case let .noRuleID(host, item, output):
            return "\(host): ethtool did not report a rule ID for \(item): \(output)"
        case let .unreachable(host, detail):
            return "\(host) is not reachable" + (detail.isEmpty ? "" : ": \(detail)")
        case let .notQuiet(warnings):
            return "the hosts are not quiet (preflight strict): \(warnings.joined(separator: "; "))"
        case .serversNotListening:
            return "iperf3 servers on drain did not all start listening within 2 s"
        }
    }
}
