/// ethtool ntuple flow steering and IRQ affinity: put a flow's reception on a queue, and that
/// queue's interrupt on a CPU.
public enum SteeringCommands {
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

/// What the harness read from a host once per run, raw: each reading's name and output.
public enum MetadataCommands {
    public static func host(nics: [String]) -> [(String, HostOperation)] {
        var commands: [(String, HostOperation)] = [
            ("uname", .read(.unameAll)),
            // Two roles with one boot id are one machine (the local testbed): its /proc/stat counts once.
            ("boot_id", .read(.bootID)),
            ("cmdline", .read(.cmdline)),
            ("lscpu", .read(.lscpu)),
            ("numa", .read(.numaCPULists)),
            ("interrupts", .read(.interrupts)),
            ("irq_affinity", .read(.irqAffinities)),
            ("irqbalance", .read(.irqbalance(listed: true))),
            ("kernel_wireguard", .read(.kernelWireGuardVersion)),
        ]
        for tool in CheckedTool.allCases { commands.append(("version_\(tool.rawValue)", .read(.toolVersion(tool)))) }
        for nic in nics {
            commands += [
                ("nic_\(nic)_link", .read(.nicLink(nic))),
                ("nic_\(nic)_driver", .read(.nicDriver(nic))),
                ("nic_\(nic)_features", .read(.nicFeatures(nic))),
                ("nic_\(nic)_channels", .read(.nicChannels(nic))),
                ("nic_\(nic)_rings", .read(.nicRings(nic))),
                ("nic_\(nic)_ntuple_rules", .read(.nicRules(nic))),
                ("nic_\(nic)_queues", .read(.nicQueues(nic))),
            ]
        }
        return commands
    }
}
