import Foundation
import WGBenchCore
import WGBenchRemote

/// The end of a run, or of an aborted one: tunnels, flows, rules and the run's folders removed,
/// and the residue check that proves it.
extension ExperimentRunner {
    /// Removes tunnels, flows and rules, then checks the hosts for anything of ours. Safe to call
    /// more than once.
    @discardableResult
    public func teardown(skipping lost: HostRole? = nil) -> [String] {
        teardownLock.lock()
        defer { teardownLock.unlock() }
        if tornDown { return [] }
        tornDown = true
        guard let lost else { return cleanUp(using: hosts) }
        log("tearing down on every host but \(lost), which cannot be reached")
        return cleanUp(using: hosts.filter { $0.key != lost })
    }

    /// For a signal handler: stops the run where it is and tears down over `fresh` connections,
    /// since the run's own may be busy with a command. Traffic in flight is killed.
    public func abort(using fresh: [HostRole: RemoteHost]) -> [String] {
        provisioner.abort()
        teardownLock.lock()
        defer { teardownLock.unlock() }
        tornDown = true
        var recording: [HostRole: RemoteHost] = [:]
        for (role, host) in fresh { recording[role] = RecordingHost(host, store: store) }
        return cleanUp(using: recording)
    }

    func cleanUp(using hosts: [HostRole: RemoteHost]) -> [String] {
        var problems = provisioner.teardown(using: hosts)
        // The id reaches `rm -rf` on every host: only one wgbench itself would have made.
        if RunRecord.isValidID(record.id) {
            for role in HostRole.allCases {
                let operation = HostOperation.removeTree(HostFolders.run(record.id))
                do {
                    guard let result = try hosts[role]?.perform(operation), !result.succeeded else { continue }
                    problems.append("\(role): `\(operation)` exited \(result.status)\(result.stderrTail.isEmpty ? "" : ": " + result.stderrTail)")
                } catch {
                    problems.append("\(role): `\(operation)`: \(error)")
                }
            }
        }
        problems += ResidueCheck.check(hosts: hosts, testbed: testbed)
        return problems
    }

    static func samplerCost(_ results: [RepetitionResult]) -> Double? {
        let pairs = results.flatMap { result in result.samplerCPUSeconds.values.map { ($0, result.sampledSeconds ?? 0) } }
        let seconds = pairs.map(\.1).reduce(0, +)
        guard seconds > 0 else { return nil }
        return pairs.map(\.0).reduce(0, +) / seconds
    }
}
