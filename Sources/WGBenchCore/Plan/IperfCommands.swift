/// iperf3 as wgbench drives it: one server per flow on drain (one-off daemons bound to the
/// flow's drain address, JSON to a log file), and all clients on source started together by
/// one `xargs -P 0`, which waits for every client and reaps it. Each client's JSON goes to its
/// own log file, kept raw in the results.
public enum IperfCommands {
    public static func serverLog(_ flow: TrafficPlan.Flow, directory: String) -> String { "\(directory)/server-\(flow.index).json" }
    public static func serverPidFile(_ flow: TrafficPlan.Flow, directory: String) -> String { "\(directory)/server-\(flow.index).pid" }
    public static func clientLog(_ flow: TrafficPlan.Flow, directory: String) -> String { "\(directory)/client-\(flow.index).json" }

    public static func server(_ flow: TrafficPlan.Flow, directory: String) -> Command {
        var argv = ["iperf3", "-s", "-1", "-D", "-B", flow.drain.description, "-p", String(flow.port), "-J",
                    "--logfile", serverLog(flow, directory: directory), "-I", serverPidFile(flow, directory: directory)]
        if let cpu = flow.serverCPU { argv += ["-A", String(cpu)] }
        return Command(argv)
    }

    /// The arguments of one client; every client has the same number, as `xargs -n` needs.
    public static func clientArguments(_ flow: TrafficPlan.Flow, traffic: TrafficSpec, directory: String) -> [String] {
        var argv = ["-c", flow.drain.description, "-B", flow.source.description, "-p", String(flow.port),
                    "-t", String(traffic.durationSeconds), "-O", String(traffic.omitSeconds), "-J",
                    "--connect-timeout", "3000", "--logfile", clientLog(flow, directory: directory)]
        if traffic.protocol == .udp { argv += ["-u", "-b", String(traffic.bitrate)] }
        if let cpu = flow.clientCPU { argv += ["-A", String(cpu)] }
        return argv
    }

    /// All clients at once; returns when the last has finished. Arguments travel NUL-separated on
    /// standard input, so xargs passes them to iperf3 verbatim.
    public static func clients(_ flows: [TrafficPlan.Flow], traffic: TrafficSpec, directory: String) -> Command {
        let perClient = flows.map { clientArguments($0, traffic: traffic, directory: directory) }
        let count = perClient.first?.count ?? 0
        let input = perClient.flatMap { $0 }.map { $0 + "\0" }.joined()
        let limit = traffic.durationSeconds + traffic.omitSeconds + 30
        return Command(["xargs", "-0", "-n", String(count), "-P", "0", "iperf3"],
                       timeout: SpecDuration(milliseconds: limit * 1000), stdin: Array(input.utf8))
    }

    /// Listening TCP sockets, to know when every server is ready: `ss -Hltn`.
    public static let listening = Command("ss", "-Hltn")
}

/// `ss -Hltn` lines: `LISTEN 0 5 198.18.3.100:5201 0.0.0.0:*`.
public enum SSParser {
    public static func listeningEndpoints(_ text: String) -> Set<String> {
        Set(text.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: \.isWhitespace)
            return fields.count >= 4 ? String(fields[3]) : nil
        })
    }
}
