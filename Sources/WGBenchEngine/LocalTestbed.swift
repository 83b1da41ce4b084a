import Foundation
import Glibc
import WGBenchCore
import WGBenchRemote

/// Brings the embedded local testbed up and down on this machine (see `LocalTestbedPlan` for
/// the topology). `up` either completes or removes what it made; `down` is idempotent and ends
/// with a residue check.
public struct LocalTestbed: Sendable {
    public let plan: LocalTestbedPlan
    let runner: LocalRunning
    /// Called with a line for each step, for progress output.
    let log: @Sendable (String) -> Void

    public init(testbed: Testbed, runner: LocalRunning = LocalCommandRunner(), log: @escaping @Sendable (String) -> Void = { _ in }) {
        plan = LocalTestbedPlan(testbed: testbed)
        self.runner = runner
        self.log = log
    }

    public var testbed: Testbed { plan.testbed }

    public enum Failure: Error, CustomStringConvertible {
        case notRoot
        case missingTool(String, package: String)
        case alreadyUp([String])
        case managementInUse(network: String, by: [String])
        case step(String, underlying: Error)
        case sshNotReady(host: String, underlying: Error)
        case accountLocked(String)

        public var description: String {
            switch self {
            case .notRoot:
                return "the local testbed needs root (network namespaces, veth, sshd): run as root"
            case let .missingTool(tool, package):
                return "\(tool) is not installed: apt-get install \(package)"
            case let .alreadyUp(residue):
                return "the testbed is already up, or a previous one left things behind (\(residue.joined(separator: ", "))): "
                    + "run `wgbench testbed down` with the same file first"
            case let .managementInUse(network, users):
                return "the management network \(network) is in use on this machine by \(users.joined(separator: ", ")), another local testbed's "
                    + "or this machine's own: its SSH addresses would be ambiguous; give this testbed a management network of its own (local: {management: ...})"
            case let .step(what, underlying):
                return "\(what) failed: \(underlying)"
            case let .sshNotReady(host, underlying):
                return "sshd on \(host) did not become reachable: \(underlying)"
            case let .accountLocked(user):
                return "\(user)'s password entry in /etc/shadow is locked ('!'), and sshd refuses key logins to locked "
                    + "accounts: mark it as having no password instead with `usermod -p '*' \(user)` (key logins only)"
            }
        }
    }

    // MARK: Up

    public func up() throws {
        guard geteuid() == 0 else { throw Failure.notRoot }
        let parent = (plan.stateDirectory.rawValue as NSString).deletingLastPathComponent
        try SecureDirectory.create(parent, mode: 0o755)
        let lock = try LocalLock(path: plan.lockFile, what: "wgbench testbed up \(testbed.name)")
        defer { withExtendedLifetime(lock) {} }
        for (tool, package) in [("ip", "iproute2"), ("/usr/sbin/sshd", "openssh-server"), ("ssh-keygen", "openssh-client")]
        where LocalCommandRunner.resolve(tool) == nil {
            throw Failure.missingTool(tool, package: package)
        }
        let leftovers = residue()
        guard leftovers.isEmpty else { throw Failure.alreadyUp(leftovers) }
        // Our own names are free (no residue); another testbed's bridge may still hold our network.
        let inUse = plan.managementCollisions((try? runner.check(LocalTestbedPlan.rootAddresses)) ?? "")
        guard inUse.isEmpty else { throw Failure.managementInUse(network: plan.settings.management.network.description, by: inUse) }
        let user = testbed.host(.source).ssh.user.rawValue
        if let shadow = try? String(contentsOfFile: "/etc/shadow", encoding: .utf8),
           shadow.split(separator: "\n").contains(where: { $0.hasPrefix("\(user):!") }) {
            throw Failure.accountLocked(user)
        }
        do {
            try writeKeysAndConfigs()
            log("creating namespaces \(plan.namespaces.joined(separator: ", ")) and links")
            for command in plan.networkCommands { try step(command) }
            for role in HostRole.allCases {
                log("starting sshd on \(role) (\(testbed.host(role).ssh.address))")
                try step(plan.sshdCommand(role))
            }
            try writeKnownHosts()
            try waitForSSH()
        } catch {
            log("bringing the testbed up failed; removing what was made")
            _ = down()
            throw error
        }
    }

    private func step(_ command: Command) throws {
        do {
            try runner.check(command)
        } catch {
            throw Failure.step("`\(command)`", underlying: error)
        }
    }

    private func writeKeysAndConfigs() throws {
        let files = FileManager.default
        // sshd reads its authorized keys from here (StrictModes off): it must be root's alone.
        try SecureDirectory.create(plan.stateDirectory.rawValue)
        // sshd refuses to start without its privilege separation directory.
        try files.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try step(Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "wgbench-\(testbed.name)",
                         "-f", plan.clientKey.rawValue))
        try files.copyItem(atPath: plan.clientKey.rawValue + ".pub", toPath: plan.authorizedKeys.rawValue)
        for role in HostRole.allCases {
            try files.createDirectory(atPath: plan.hostDirectory(role).rawValue, withIntermediateDirectories: true,
                                      attributes: [.posixPermissions: 0o700])
            try step(Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "wgbench-\(testbed.name)-\(role)",
                             "-f", plan.hostKey(role).rawValue))
            try Data(plan.sshdConfig(role).utf8).write(to: URL(fileURLWithPath: plan.sshdConfigPath(role).rawValue))
        }
    }

    /// Records each host's freshly generated key, so that the controller checks host keys strictly:
    /// in the testbed's own known_hosts in its state directory, never a file of the user's.
    private func writeKnownHosts() throws {
        var lines = ""
        for host in testbed.orderedHosts {
            let publicKey = try String(contentsOfFile: plan.hostKey(host.role).rawValue + ".pub", encoding: .utf8)
            let fields = publicKey.split(separator: " ")
            guard fields.count >= 2 else { throw Failure.step("reading \(host.role)'s host key", underlying: CocoaError(.fileReadCorruptFile)) }
            lines += "\(host.ssh.address) \(fields[0]) \(fields[1])\n"
        }
        try Data(lines.utf8).write(to: URL(fileURLWithPath: plan.knownHosts.rawValue))
    }

    /// sshd has bound its socket when it forks, but give it a moment on a loaded machine.
    private func waitForSSH() throws {
        let testbed = self.testbed
        let results = onEachHost(HostRole.allCases) { role in
            var lastError: Error?
            for _ in 0..<50 {
                do {
                    let host = SSHHost(SSHEndpoint(testbed: testbed, role: role))
                    try host.check(.nothing)
                    return
                } catch {
                    lastError = error
                    usleep(100_000)
                }
            }
            throw Failure.sshNotReady(host: role.rawValue, underlying: lastError!)
        }
        for result in results { try result.get() }
    }

    // MARK: Down

    /// `wgbench testbed down`: takes the local lock and the hosts' leases first, so a testbed a run
    /// is using is refused (`LeaseError`, `LocalLock.Busy`) instead of pulled from under it; a
    /// stale lease only with `force`. Then `down()`.
    public func takeDown(force: Bool) throws -> [String] {
        let parent = (plan.stateDirectory.rawValue as NSString).deletingLastPathComponent
        if FileManager.default.fileExists(atPath: parent) {
            let lock = try LocalLock(path: plan.lockFile, what: "wgbench testbed down \(testbed.name)")
            defer { withExtendedLifetime(lock) {} }
            try leaseHosts(force: force)
            return down()
        }
        try leaseHosts(force: force)
        return down()
    }

    /// Takes the lease on every host whose namespace exists (the lease files go with `down`).
    private func leaseHosts(force: Bool) throws {
        let existing = Set(namespaces())
        var hosts: [HostRole: RemoteHost] = [:]
        for role in HostRole.allCases where existing.contains(plan.namespace(role)) {
            hosts[role] = NamespaceHost(name: role.rawValue, namespace: plan.namespace(role), runner: runner)
        }
        guard !hosts.isEmpty else { return }
        _ = try TestbedLease.acquire(hosts: hosts, holder: TestbedLease.holder(run: "testbed-down"), force: force, log: log)
    }

    /// Removes everything `up` made, whatever state it is in, and the run folders and leases of its
    /// hosts. Returns what could not be removed (empty when the machine is clean).
    @discardableResult
    public func down() -> [String] {
        for role in HostRole.allCases { killProcesses(in: role) }
        killStrayProcesses()
        removeHostState()
        // Deleting a namespace takes its veth ends, and so the pairs, with it: look at links only afterwards.
        let existing = Set(namespaces())
        for command in plan.namespaceTeardownCommands where existing.contains(command.argv.last!) {
            log("removing namespace \(command.argv.last!)")
            _ = try? runner.run(command)
        }
        let links = Set(rootLinks())
        for command in plan.linkTeardownCommands where links.contains(command.argv.last!) {
            log("removing link \(command.argv.last!)")
            _ = try? runner.run(command)
        }
        try? FileManager.default.removeItem(atPath: plan.stateDirectory.rawValue)
        unlink(plan.lockFile)  // nothing of the testbed stays behind; whoever holds it now keeps its lock
        // The folders every testbed shares go once no testbed uses them (rmdir refuses a non-empty one).
        for shared in [HostFolders.runs, (HostFolders.runs as NSString).deletingLastPathComponent] { rmdir(shared) }
        return residue()
    }

    /// The hosts' run folders (their namespaces share this machine's /run) and lease files, while
    /// the namespaces still exist to name them.
    private func removeHostState() {
        let existing = Set(namespaces())
        for role in HostRole.allCases where existing.contains(plan.namespace(role)) {
            let host = NamespaceHost(name: role.rawValue, namespace: plan.namespace(role), runner: runner)
            if let removed = try? host.check(HostFolders.sweep(remove: true)), !removed.isEmpty {
                log("removed \(role)'s run folders: \(removed.split(separator: "\n").joined(separator: ", "))")
            }
            var info = stat()
            guard stat("/run/netns/\(plan.namespace(role))", &info) == 0 else { continue }
            for file in ["lease-\(info.st_ino)", ".lease-\(info.st_ino).lock"] { unlink("/run/wgbench/\(file)") }
        }
    }

    private func killProcesses(in role: HostRole) {
        guard namespaces().contains(plan.namespace(role)) else { return }
        for signal in [SIGTERM, SIGKILL] {
            let pids = ((try? runner.run(plan.namespacePidsCommand(role)))?.stdout ?? "")
                .split(separator: "\n").compactMap { pid_t($0.trimmingCharacters(in: .whitespaces)) }
                .filter(Self.isAlive)
            if pids.isEmpty { return }
            for pid in pids { kill(pid, signal) }
            for _ in 0..<40 where pids.contains(where: Self.isAlive) { usleep(25_000) }
        }
    }

    /// Running and not a zombie: a killed daemon's parent may be an init that reaps late.
    public static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: UInt8(ascii: ")")), close + 2 < stat.count
        else { return false }
        return stat[close + 2] != UInt8(ascii: "Z")
    }

    /// Processes started with our state directory on their command line (sshd) that are no longer
    /// in a namespace we can see, e.g. after the namespace was deleted by hand.
    private func killStrayProcesses() {
        for pid in strayProcesses() { kill(pid, SIGKILL) }
    }

    private func strayProcesses() -> [pid_t] {
        let marker = plan.stateDirectory.rawValue + "/"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let cmdline = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return cmdline.contains(marker) ? pid : nil
        }
    }

    // MARK: Residue

    /// What of this testbed exists on the machine: namespaces, root-namespace links, processes and
    /// the state directory. Empty means clean; a listing that failed is there as "not verified",
    /// since nothing can be said about what it would have shown.
    public func residue() -> [String] {
        var found: [String] = []
        let ours = Set(plan.namespaces)
        let namespaces = list(Self.namespaceList, IPNetnsParser.names)
        found += (try? namespaces.get())?.filter(ours.contains).map { "namespace \($0)" } ?? []
        let ourLinks = Set([plan.bridge] + HostRole.allCases.map(plan.managementVeth))
        let links = list(Self.linkList, IPLinkParser.names)
        found += (try? links.get())?.filter(ourLinks.contains).map { "link \($0)" } ?? []
        for case .failure(let failure) in [namespaces, links] { found.append("\(failure)") }
        found += strayProcesses().map { "process \($0)" }
        if FileManager.default.fileExists(atPath: plan.stateDirectory.rawValue) {
            found.append("directory \(plan.stateDirectory)")
        }
        return found
    }

    static let namespaceList = Command("ip", "netns", "list")
    static let linkList = Command("ip", "-o", "link", "show")

    /// A listing `down` could not make: what it would have removed is unknown, and so is whether
    /// the machine is clean.
    public struct NotVerified: Error, CustomStringConvertible, Equatable, Sendable {
        public let command: String
        public let reason: String

        public var description: String { "not verified: `\(command)` \(reason)" }
    }

    /// The names a listing command printed, or why it printed none.
    private func list(_ command: Command, _ parse: (String) -> [String]) -> Result<[String], NotVerified> {
        do {
            let result = try runner.run(command)
            guard result.succeeded else {
                return .failure(NotVerified(command: command.description, reason: "exited \(result.status)"
                                                + (result.stderrTail.isEmpty ? "" : ": \(result.stderrTail)")))
            }
            return .success(parse(result.stdout))
        } catch {
            return .failure(NotVerified(command: command.description, reason: "failed: \(error)"))
        }
    }

    /// The namespaces to act on (none where the listing failed: `residue` says so).
    private func namespaces() -> [String] { (try? list(Self.namespaceList, IPNetnsParser.names).get()) ?? [] }

    private func rootLinks() -> [String] { (try? list(Self.linkList, IPLinkParser.names).get()) ?? [] }
}
