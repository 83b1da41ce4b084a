/// How each target makes, configures and removes one side of a tunnel, as commands.
///
/// Keys never appear on a command line: the configuration, private key included, reaches
/// `wg setconf` on its standard input.
public enum TunnelCommands {
    /// wireguard-go refuses to run on Linux without this, preferring the kernel module.
    public static let wireguardGoEnvironment = "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1"

    /// `program` is the daemon to run for userspace targets (a path from the testbed's tools, or the
    /// name), unless the series names one (`binary`); CPU knobs are resolved for `role` and `tunnel`
    /// (from 1) by `placement`. With `log`, a userspace daemon logs at the series' `log_level`
    /// (default error) to that file on the gateway, at most `daemonLogCapBytes` of it.
    public static func create(_ target: TargetKind, interface: String, role: HostRole, tunnel: Int, knobs: KnobSettings,
                              placement: ResolvedPlacement, program: String? = nil, log: String? = nil) -> [Command] {
        let program = knobs.value(.binary, for: target)?.program ?? program
        let level = knobs.value(.logLevel, for: target)?.choice ?? "error"
        switch target {
        case .plain:
            return []
        case .kernel:
            return [Command("ip", "link", "add", interface, "type", "wireguard")]
        case .wireguardGo:
            guard let log else { return [Command("env", wireguardGoEnvironment, program ?? "wireguard-go", interface)] }
            return [daemon([wireguardGoEnvironment, program ?? "wireguard-go", interface], log: log, level: level)]
        case .wireguardSwift:
            var argv = [program ?? "wireguard-swift"]
            for (knob, value) in knobs.sorted {
                guard case .daemonArgument(let flag) = knob.application(for: target) else { continue }
                switch value {
                case .choice(let choice), .program(let choice): argv += [flag, choice]
                case .flag(let on): if !on { argv.append(flag) }  // the one flag knob, offload, is on by default
                case .cpus:
                    guard let expression = knobs.expression(knob, on: role, for: target) else { continue }
                    let cpus = placement.cpus(expression, on: role, tunnel: tunnel)
                    guard let first = cpus.first else { continue }
                    argv += [flag, knob == .inlineCPUs ? String(first) : CPUList.format(cpus)]
                }
            }
            guard let log else { return [Command(argv + [interface])] }
            return [daemon(argv + [interface], log: log, level: level)]
        }
    }

    /// The most of a daemon's output its log keeps: /run is a tmpfs, in memory, and a daemon logging
    /// every invalid packet of a flood (wireguard-go at verbose has no rate limit) would fill it.
    public static let daemonLogCapBytes = 1 << 20

    /// Starts a daemon (`env` arguments and its command line) at LOG_LEVEL `level`, its output
    /// appended to `log` up to `daemonLogCapBytes`. The daemons keep their standard output for their
    /// log when LOG_LEVEL is set (and not silent) and detach from the shell that started them.
    ///
    /// The output goes through a FIFO to a reader in the background that copies the first bytes,
    /// notes the cap when more comes, and then goes on reading and discarding: a reader that stopped
    /// reading (`head -c` alone) would kill the daemon with SIGPIPE at its next log line. `exec`
    /// leaves no shell behind: the start's exit status is the daemon's, and the reader ends when the
    /// daemon closes its output (it exits).
    static func daemon(_ argv: [String], log: String, level: String) -> Command {
        // A constant script; the log, the cap, the level and the command line arrive as arguments.
        Command(["sh", "-c", """
            l=$1; c=$2; v=$3; shift 3; p="$l.fifo-$$"
            rm -f "$p" && mkfifo -m 600 "$p" || exit 1
            { rm -f "$p"; head -c "$c"; if IFS= read -r _; then printf '\\n[wgbench: log capped at %s bytes]\\n' "$c"; cat >/dev/null; fi; } <"$p" >>"$l" 2>/dev/null &
            exec env LOG_LEVEL="$v" "$@" >"$p" 2>&1
            """, "daemon", log, String(daemonLogCapBytes), level] + argv)
    }

    /// Configuration, inner address and link up, for a tunnel side that exists.
    public static func configure(interface: String, config: String, inner: IPv4Interface) -> [Command] {
        [
            Command(["wg", "setconf", interface, "/dev/stdin"], stdin: Array(config.utf8)),
            Command("ip", "addr", "replace", inner.description, "dev", interface),
            Command("ip", "link", "set", interface, "up"),
        ]
    }

    /// Commands that succeed only where a gateway can run the target; nil for the plain target.
    /// The kernel probe makes a throw-away interface (loading the module if it is there) and removes it.
    public static func probe(_ target: TargetKind, on role: HostRole, program: String? = nil) -> [Command]? {
        switch target {
        case .plain: return nil
        case .kernel:
            let name = "wgbprobe\(role == .gw1 ? 1 : 2)"
            return [Command("wg", "--version"), Command("ip", "link", "add", name, "type", "wireguard"), Command("ip", "link", "del", name)]
        case .wireguardGo: return [Command("wg", "--version"), Command(program ?? "wireguard-go", "--version")]
        case .wireguardSwift: return [Command("wg", "--version"), Command(program ?? "wireguard-swift", "--version")]
        }
    }

    /// Deleting the interface removes a kernel tunnel and makes a userspace daemon exit; for those,
    /// the command waits (up to 5 s) until the daemon's UAPI socket is gone, so that a daemon made
    /// next with the same name does not meet the old one still shutting down.
    public static func delete(_ target: TargetKind = .kernel, interface: String) -> Command {
        guard target == .wireguardGo || target == .wireguardSwift else { return Command("ip", "link", "del", interface) }
        // A constant script; the interface name arrives as an argument.
        return Command("sh", "-c", """
            ip link del "$1" || exit 1
            for i in $(seq 50); do [ -S "/var/run/wireguard/$1.sock" ] || exit 0; sleep 0.1; done
            echo "the daemon of $1 did not exit within 5 s of its interface's deletion" >&2; exit 1
            """, "sh", interface)
    }

    /// `wg setconf` text for one side of a tunnel.
    public static func config(privateKey: String, listenPort: Int, peerPublicKey: String,
                              allowedIPs: [String], endpoint: String) -> String {
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

    /// Allowed IPs of the peer of `role`'s side: the peer's inner address and the flow addresses
    /// that arrive from (gw2 side: sources) or are sent to (gw1 side: drains) that peer.
    public static func allowedIPs(for role: HostRole, tunnel: TrafficPlan.Tunnel, plan: TrafficPlan) -> [String] {
        let peerInner = tunnel.inner(role == .gw1 ? .gw2 : .gw1).address
        let flows = tunnel.flows.map { plan.flows[$0] }
        return ["\(peerInner)/32"] + flows.map { "\(role == .gw1 ? $0.drain : $0.source)/32" }
    }

    /// Pins a userspace daemon (all its threads) to CPUs, found by its exact command line.
    public static func pin(daemon target: TargetKind, interface: String, cpus: [Int]) -> Command {
        // The daemon may run from a path of the testbed's tools.
        // (A build named by the `binary` knob may carry a suffix: wireguard-go-<rev>.)
        let pattern = target == .wireguardGo ? "^([^ ]*/)?wireguard-go[^ /]* \(interface)$" : "^([^ ]*/)?wireguard-swift[^ /]* .*\(interface)$"
        // A constant script; the pattern and the CPU list arrive as arguments.
        return Command(["sh", "-c", "pids=$(pgrep -f \"$1\") || exit 3; for p in $pids; do taskset -a -p -c \"$2\" \"$p\" >/dev/null || exit 4; done",
                        "pin", pattern, CPUList.format(cpus)])
    }

    // MARK: Kernel knobs (sysfs)

    public static func knobPath(interface: String, _ file: String) -> String { "/sys/class/net/\(interface)/\(file)" }

    /// Lists the interface's sysfs directory: which knobs this kernel's module has, and its peer_* entries.
    public static func listKnobs(interface: String) -> Command { Command("ls", "/sys/class/net/\(interface)") }

    public static func writeKnob(path: String, value: String) -> Command {
        Command(["tee", path], stdin: Array("\(value)\n".utf8))
    }

    public static func readKnob(path: String) -> Command { Command("cat", path) }

    /// The patched module's per-peer TX worker CPU, under `peer_<id>/`.
    public static let serialWorkFile = "serial_work_cpu"

    /// Every knob file wgbench reads back and records on a kernel tunnel, whether set or not.
    public static let recordedKernelKnobs = ["threaded", "inline_en", "encrypt_cpumask", "decrypt_cpumask", "cpumask"]

    /// Replaces a peer's allowed IPs and nothing else: the kernel keeps the peer (and its internal
    /// id, which places its TX worker), where `wg setconf` would remove and re-add it.
    public static func setAllowedIPs(interface: String, peerPublicKey: String, allowedIPs: [String]) -> Command {
        Command("wg", "set", interface, "peer", peerPublicKey, "allowed-ips", allowedIPs.joined(separator: ","))
    }
}
