import Foundation
import WGBenchCore
import WGBenchRemote

/// One repetition: its attempts (provision, check the tunnels, traffic, check again), each
/// failure's reason kept, and the one result it ends with.
extension ExperimentRunner {
    /// One repetition with its retries. `previous` is its failed result from an earlier invocation,
    /// whose attempts are kept. Throws what stops the run: a lost host, a local write failure.
    func measure(_ key: RunKey, previous: RepetitionResult?) throws -> RepetitionResult {
        let spec = record.spec
        let started = Date()
        var attempts = previous.map(Self.attempts(of:)) ?? []
        guard let series = spec.series.first(where: { $0.name == key.series }) else {
            return failed(key, "series \(key.series) is not in the spec", attempts: attempts, started: started, steps: [])
        }
        let knobs: KnobSettings
        let plan: TrafficPlan
        let placement: ResolvedPlacement
        do {
            knobs = try key.point.knobs(for: series)
            let counts = try key.point.counts()
            plan = try TrafficPlan(testbed: testbed, traffic: spec.traffic, tunnels: counts.tunnels, flows: counts.flows,
                                   target: series.target)
            placement = try PlacementResolver.resolve(series.placement, plan: plan, topology: topology, dataNIC: [
                .gw1: testbed.host(.gw1).interface(.ingress).name.rawValue, .gw2: testbed.host(.gw2).interface(.underlay).name.rawValue,
            ])
        } catch {
            return failed(key, "\(error)", attempts: attempts, started: started, steps: [])
        }
        onPlacement(placement.describe(plan: plan, knobs: knobs, target: series.target))
        let health = TunnelHealthCheck(hosts: hosts, runID: record.id)
        var lastFailure = "not attempted"
        var steps: [StepRecord] = []
        for attempt in 1...(spec.retries + 1) {
            let attemptStarted = Date()
            // Raw files of an earlier attempt must not lie beside this one's result.
            for raw in store.contents(of: RunLayout.repetition(key)) where raw != RunLayout.resultName {
                store.remove("\(key.directory)/\(raw)")
            }
            var inTraffic = false
            do {
                let prepared = try provisioner.prepare(series: series, knobs: knobs, plan: plan, placement: placement)
                steps = prepared.steps
                if let dead = try health.beforeTraffic(plan, target: series.target) {
                    lastFailure = dead
                    _ = provisioner.teardown()  // the next attempt makes the tunnels anew
                } else {
                    let work = HostFolders.attempt(runID: record.id, key: key, attempt: attempts.count + 1, nonce: makeNonce())
                    let dropsBefore = try readDrops(plan, target: series.target, settle: false)
                    inTraffic = true
                    let outcome = try TrafficRun(hosts: hosts, spec: spec, store: store, workDirectory: work).run(plan: plan, key: key)
                    // A daemon that died explains a traffic failure better than iperf3's view of it.
                    if let dead = try health.afterTraffic(plan, target: series.target) {
                        lastFailure = dead
                        _ = provisioner.teardown()
                    } else if let failure = outcome.failure {
                        lastFailure = failure
                    } else {
                        let dropsAfter = try readDrops(plan, target: series.target, settle: true)
                        attempts.append(AttemptRecord(started: attemptStarted, finished: Date(), failure: nil))
                        return RepetitionResult(
                            key: key, status: .ok, reason: nil, attempts: attempts.count, started: started, finished: Date(),
                            throughput: outcome.flows.compactMap(\.bitsPerSecond).reduce(0, +), flows: outcome.flows,
                            cpu: outcome.cpu, samplerCPUSeconds: outcome.samplerCPUSeconds, sampledSeconds: outcome.sampledSeconds,
                            knobs: prepared.knobs, steps: steps, placement: prepared.placed, attemptLog: attempts,
                            drops: DaemonDrops.perHost(before: dropsBefore, after: dropsAfter), steadyFrom: outcome.steadyFrom,
                            saturation: outcome.saturation)
                    }
                }
            } catch let error as LocalWriteError {
                throw error  // this machine's fault: retrying on the hosts would not help
            } catch {
                if let lost = confirmedLost(error) { throw lost }
                // A daemon that died during traffic stalls iperf3 until its time limit: name the daemon.
                let dead = inTraffic ? (try? health.afterTraffic(plan, target: series.target)) ?? nil : nil
                lastFailure = dead ?? "\(error)"
                // Start the next attempt from a clean slate.
                _ = provisioner.teardown()
            }
            attempts.append(AttemptRecord(started: attemptStarted, finished: Date(), failure: lastFailure))
            onEvent(.attemptFailed(key, attempt: attempt, reason: lastFailure))
            log("\(key): attempt \(attempt) failed: \(lastFailure)")
            try store.checkFault()
            if provisioner.isAborted { break }
        }
        return failed(key, lastFailure, attempts: attempts, started: started, steps: steps)
    }

    /// wireguard-swift's drop counters on both gateways, per gateway and interface; nil for other
    /// targets and where a gateway has no stats file for its tunnels (an older daemon).
    func readDrops(_ plan: TrafficPlan, target: TargetKind, settle: Bool) throws -> [String: [String: [String: Int]]]? {
        guard target == .wireguardSwift, !plan.tunnels.isEmpty else { return nil }
        let hosts = self.hosts
        let read = try onEachHostOrThrow([HostRole.gw1, .gw2]) { role in
            (role.rawValue, try hosts[role]!.read(.daemonDrops(interfaces: plan.tunnels.map { $0.interface(role) }, settle: settle)))
        }
        guard read.allSatisfy({ !$0.1.isEmpty }) else { return nil }
        return Dictionary(uniqueKeysWithValues: read)
    }

    /// The attempts a result records; an older result without the list has its last reason.
    static func attempts(of result: RepetitionResult) -> [AttemptRecord] {
        if !result.attemptLog.isEmpty { return result.attemptLog }
        guard result.attempts > 0 else { return [] }
        return [AttemptRecord(started: result.started, finished: result.finished, failure: result.reason)]
    }

    func failed(_ key: RunKey, _ reason: String, attempts: [AttemptRecord], started: Date, steps: [StepRecord]) -> RepetitionResult {
        .unmeasured(key, .failed, reason: reason, attempts: attempts, started: started, steps: steps)
    }
}

extension RepetitionResult {
    /// A repetition without a measurement (failed, or its target unsupported), with why.
    static func unmeasured(_ key: RunKey, _ status: Status, reason: String, attempts: [AttemptRecord], started: Date,
                           steps: [StepRecord]) -> RepetitionResult {
        RepetitionResult(key: key, status: status, reason: reason, attempts: attempts.count, started: started, finished: status == .unsupported ? started : Date(),
                         throughput: nil, flows: [], cpu: [:], samplerCPUSeconds: [:], sampledSeconds: nil, knobs: [:], steps: steps,
                         attemptLog: attempts)
    }
}
