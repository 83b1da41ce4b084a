/// ethtool ntuple flow steering and IRQ affinity: put a flow's reception on a queue, and that
/// queue's interrupt on a CPU.
public enum SteeringCommands {
    public static func features(_ nic: String) -> Command { Command("ethtool", "-k", nic) }
    public static func enableNtuple(_ nic: String) -> Command { Command("ethtool", "-K", nic, "ntuple", "on") }
    public static func deleteRule(_ nic: String, id: Int) -> Command { Command("ethtool", "-N", nic, "delete", String(id)) }

    /// A plain TCP flow on gw1's ingress NIC.
    public static func tcpFlowRule(_ nic: String, source: IPv4Address, destination: IPv4Address, queue: Int) -> Command {
        Command("ethtool", "-N", nic, "flow-type", "tcp4", "src-ip", source.description, "dst-ip", destination.description,
                "action", String(queue))
    }

    /// A tunnel's outer UDP flow on gw2's underlay NIC.
    public static func udpTunnelRule(_ nic: String, source: IPv4Address, destination: IPv4Address, port: Int, queue: Int) -> Command {
        Command("ethtool", "-N", nic, "flow-type", "udp4", "src-ip", source.description, "dst-ip", destination.description,
                "dst-port", String(port), "action", String(queue))
    }

    public static let interrupts = Command("cat", "/proc/interrupts")

    /// The rx queue a CPU's receptions are steered to, whose IRQ is then pinned to that CPU.
    public static func queue(forCPU cpu: Int, queues: Int) -> Int { cpu % max(1, queues) }

    /// Receptions that would share an rx queue with different CPUs, in words; nil when each queue
    /// serves one CPU. A queue has one IRQ and so one CPU: with fewer queues than placed CPUs,
    /// `cpu % queues` sends two CPUs' receptions to one queue and the later IRQ pin silently wins.
    public static func queueConflict(_ items: [(label: String, cpu: Int)], queues: Int, nic: String) -> String? {
        let byQueue = Dictionary(grouping: items, by: { queue(forCPU: $0.cpu, queues: queues) })
        guard let (queue, shared) = byQueue.sorted(by: { $0.key < $1.key }).first(where: { Set($0.value.map(\.cpu)).count > 1 }) else { return nil }
        let cpus = Set(items.map(\.cpu)).count
        let each = Dictionary(grouping: shared, by: \.cpu).sorted { $0.key < $1.key }.map { cpu, items in
            "CPU \(cpu) (\(items.map(\.label).joined(separator: ", ")))"
        }
        return "\(nic) rx queue \(queue) would serve \(each.joined(separator: " and ")): the NIC has \(queues) rx queue\(queues == 1 ? "" : "s")"
            + " for \(cpus) placed CPUs, and a queue's one IRQ runs on one CPU"
    }

    public static func setIRQAffinity(irq: Int, cpu: Int) -> Command {
        Command(["tee", "/proc/irq/\(irq)/smp_affinity_list"], stdin: Array("\(cpu)\n".utf8))
    }

    public static let irqbalance = Command("pgrep", "-x", "irqbalance")

    /// "Added rule with ID 1023" -> 1023.
    public static func ruleID(_ output: String) -> Int? {
        guard let range = output.range(of: "Added rule with ID ") else { return nil }
        return Int(output[range.upperBound...].prefix { $0.isNumber })
    }

    /// The IRQ of receive queue `queue` of a NIC, from /proc/interrupts. Drivers name their queue
    /// interrupts `<nic>-TxRx-<q>` (Intel), `<nic>-rx-<q>`, `<nic>-<q>` or `mlx5_comp<q>@pci:<bus>` (Mellanox).
    public static func irq(forQueue queue: Int, nic: String, busInfo: String?, interrupts: String) -> Int? {
        var names = ["\(nic)-TxRx-\(queue)", "\(nic)-rx-\(queue)", "\(nic)-\(queue)"]
        if let busInfo, !busInfo.isEmpty { names.append("mlx5_comp\(queue)@pci:\(busInfo)") }
        for line in interrupts.split(separator: "\n") {
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard let first = fields.first, first.hasSuffix(":"), let irq = Int(first.dropLast()),
                  let name = fields.last, names.contains(String(name)) else { continue }
            return irq
        }
        return nil
    }
}

/// What the harness read from a host once per run, raw: the command and its output.
public enum MetadataCommands {
    public static func host(nics: [String]) -> [(String, Command)] {
        var commands: [(String, Command)] = [
            ("uname", Command("uname", "-a")),
            // Two roles with one boot id are one machine (the local testbed): its /proc/stat counts once.
            ("boot_id", Command("cat", "/proc/sys/kernel/random/boot_id")),
            ("cmdline", Command("cat", "/proc/cmdline")),
            ("lscpu", Command("lscpu")),
            ("numa", Command("sh", "-c", "grep -H . /sys/devices/system/node/node*/cpulist")),
            ("interrupts", Command("cat", "/proc/interrupts")),
            ("irq_affinity", Command("sh", "-c", "grep -H . /proc/irq/*/smp_affinity_list")),
            ("irqbalance", Command("pgrep", "-a", "irqbalance")),
            ("kernel_wireguard", Command("sh", "-c", "cat /sys/module/wireguard/version 2>/dev/null || modinfo -F version wireguard")),
        ]
        for tool in CheckedTool.allCases { commands.append(("version_\(tool.rawValue)", tool.versionCommand)) }
        for nic in nics {
            commands += [
                ("nic_\(nic)_link", Command("ip", "-d", "link", "show", nic)),
                ("nic_\(nic)_driver", Command("ethtool", "-i", nic)),
                ("nic_\(nic)_features", Command("ethtool", "-k", nic)),
                ("nic_\(nic)_channels", Command("ethtool", "-l", nic)),
                ("nic_\(nic)_rings", Command("ethtool", "-g", nic)),
                ("nic_\(nic)_ntuple_rules", Command("ethtool", "-n", nic)),
                ("nic_\(nic)_queues", Command("ls", "/sys/class/net/\(nic)/queues")),
            ]
        }
        return commands
    }
}
