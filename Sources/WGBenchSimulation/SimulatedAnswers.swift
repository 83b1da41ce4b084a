import Foundation
import WGBenchCore
import WGBenchEngine
import WGBenchSodium

/// How the simulated testbed answers each operation: what it changes in its model of the host,
/// and what the host's tools would print.
extension SimulatedTestbed {
    func answer(_ role: HostRole, _ operation: HostOperation) -> CommandResult {
        lock.lock()
        defer { lock.unlock() }
        if let stderr = failing?(role, operation) { return fail(stderr) }
        switch operation {
        case .addWireGuardDevice(let interface):
            guard links[role, default: []].insert(interface).inserted else { return fail("RTNETLINK answers: File exists", status: 2) }
            addKernelDevice(role, interface)
            return ok()
        case .startDaemon(let launch):
            // A userspace daemon makes its interface.
            guard links[role, default: []].insert(launch.interface).inserted else { return fail("interface \(launch.interface) exists") }
            killed[role]?.remove(launch.interface)
            daemons[role, default: [:]][launch.interface] = launch.target
            return ok()
        case .deleteLink(let interface, _):
            // A userspace daemon goes with its interface (the simulated ones at once).
            return deleteLink(role, interface)
        case .setLinkUp(let interface):
            return hasLink(role, interface) ? ok() : noDevice(interface)
        case .replaceAddress(let address, let device):
            guard hasLink(role, device) || !device.hasPrefix("wgb") else { return noDevice(device) }
            addresses[role, default: [:]][address] = device
            return ok()
        case .deleteAddress(let address, _):
            return addresses[role]?.removeValue(forKey: address) != nil ? ok() : fail("RTNETLINK answers: Cannot assign requested address", status: 2)
        case .replaceRoute(let destination, .device(let device)):
            guard hasLink(role, device) || !device.hasPrefix("wgb") else { return noDevice(device) }
            routes[role, default: [:]][destination] = device
            return ok()
        case .replaceRoute(let destination, .gateway):
            routes[role, default: [:]][destination] = ""
            return ok()
        case .deleteRoute(let destination):
            return routes[role]?.removeValue(forKey: destination) != nil ? ok() : fail("RTNETLINK answers: No such process", status: 2)
        case .setWireGuardConfig(let interface, _):
            guard hasLink(role, interface) else { return fail("Unable to modify interface: No such device") }
            if sysfs[role]?["\(interface)/threaded"] != nil {
                // A kernel device: setconf replaces its peers, and a new peer gets the next id.
                sysfs[role] = sysfs[role]?.filter { !$0.key.hasPrefix("\(interface)/peer_") }
                let id = (lastPeerID[role] ?? 0) + 1
                lastPeerID[role] = id
                if kernelModule != .upstream { sysfs[role, default: [:]]["\(interface)/peer_\(id)/serial_work_cpu"] = String(cpus) }
            }
            return ok()
        case .setAllowedIPs(let interface, _, _):
            return hasLink(role, interface) ? ok() : fail("Unable to modify interface: No such device")
        case .pinDaemon(_, let interface, let cpus):
            // taskset on the daemons of an interface: they run if their interface exists.
            guard daemons[role]?[interface] != nil && hasLink(role, interface) else { return fail("", status: 3) }
            if !ignoredWrites.contains("taskset") { pinned[role, default: [:]][interface] = cpus }
            return ok()
        case .writeKnob(let interface, let file, let value):
            let key = "\(interface)/\(file)"
            guard sysfs[role]?[key] != nil else { return fail("tee: \(ShellRenderer.knobPath(interface: interface, file)): No such file or directory") }
            if ignoredWrites.contains(String(file.split(separator: "/").last!)) { return ok(value + "\n") }
            // Masks read back padded to 32-bit groups, as the kernel prints them.
            sysfs[role]![key] = file.hasSuffix("cpumask") ? CPUList.parseHexMask(value).map(Self.kernelMask) ?? value : value
            return ok(value + "\n")
        case .handshake:
            // A ping through the tunnels: every tunnel whose two sides exist handshakes.
            // (The simulation serves testbeds of the default stem: wgb1-t pairs with wgb2-t.)
            for interface in links[.gw1] ?? [] where interface.hasPrefix("wgb1-") {
                let peer = "wgb2-" + interface.dropFirst("wgb1-".count)
                if links[.gw2]?.contains(peer) == true {
                    handshaken[.gw1, default: []].insert(interface)
                    handshaken[.gw2, default: []].insert(peer)
                }
            }
            return ok()
        case .stopDaemons, .kill, .killIperfServers, .nothing:
            return ok()
        case .setNtuple:
            return ntuple == .unsupported ? fail("Cannot change ntuple-filters") : ok()
        case .insertFlowRule:
            guard ntuple == .enabled || ntuple == .disabled else { return fail("rxclass: Cannot insert RX class rule: Operation not supported") }
            defer { nextRule += 1 }
            return ok("Added rule with ID \(nextRule)\n")
        case .deleteFlowRule:
            return ok()
        case .setIRQAffinity(_, let cpus):
            return ok(cpus + "\n")
        case .startIperfServer(let server):
            listening.insert("\(server.address):\(server.port)")
            serverLogs.append(server.logFile)
            return ok()
        case .runIperfClients(let clients, _):
            return runClients(role, clients)
        case .sampleCPU(let sampling):
            return ok(samplerOutput ?? sampler(samples: sampling.samples, interval: Double(sampling.intervalMilliseconds) / 1000))
        case .prepareRunFolder(let path):
            runFolders[role, default: []].insert(path)
            return ok()
        case .sweepRunFolders(let remove):
            let folders = (runFolders[role] ?? []).sorted()
            if remove {
                // The local testbed's hosts share one /run: a folder goes for every host that marked it.
                for other in HostRole.allCases { runFolders[other]?.subtract(folders) }
            }
            return ok(folders.map { $0 + "\n" }.joined())
        case .freshFolder(let path), .removeTree(let path):
            runFolders[role]?.remove(path)
            files[role] = files[role]?.filter { !$0.key.hasPrefix(path + "/") }
            return ok()
        case .createEmptyFile(let path):
            files[role, default: [:]][path] = []
            return ok()
        case .appendToFile(let path, let bytes):
            files[role, default: [:]][path, default: []] += bytes
            return ok()
        case .installExecutable(let from, let to):
            guard let content = files[role]?.removeValue(forKey: from) else { return fail("chmod: cannot access '\(from)': No such file or directory") }
            files[role]?[to] = content
            return ok()
        case .lease(let request):
            return answerLease(role, request)
        case .read(let fact):
            return read(role, fact)
        }
    }

    private func read(_ role: HostRole, _ fact: HostFact) -> CommandResult {
        switch fact {
        case .links:
            return ok((["lo", "eth1"] + (links[role] ?? []).sorted()).enumerated()
                .map { "\($0.offset + 1): \($0.element): <UP> mtu 1500" }.joined(separator: "\n"))
        case .ipv4Routes:
            return ok((routes[role] ?? [:]).keys.sorted().map { "\($0.replacingOccurrences(of: "/32", with: "")) via 198.18.1.1 dev eth1" }
                .joined(separator: "\n"))
        case .ipv4Addresses:
            return ok((addresses[role] ?? [:]).sorted { $0.key < $1.key }.map { "2: \($0.value)    inet \($0.key) scope global \($0.value)" }
                .joined(separator: "\n"))
        case .namespaceProcesses:
            return ok("@netns 4026531840\n")  // no process runs in a simulation
        case .listeningSockets:
            return ok(listening.sorted().map { "LISTEN 0 5 \($0) 0.0.0.0:*" }.joined(separator: "\n"))
        case .file(let path):
            return files[role]?[path].map { ok(String(decoding: $0, as: UTF8.self)) } ?? fail("cat: \(path): No such file or directory")
        case .sha256(let path):
            guard let content = files[role]?[path] else { return fail("sha256sum: \(path): No such file or directory") }
            return ok("\(SHA256Digest.hex(content))  \(path)\n")
        case .programVersion(let program):
            // Any build of either daemon, as the `binary` knob may name one (wireguard-go-<rev>, a path), or an upload.
            let name = program.split(separator: "/").last.map(String.init) ?? program
            guard name.hasPrefix("wireguard-go") || name.hasPrefix("wireguard-swift") || files[role]?[program] != nil else {
                return fail("sh: 1: \(program): not found", status: 127)
            }
            return ok("\(program) v0.0.0 (simulated)\n")
        case .toolVersion(.wg):
            return ok("wireguard-tools v1.0.20210914 (simulated)\n")
        case .toolVersion(let tool):
            return ok("\(tool.rawValue) (simulated)\n")
        case .knobFiles(let interface):
            guard hasLink(role, interface) else {
                return fail("ls: cannot access '/sys/class/net/\(interface)': No such file or directory")
            }
            let entries = Set((sysfs[role] ?? [:]).keys.filter { $0.hasPrefix(interface + "/") }
                .map { String($0.dropFirst(interface.count + 1).split(separator: "/")[0]) })
            return ok((["addr_assign_type", "mtu", "operstate"] + entries).sorted().joined(separator: "\n") + "\n")
        case .knob(let interface, let file):
            return sysfs[role]?["\(interface)/\(file)"].map { ok($0 + "\n") }
                ?? fail("cat: \(ShellRenderer.knobPath(interface: interface, file)): No such file or directory")
        case .tunnelHealth(let daemon, let interfaces):
            return ok(interfaces.map { interface -> String in
                let present = hasLink(role, interface)
                let running = daemon == nil ? "-" : (present && killed[role]?.contains(interface) != true ? "running" : "dead")
                let handshake = handshaken[role]?.contains(interface) == true && present ? leaseClock : 0
                return "\(interface) \(present ? "up" : "gone") \(running) \(handshake)\n"
            }.joined())
        case .daemonAffinity(_, let interface):
            // Three threads, where their pin put them (or on every CPU).
            guard daemons[role]?[interface] != nil && hasLink(role, interface) else { return fail("", status: 3) }
            let cpus = CPUList.format(pinned[role]?[interface] ?? Array(0..<self.cpus))
            return ok((100...102).map { "pid \($0)'s current affinity list: \(cpus)\n" }.joined())
        case .logTail(let path, _):
            return ok("simulated log of \(path)\nINFO: (\(role)) last line\n")
        case .daemonDrops(let interfaces, _):
            let live = interfaces.filter { hasLink(role, $0) && daemons[role]?[$0] == .wireguardSwift }
            return ok(live.map { "\($0) malformed=0\n\($0) replayed=0\n\($0) no_session=0\n" }.joined())
        case .interrupts:
            return ok(interrupts())
        case .irqAffinity:
            return ok("0-\(cpus - 1)\n")
        case .irqbalance:
            return fail("")  // not running
        case .nicFeatures(let nic):
            let state = ntuple == .enabled ? "on" : (ntuple == .unsupported ? "off [fixed]" : "off")
            return ok("Features for \(nic):\nntuple-filters: \(state)\n")
        case .nicDriver:
            return ok("driver: simulated\nbus-info: \n")
        case .nicQueues:
            return ok((0..<queueCount).map { "rx-\($0)" }.joined(separator: "\n") + "\n" + (0..<queueCount).map { "tx-\($0)" }.joined(separator: "\n"))
        case .nicLink(let nic):
            return ok("2: \(nic): <BROADCAST,MULTICAST,UP> mtu 1500 (simulated)\n")
        case .nicChannels(let nic), .nicRings(let nic), .nicRules(let nic):
            return ok("simulated: \(fact) \(nic)\n")
        case .topology(let nics):
            return ok(topologyOutput(nics: nics))
        case .preflight:
            return ok(preflightOutput)
        case .cryptoFloor(let bytes, let seconds):
            // `openssl speed -mr` at 1.5 GB/s each way: a floor of 0.67 CPU-s/GB.
            let run = "+DT:ChaCha20-Poly1305:\(seconds):\(bytes)\n+R:1000000:ChaCha20-Poly1305:\(seconds).000000\n+H:\(bytes)\n+F:25:ChaCha20-Poly1305:1500000000.00\n"
            return ok("@host simulated-\(role)\n@tool OpenSSL 3.0 (simulated)\n@seal\n" + run + "@open\n" + run)
        case .unameAll, .kernelRelease:
            return ok("Linux simulated 6.12.0 (simulated)\n")
        case .lscpu:
            return ok("lscpu (simulated)\n")
        case .bootID:
            return ok("simulated-boot_id\n")
        case .cmdline:
            return ok("simulated-cmdline\n")
        case .irqAffinities, .numaCPULists, .kernelWireGuardVersion:
            return ok("simulated\n")
        case .wireguardModuleLoaded, .ping:
            return ok()
        case .wireguardModuleAvailable:
            return ok("/lib/modules/simulated/wireguard.ko\n")
        }
    }

    func ok(_ out: String = "") -> CommandResult { CommandResult(status: 0, stdout: out, stderr: "") }
    func fail(_ stderr: String, status: Int32 = 1) -> CommandResult { CommandResult(status: status, stdout: "", stderr: stderr) }
    private func noDevice(_ interface: String) -> CommandResult { fail("Cannot find device \"\(interface)\"") }
    private func hasLink(_ role: HostRole, _ interface: String) -> Bool { links[role]?.contains(interface) == true }

    /// `ip link del`: the device goes, with its routes, addresses, handshake and sysfs files.
    func deleteLink(_ role: HostRole, _ interface: String) -> CommandResult {
        guard links[role, default: []].remove(interface) != nil else { return noDevice(interface) }
        routes[role] = routes[role]?.filter { $0.value != interface }  // the kernel drops routes through a deleted device
        addresses[role] = addresses[role]?.filter { $0.value != interface }
        handshaken[role]?.remove(interface)
        daemons[role]?[interface] = nil
        pinned[role]?[interface] = nil
        sysfs[role] = sysfs[role]?.filter { !$0.key.hasPrefix(interface + "/") }
        return ok()
    }

    /// The clients run on source; each client's log, and the log of every server waiting on drain, is written.
    private func runClients(_ role: HostRole, _ clients: [IperfClient]) -> CommandResult {
        listening = []  // one-off servers end with their client
        // A client whose destination gw1 does not route through a tunnel would bypass it:
        // fail loudly, so a provisioning bug cannot pass as a measurement.
        for client in clients where tunnelsExpected && routes[.gw1]?["\(client.destination)/32"]?.hasPrefix("wgb") != true {
            return CommandResult(status: 123, stdout: "", stderr: "simulation: gw1 has no tunnel route for \(client.destination)/32")
        }
        let result = { (client: Bool) in
            Array((self.iperfLog?(client) ?? "{\"start\":{\"test_start\":{\"protocol\":\"TCP\"}},\"end\":{\"sum_received\":{\"bits_per_second\":1e9,"
                   + "\"seconds\":1},\"sum_sent\":{\"bits_per_second\":1e9,\"retransmits\":0}}}").utf8)
        }
        for client in clients { files[role, default: [:]][client.logFile] = result(true) }
        for log in serverLogs { files[.drain, default: [:]][log] = result(false) }
        serverLogs = []
        return ok()
    }

    /// The lease script (`LeaseCommands`), with the lease line held in memory.
    private func answerLease(_ role: HostRole, _ request: LeaseRequest) -> CommandResult {
        let now = leaseClock
        let current = leases[role]
        let ours = { (token: String) in current?.contains(" token=\(token) ") == true }
        let held = CommandResult(status: LeaseCommands.heldStatus, stdout: "held \(now)\n\(current ?? "")\n", stderr: "")
        switch request.operation {
        case .acquire:
            if current != nil { return held }
        case .takeOver:
            if current != nil, request.expected != "*", !ours(request.expected) { return held }
        case .renew:
            guard ours(request.token) else { return CommandResult(status: LeaseCommands.lostStatus, stdout: "lost \(now)\n\(current ?? "")\n", stderr: "") }
        case .release:
            if ours(request.token) { leases[role] = nil }
            return ok("free \(now)\n")
        case .show:
            return current == nil ? ok("free \(now)\n") : ok("held \(now)\n\(current!)\n")
        }
        leases[role] = "\(request.line) renewed=\(now)"
        return ok("free \(now)\n")
    }

    /// `0000ffff`: 32-bit groups, zero-padded, as the kernel prints a cpumask.
    static func kernelMask(_ cpus: [Int]) -> String {
        CPUList.hexMask(cpus).split(separator: ",").map { String(repeating: "0", count: 8 - $0.count) + $0 }.joined(separator: ",")
    }

    private func topologyOutput(nics wanted: [String]) -> String {
        let topology = HostTopology.uniform(cpus: cpus, nodes: numaNodes, nics: nics, rxQueues: queueCount)
        return "0-\(cpus - 1)\n"
            + topology.nodes.map { "/sys/devices/system/node/node\($0.id)/cpulist:\($0.cpuList)\n" }.joined()
            + wanted.map { "@nic \($0) \(numaNodes > 1 ? "0" : "-1") \(queueCount)\n" }.joined()
    }

    /// A new kernel device's sysfs files, with the module's defaults.
    private func addKernelDevice(_ role: HostRole, _ name: String) {
        var files = ["threaded": threadedDefault ? "1" : "0"]
        let all = Self.kernelMask(Array(0..<cpus))
        switch kernelModule {
        case .upstream: break
        case .patched: files.merge(["inline_en": "1", "encrypt_cpumask": all, "decrypt_cpumask": all]) { $1 }
        case .patchedSingleMask: files.merge(["inline_en": "1", "cpumask": all]) { $1 }
        }
        for (file, value) in files { sysfs[role, default: [:]]["\(name)/\(file)"] = value }
    }

    /// Queue interrupts named the Intel way, `<nic>-TxRx-<q>`, for each of `nics`.
    private func interrupts() -> String {
        var lines = ["           " + (0..<cpus).map { "CPU\($0)" }.joined(separator: "  ")]
        for (index, nic) in nics.enumerated() {
            for queue in 0..<queueCount { lines.append(" \(200 + index * 100 + queue):  0  IR-PCI-MSI  edge  \(nic)-TxRx-\(queue)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// As many samples as the sampler was asked for, `interval` seconds apart, every core half busy.
    private func sampler(samples: Int, interval: Double) -> String {
        let load = (0..<cpus).map { CoreUsage(cpu: $0, user: 25, system: 0, irq: 0, softirq: 25, idle: 50) }
        var series = [CPUSample.start(cores: cpus, uptime: 100)]
        while series.count < max(2, min(samples, 3600)) { series.append(series.last!.advanced(by: interval, usage: load)) }
        return SamplerCommand.output(series)
    }
}
