import Foundation
import Glibc
import WGBenchCore
import WGBenchRemote

/// Why a testbed could not be leased, or stopped being ours.
public enum LeaseError: Error, CustomStringConvertible, Sendable {
    /// Another holder renews its lease.
    case busy(host: HostRole, record: LeaseRecord, age: Int)
    /// A lease nobody renewed for `age` seconds, left by a holder that may be gone.
    case stale(host: HostRole, record: LeaseRecord?, age: Int, damaged: String?)
    /// Our lease was taken over while we ran.
    case lost(host: HostRole, record: LeaseRecord?)
    /// The lease script failed on a host (no flock, /run not writable, its lock held for 10 s).
    case failed(host: HostRole, detail: String)

    static func holder(_ record: LeaseRecord) -> String {
        "run \(record.holder.run) of process \(record.holder.pid) on controller \(record.holder.controller)"
    }

    public var description: String {
        switch self {
        case let .busy(host, record, age):
            return "testbed busy: \(host) is leased to \(Self.holder(record)), renewed \(age) s ago; "
                + "wait for it to finish (two runs on one testbed skew each other's figures)"
        case let .stale(host, record, age, damaged):
            let who = record.map(Self.holder) ?? "an unreadable lease (\(damaged ?? "?"))"
            return "testbed lease on \(host) is stale: \(who), not renewed for \(age) s; if that run is really gone, "
                + "take the testbed over with --force"
        case let .lost(host, record):
            return "the testbed lease on \(host) was taken over" + (record.map { " by \(Self.holder($0))" } ?? "")
                + "; stopping without touching the testbed further"
        case let .failed(host, detail):
            return "cannot lease \(host): \(detail)"
        }
    }
}

/// An exclusive lease on every host of a testbed, held in a file on each host (`LeaseCommands`) and
/// renewed in the background while this process lives. Taking it refuses a testbed another run holds;
/// a stale lease is reported and taken over only with `force`, or without it when its holder was a
/// process of this controller that provably no longer runs (killed with -9, say).
///
/// `hosts` should be connections of the lease's own: the run's sessions may be busy for the
/// length of a traffic run, longer than a renewal may wait.
public final class TestbedLease: @unchecked Sendable {
    public let holder: LeaseHolder
    private let hosts: [HostRole: RemoteHost]
    private let lock = NSCondition()
    private var stopped = false
    private var lostError: LeaseError?
    private var renewer: Thread?

    private init(holder: LeaseHolder, hosts: [HostRole: RemoteHost]) {
        self.holder = holder
        self.hosts = hosts
    }

    /// Who we are: this process on this controller, holding for `run`.
    public static func holder(run: String) -> LeaseHolder {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        let boot = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
        var generator = SystemRandomNumberGenerator()
        return LeaseHolder(run: run, controller: LeaseHolder.sanitized(String(cString: name)), pid: getpid(),
                           pidStart: startTime(of: getpid()) ?? 0, boot: LeaseHolder.sanitized(boot),
                           token: String(format: "%016llx", generator.next() as UInt64))
    }

    /// Field 22 of /proc/<pid>/stat (after the parenthesised name, which may hold spaces).
    static func startTime(of pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state): field 22 is fields[19].
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    /// Whether `pid` runs here now as the same process (same start time), not a zombie.
    static func isAlive(_ pid: Int32, start: UInt64) -> Bool {
        guard LocalTestbed.isAlive(pid) else { return false }
        return startTime(of: pid) == start
    }

    /// Takes the lease on every host, or none: on any refusal the hosts already taken are released.
    /// `log` is told of each lease taken over.
    public static func acquire(hosts: [HostRole: RemoteHost], holder: LeaseHolder, force: Bool,
                               log: @escaping @Sendable (String) -> Void = { _ in }) throws -> TestbedLease {
        let lease = TestbedLease(holder: holder, hosts: hosts)
        let roles = HostRole.allCases.filter { hosts[$0] != nil }
        let results = onEachHost(roles) { role in try lease.take(role, force: force, log: log) }
        if let failure = results.compactMap({ result -> Error? in if case .failure(let e) = result { return e }; return nil }).first {
            lease.release()
            throw failure
        }
        return lease
    }

    private func take(_ role: HostRole, force: Bool, log: @Sendable (String) -> Void) throws {
        let host = hosts[role]!
        let first = try run(role, host, LeaseCommands.command(.acquire, holder: holder))
        guard first.status == LeaseCommands.heldStatus else { return }
        guard let output = LeaseCommands.parse(first.stdout) else { throw LeaseError.failed(host: role, detail: "unreadable answer: \(first.stdout)") }
        let expected: String
        if let record = output.found {
            let me = holder
            switch LeasePolicy.judge(record, hostNow: output.hostNow, controller: me.controller, boot: me.boot,
                                     alive: { Self.isAlive($0, start: $1) }) {
            case .busy(let age):
                throw LeaseError.busy(host: role, record: record, age: age)
            case .stale(let age):
                guard force else { throw LeaseError.stale(host: role, record: record, age: age, damaged: nil) }
                log("\(role): taking over a stale lease (--force): \(LeaseError.holder(record)), not renewed for \(age) s")
            case .holderGone(let reason):
                log("\(role): taking over the lease of \(LeaseError.holder(record)): \(reason)")
            }
            expected = record.holder.token
        } else {
            guard force else { throw LeaseError.stale(host: role, record: nil, age: 0, damaged: output.damaged) }
            log("\(role): replacing an unreadable lease (--force): \(output.damaged ?? "")")
            expected = "*"
        }
        let second = try run(role, host, LeaseCommands.command(.takeOver, holder: holder, expected: expected))
        if second.status == LeaseCommands.heldStatus, let record = LeaseCommands.parse(second.stdout)?.found {
            throw LeaseError.busy(host: role, record: record, age: 0)  // someone else was faster
        }
    }

    private func run(_ role: HostRole, _ host: RemoteHost, _ operation: HostOperation) throws -> CommandResult {
        let result = try host.perform(operation)
        guard result.succeeded || result.status == LeaseCommands.heldStatus || result.status == LeaseCommands.lostStatus else {
            let detail = result.status == LeaseCommands.lockBusyStatus ? "its lease lock stayed taken for 10 s"
                : "the lease script exited \(result.status)\(result.stderrTail.isEmpty ? "" : ": " + result.stderrTail)"
            throw LeaseError.failed(host: role, detail: detail)
        }
        return result
    }

    // MARK: Renewal

    /// Renews on every host now; a lease that is no longer ours is recorded in `lost`. A host that
    /// cannot be reached is left to the run's own checks (its lease goes stale if it stays away).
    public func renew() {
        let results = onEachHost(Array(hosts.keys)) { role -> LeaseError? in
            let result = try self.run(role, self.hosts[role]!, LeaseCommands.command(.renew, holder: self.holder))
            guard result.status == LeaseCommands.lostStatus else { return nil }
            return .lost(host: role, record: LeaseCommands.parse(result.stdout)?.found)
        }
        if let lost = results.compactMap({ try? $0.get() }).compactMap({ $0 }).first {
            lock.lock()
            if lostError == nil { lostError = lost }
            lock.unlock()
        }
    }

    /// Starts renewing every `LeasePolicy.renewSeconds` on a thread of its own until `release`.
    public func startRenewing(every seconds: Double = Double(LeasePolicy.renewSeconds)) {
        let thread = Thread { [weak self] in
            while let self, self.waitForNextRenewal(seconds) { self.renew() }
        }
        thread.name = "wgbench lease"
        renewer = thread
        thread.start()
    }

    /// Sleeps up to `seconds`; false once the lease is released.
    private func waitForNextRenewal(_ seconds: Double) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let until = Date().addingTimeInterval(seconds)
        while !stopped && Date() < until { _ = lock.wait(until: until) }
        return !stopped
    }

    /// The lease was taken from us (checked between repetitions).
    public var lost: LeaseError? {
        lock.lock()
        defer { lock.unlock() }
        return lostError
    }

    /// Stops renewing and removes our lease from every host that still has it.
    public func release() {
        lock.lock()
        stopped = true
        lock.broadcast()
        lock.unlock()
        _ = onEachHost(Array(hosts.keys)) { role in _ = try self.hosts[role]!.perform(LeaseCommands.command(.release, holder: self.holder)) }
    }
}
