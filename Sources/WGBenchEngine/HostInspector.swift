import WGBenchCore
import WGBenchRemote

/// Asks a host what `testbed check` reports: kernel, CPUs and NUMA, the testbed's NICs,
/// tool versions and kernel WireGuard. Read-only: it changes nothing on the host.
public enum HostInspector {
    public static func inspect(_ host: RemoteHost, spec: TestbedHost) throws -> HostReport {
        func output(_ fact: HostFact) throws -> String? {
            let result = try host.perform(.read(fact))
            return result.succeeded ? result.stdout : nil
        }

        let kernel = try output(.kernelRelease)?.trimmingCharacters(in: .whitespacesAndNewlines)
        let cpu = try output(.lscpu).flatMap(LscpuParser.parse)

        var nics: [NICReport] = []
        for link in spec.role.links {
            let name = spec.interface(link).name.rawValue
            guard let queues = try output(.nicQueues(name)) else {
                nics.append(NICReport(link: link, name: name, present: false, driver: nil, rxQueues: nil, txQueues: nil, ntuple: .unknown))
                continue
            }
            let counts = EthtoolParser.queueCounts(queues)
            let driver = try output(.nicDriver(name)).flatMap(EthtoolParser.driverInfo)
            let features = try output(.nicFeatures(name)).map(EthtoolParser.features) ?? [:]
            nics.append(NICReport(link: link, name: name, present: true, driver: driver,
                                  rxQueues: counts.rx, txQueues: counts.tx, ntuple: EthtoolParser.ntuple(features)))
        }

        var tools: [String: String?] = [:]
        for tool in CheckedTool.allCases {
            // Some tools print their version on stderr; a missing tool exits 127.
            let result = try host.perform(tool.versionCommand)
            tools[tool.rawValue] = result.succeeded ? VersionParser.version(result.stdout + "\n" + result.stderr) ?? "unknown" : nil
        }

        let kernelWireGuard: KernelWireGuard
        if try host.perform(.read(.wireguardModuleLoaded)).succeeded {
            kernelWireGuard = .loaded
        } else if try host.perform(.read(.wireguardModuleAvailable)).succeeded {
            kernelWireGuard = .available
        } else {
            kernelWireGuard = .absent
        }

        return HostReport(role: spec.role, address: host.address, kernel: kernel, cpu: cpu, nics: nics,
                          tools: tools, kernelWireGuard: kernelWireGuard)
    }
}
