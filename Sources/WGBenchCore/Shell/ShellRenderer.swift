import Foundation

/// The one place a host operation becomes something a shell runs: an argument vector, or one of
/// the harness's constant scripts (`ShellScripts`) whose data arrive as arguments, never pasted in.
/// Every caller hands a `HostOperation` to a host; the SSH transport quotes what this returns.
public enum ShellRenderer {
    public static func command(_ operation: HostOperation) -> Command {
        switch operation {
        case .addWireGuardDevice(let interface):
            return Command("ip", "link", "add", interface, "type", "wireguard")
        case .startDaemon(let launch):
            return daemon(launch)
        case .deleteLink(let interface, let wait):
            guard wait else { return Command("ip", "link", "del", interface) }
            return Command("sh", "-c", ShellScripts.deleteAndWaitForDaemon, "sh", interface)
        case .setLinkUp(let interface):
            return Command("ip", "link", "set", interface, "up")
        case .replaceAddress(let address, let device):
            return Command("ip", "addr", "replace", address, "dev", device)
        case .deleteAddress(let address, let device):
            return Command("ip", "addr", "del", address, "dev", device)
        case .replaceRoute(let destination, .device(let device)):
            return Command("ip", "route", "replace", destination, "dev", device)
        case .replaceRoute(let destination, .gateway(let gateway)):
            return Command("ip", "route", "replace", destination, "via", gateway.description)
        case .deleteRoute(let destination):
            return Command("ip", "route", "del", destination)
        case .setWireGuardConfig(let interface, let config):
            return Command(["wg", "setconf", interface, "/dev/stdin"], stdin: Array(config.text.utf8))
        case .setAllowedIPs(let interface, let peer, let allowed):
            return Command("wg", "set", interface, "peer", peer, "allowed-ips", allowed.joined(separator: ","))
        case .pinDaemon(let target, let interface, let cpus):
            return Command(["sh", "-c", ShellScripts.pin, "pin", daemonPattern(target, interface: interface), CPUList.format(cpus)])
        case .writeKnob(let interface, let file, let value):
            return Command(["tee", knobPath(interface: interface, file)], stdin: Array("\(value)\n".utf8))
        case .handshake(let peers):
            return Command(["sh", "-c", ShellScripts.handshake, "handshake"] + peers.map(\.description), timeout: SpecDuration(milliseconds: 10_000))
        case .stopDaemons(let pattern):
            return Command("sh", "-c", ShellScripts.stopDaemons, "sh", pattern)
        case .setNtuple(let nic, let on):
            return Command("ethtool", "-K", nic, "ntuple", on ? "on" : "off")
        case .insertFlowRule(let rule):
            var argv = ["ethtool", "-N", rule.nic, "flow-type", rule.type.rawValue, "src-ip", rule.source.description,
                        "dst-ip", rule.destination.description]
            if let port = rule.destinationPort { argv += ["dst-port", String(port)] }
            return Command(argv + ["action", String(rule.queue)])
        case .deleteFlowRule(let nic, let id):
            return Command("ethtool", "-N", nic, "delete", String(id))
        case .setIRQAffinity(let irq, let cpus):
            return Command(["tee", "/proc/irq/\(irq)/smp_affinity_list"], stdin: Array("\(cpus)\n".utf8))
        case .startIperfServer(let server):
            var argv = ["iperf3", "-s", "-1", "-D", "-B", server.address.description, "-p", String(server.port), "-J",
                        "--logfile", server.logFile, "-I", server.pidFile]
            if let cpu = server.cpu { argv += ["-A", String(cpu)] }
            return Command(argv)
        case .runIperfClients(let clients, let timeout):
            // Arguments travel NUL-separated on standard input, so xargs passes them to iperf3 verbatim;
            // every client has the same number of them, as `xargs -n` needs.
            let perClient = clients.map(iperfArguments)
            let input = perClient.flatMap { $0 }.map { $0 + "\0" }.joined()
            return Command(["xargs", "-0", "-n", String(perClient.first?.count ?? 0), "-P", "0", "iperf3"],
                           timeout: SpecDuration(milliseconds: timeout * 1000), stdin: Array(input.utf8))
        case .killIperfServers(let pidFiles):
            return Command(["sh", "-c", ShellScripts.killServers, "kill-servers"] + pidFiles)
        case .sampleCPU(let sampling):
            let ms = sampling.intervalMilliseconds
            let interval = ms % 1000 == 0 ? String(ms / 1000) : String(format: "%.3f", Double(ms) / 1000)
            return Command(["sh", "-c", ShellScripts.sampler, "sampler", String(sampling.samples), interval],
                           timeout: SpecDuration(milliseconds: sampling.timeoutMilliseconds))
        case .kill(let pids):
            return Command(["kill"] + pids.map(String.init))
        case .prepareRunFolder(let path):
            return Command("sh", "-c", ShellScripts.prepareRunFolder, "prepare", path)
        case .sweepRunFolders(let remove):
            return Command("sh", "-c", ShellScripts.sweepRunFolders, "run-folders", remove ? "remove" : "list")
        case .freshFolder(let path):
            return Command("sh", "-c", "rm -rf \"$1\" && mkdir -p \"$1\"", "fresh", path)
        case .removeTree(let path):
            return Command("rm", "-rf", path)
        case .createEmptyFile(let path):
            return Command("sh", "-c", "mkdir -p \"$(dirname \"$1\")\" && : > \"$1\"", "sh", path)
        case .appendToFile(let path, let bytes):
            return Command(["sh", "-c", "cat >> \"$1\"", "sh", path], stdin: bytes)
        case .installExecutable(let from, let to):
            return Command("sh", "-c", "chmod 755 \"$1\" && mv \"$1\" \"$2\"", "sh", from, to)
        case .lease(let request):
            return Command(["sh", "-c", ShellScripts.lease, "wgbench-lease", request.operation.rawValue, request.token, request.line, request.expected])
        case .nothing:
            return Command("true")
        case .read(let fact):
            return command(fact)
        }
    }

    static func command(_ fact: HostFact) -> Command {
        switch fact {
        case .links: return Command("ip", "-o", "link", "show")
        case .ipv4Routes: return Command("ip", "-4", "route", "show")
        case .ipv4Addresses: return Command("ip", "-o", "-4", "addr", "show")
        case .namespaceProcesses:
            return Command("sh", "-c", "echo \"@netns $(stat -L -c %i /proc/self/ns/net)\"; exec ps -eo stat=,pid=,netns=,args=")
        case .listeningSockets: return Command("ss", "-Hltn")
        case .file(let path): return Command("cat", path)
        case .sha256(let path): return Command("sha256sum", path)
        case .programVersion(let program): return Command(program, "--version")
        case .toolVersion(.ip): return Command("ip", "-V")
        case .toolVersion(let tool): return Command(tool.rawValue, "--version")
        case .knobFiles(let interface): return Command("ls", "/sys/class/net/\(interface)")
        case .knob(let interface, let file): return Command("cat", knobPath(interface: interface, file))
        case .daemonAffinity(let target, let interface):
            return Command("sh", "-c", ShellScripts.daemonAffinity, "affinity", daemonPattern(target, interface: interface))
        case .tunnelHealth(let daemon, let interfaces):
            return Command(["sh", "-c", ShellScripts.tunnelHealth, "tunnel-health", daemon ?? "-"] + interfaces)
        case .logTail(let path, let lines):
            return Command("sh", "-c", "tail -n \"$2\" \"$1\" 2>/dev/null; exit 0", "log-tail", path, String(lines))
        case .daemonDrops(let interfaces, let settle):
            return Command(["sh", "-c", ShellScripts.daemonDrops, "daemon-drops", settle ? "1" : "0"] + interfaces)
        case .interrupts: return Command("cat", "/proc/interrupts")
        case .irqAffinity(let irq): return Command("cat", "/proc/irq/\(irq)/smp_affinity_list")
        case .irqAffinities: return Command("sh", "-c", "grep -H . /proc/irq/*/smp_affinity_list")
        case .irqbalance(let listed): return Command("pgrep", listed ? "-a" : "-x", "irqbalance")
        case .nicFeatures(let nic): return Command("ethtool", "-k", nic)
        case .nicDriver(let nic): return Command("ethtool", "-i", nic)
        case .nicQueues(let nic): return Command("ls", "/sys/class/net/\(nic)/queues")
        case .nicLink(let nic): return Command("ip", "-d", "link", "show", nic)
        case .nicChannels(let nic): return Command("ethtool", "-l", nic)
        case .nicRings(let nic): return Command("ethtool", "-g", nic)
        case .nicRules(let nic): return Command("ethtool", "-n", nic)
        case .topology(let nics): return Command(["sh", "-c", ShellScripts.topology, "topology"] + nics)
        case .preflight: return Command("sh", "-c", ShellScripts.preflight, "preflight")
        case .cryptoFloor(let bytes, let seconds):
            return Command(["sh", "-c", ShellScripts.cryptoFloor, "crypto-floor", String(bytes), String(seconds)],
                           timeout: SpecDuration(milliseconds: 30_000 + 4_000 * seconds))
        case .unameAll: return Command("uname", "-a")
        case .kernelRelease: return Command("uname", "-r")
        case .bootID: return Command("cat", "/proc/sys/kernel/random/boot_id")
        case .cmdline: return Command("cat", "/proc/cmdline")
        case .lscpu: return Command("lscpu")
        case .numaCPULists: return Command("sh", "-c", "grep -H . /sys/devices/system/node/node*/cpulist")
        case .kernelWireGuardVersion:
            return Command("sh", "-c", "cat /sys/module/wireguard/version 2>/dev/null || modinfo -F version wireguard")
        case .wireguardModuleLoaded: return Command("test", "-d", "/sys/module/wireguard")
        case .wireguardModuleAvailable: return Command("modinfo", "-n", "wireguard")
        case .ping(let interface, let address): return Command("ping", "-c", "1", "-W", "2", "-I", interface, address)
        }
    }

    public static func knobPath(interface: String, _ file: String) -> String { "/sys/class/net/\(interface)/\(file)" }

    /// The command line of the daemon serving `interface`, for pgrep. It may run from a path of the
    /// testbed's tools, and a build the `binary` knob names may carry a suffix (wireguard-go-<rev>).
    static func daemonPattern(_ target: TargetKind, interface: String) -> String {
        target == .wireguardGo ? "^([^ ]*/)?wireguard-go[^ /]* \(interface)$" : "^([^ ]*/)?wireguard-swift[^ /]* .*\(interface)$"
    }

    /// Without a log: the daemon's command line (through `env` when it needs variables). With one:
    /// `ShellScripts.daemon`, which takes the log, its cap, the level and the command line as arguments.
    private static func daemon(_ launch: DaemonLaunch) -> Command {
        let line = launch.environment + [launch.program] + launch.arguments + [launch.interface]
        guard let log = launch.log else { return Command(launch.environment.isEmpty ? line : ["env"] + line) }
        return Command(["sh", "-c", ShellScripts.daemon, "daemon", log, String(launch.logCapBytes), launch.logLevel] + line)
    }

    /// One iperf3 client's arguments.
    public static func iperfArguments(_ client: IperfClient) -> [String] {
        var argv = ["-c", client.destination.description, "-B", client.source.description, "-p", String(client.port),
                    "-t", String(client.seconds), "-O", String(client.omitSeconds), "-J",
                    "--connect-timeout", "3000", "--logfile", client.logFile]
        if let bitrate = client.udpBitrate { argv += ["-u", "-b", String(bitrate)] }
        if let cpu = client.cpu { argv += ["-A", String(cpu)] }
        return argv
    }
}

extension HostOperation: CustomStringConvertible {
    /// The operation as the shell command it renders to; for logs and error messages.
    public var description: String { ShellRenderer.command(self).description }
}
