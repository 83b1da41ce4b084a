/// iperf3 as wgbench drives it: one server per flow on drain (one-off daemons bound to the
/// flow's drain address, JSON to a log file), and all clients on source started together by
/// one `xargs -P 0`, which waits for every client and reaps it. Each client's JSON goes to its
/// own log file, kept raw in the results.
public enum IperfCommands {
    public static func serverLog(_ flow: TrafficPlan.Flow, directory: String) -> String { "\(directory)/server-\(flow.index).json" }
    public static func serverPidFile(_ flow: TrafficPlan.Flow, directory: String) -> String { "\(directory)/server-\(flow.index).pid" }
    public static func clientLog(_ flow: TrafficPlan.Flow, directory: String) -> String { "\(directory)/client-\(flow.index).json" }

    public static func server(_ flow: TrafficPlan.Flow, directory: String) -> HostOperation {
        .startIperfServer(IperfServer(address: flow.drain, port: flow.port, logFile: serverLog(flow, directory: directory),
                                      pidFile: serverPidFile(flow, directory: directory), cpu: flow.serverCPU))
    }

    public static func client(_ flow: TrafficPlan.Flow, traffic: TrafficSpec, directory: String) -> IperfClient {
        IperfClient(destination: flow.drain, source: flow.source, port: flow.port, seconds: traffic.durationSeconds,
                    omitSeconds: traffic.omitSeconds, logFile: clientLog(flow, directory: directory),
                    udpBitrate: traffic.protocol == .udp ? traffic.bitrate : nil, cpu: flow.clientCPU)
    }

    /// All clients at once; returns when the last has finished (or 30 s after it should have).
    public static func clients(_ flows: [TrafficPlan.Flow], traffic: TrafficSpec, directory: String) -> HostOperation {
        .runIperfClients(flows.map { client($0, traffic: traffic, directory: directory) },
                         timeoutSeconds: traffic.durationSeconds + traffic.omitSeconds + 30)
    }
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
