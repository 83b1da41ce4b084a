import Foundation

/// Renders `testbed check` results for people.
public enum CheckReportRenderer {
    public static func text(_ reports: [HostReport]) -> String {
        var out = ""
        for report in reports {
            out += "== \(report.role) (\(report.address))\n"
            out += "  kernel      \(report.kernel ?? "?")\n"
            if let cpu = report.cpu {
                out += "  cpu         \(cpu.model), \(cpu.cpus) cores"
                if let threads = cpu.threadsPerCore { out += ", \(threads) thread(s)/core" }
                out += "\n"
                let nodes = cpu.numaNodes.map { "node\($0.id): \($0.cpuList)" }.joined(separator: "  ")
                out += "  numa        \(cpu.numaNodes.count) node(s)  \(nodes)\n"
            } else {
                out += "  cpu         ?\n"
            }
            for nic in report.nics {
                guard nic.present else {
                    out += "  nic         \(nic.name) (\(nic.link)): MISSING\n"
                    continue
                }
                let queues = "rx \(nic.rxQueues.map(String.init) ?? "?")/tx \(nic.txQueues.map(String.init) ?? "?") queues"
                out += "  nic         \(nic.name) (\(nic.link)): driver \(nic.driver?.driver ?? "?"), \(queues), ntuple \(nic.ntuple.rawValue)\n"
            }
            let tools = CheckedTool.allCases.map { tool in
                "\(tool.rawValue) \((report.tools[tool.rawValue] ?? nil) ?? "missing")"
            }
            out += "  tools       \(tools.joined(separator: ", "))\n"
            out += "  kernel wg   \(report.kernelWireGuard.rawValue)\n"
            if report.missing.isEmpty {
                out += "  missing     nothing\n"
            } else {
                for item in report.missing {
                    let label = item.limitation ? "limitation" : "MISSING"
                    out += "  \(label.padding(toLength: 11, withPad: " ", startingAt: 0)) \(item.what)\n"
                    out += "              fix: \(item.fix)\n"
                }
            }
        }
        let blockers = reports.flatMap { report in report.missing.filter { !$0.limitation }.map { (report.role, $0) } }
        out += blockers.isEmpty
            ? "\nall hosts ready\n"
            : "\n\(blockers.count) thing(s) missing: " + blockers.map { "\($0.0): \($0.1.what)" }.joined(separator: "; ") + "\n"
        return out
    }
}
