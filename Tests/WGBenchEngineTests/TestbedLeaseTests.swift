import Foundation
import Glibc
import Testing
import WGBenchCore
import WGBenchRemote
@testable import WGBenchEngine
import WGBenchSimulation

/// The testbed lease against the simulated hosts, which keep the lease file's line as a host does.
struct TestbedLeaseTests {
    static func other(controller: String = "elsewhere", pid: Int32 = 99, start: UInt64 = 1, token: String = "feedfeedfeedfeed") -> LeaseHolder {
        LeaseHolder(run: "other-run", controller: controller, pid: pid, pidStart: start, boot: "other-boot", token: token)
    }

    @Test func aFreeTestbedIsLeasedOnEveryHostAndReleased() throws {
        let lab = SimulatedTestbed()
        let me = TestbedLease.holder(run: "mine")
        let lease = try TestbedLease.acquire(hosts: lab.remoteHosts, holder: me, force: false)
        for role in HostRole.allCases { #expect(lab.lease(role)?.hasPrefix(me.line + " renewed=") == true) }
        lease.renew()
        #expect(lease.lost == nil)
        lease.release()
        for role in HostRole.allCases { #expect(lab.lease(role) == nil) }
    }

    @Test func aSecondRunIsRefusedNamingTheHolderAndTakesNothing() throws {
        let lab = SimulatedTestbed()
        let first = try TestbedLease.acquire(hosts: lab.remoteHosts, holder: Self.other(), force: false)
        lab.setLease(.drain, nil)  // even where a host is free, a refusal leaves nothing behind
        #expect {
            _ = try TestbedLease.acquire(hosts: lab.remoteHosts, holder: TestbedLease.holder(run: "mine"), force: true)
        } throws: { error in
            guard case .busy(_, let record, let age) = error as? LeaseError else { return false }
            return record.holder.run == "other-run" && age == 0
                && "\(error)".contains("leased to run other-run of process 99 on controller elsewhere, renewed 0 s ago")
        }
        #expect(lab.lease(.drain) == nil)
        #expect(lab.lease(.gw1)?.contains("run=other-run") == true)
        _ = first
    }

    @Test func aStaleLeaseIsReportedAndTakenOverOnlyWithForce() throws {
        let lab = SimulatedTestbed()
        _ = try TestbedLease.acquire(hosts: lab.remoteHosts, holder: Self.other(), force: false)
        lab.leaseClock += LeasePolicy.staleSeconds + 1
        #expect {
            _ = try TestbedLease.acquire(hosts: lab.remoteHosts, holder: TestbedLease.holder(run: "mine"), force: false)
        } throws: { error in
            guard case .stale = error as? LeaseError else { return false }
            return "\(error)".contains("not renewed for 61 s") && "\(error)".contains("--force")
        }
        let notes = Notes()
        let mine = try TestbedLease.acquire(hosts: lab.remoteHosts, holder: TestbedLease.holder(run: "mine"), force: true, log: notes.add)
        #expect(lab.lease(.gw2)?.contains("run=mine") == true)
        #expect(notes.lines.count == 4 && notes.lines.allSatisfy { $0.contains("taking over a stale lease (--force): run other-run") })
        mine.release()
    }

    /// kill -9 of a run on this controller leaves its lease; its process is provably gone, so the next
    /// run takes the testbed over without --force, and says so.
    @Test func theLeaseOfADeadProcessOfThisControllerIsTakenOver() throws {
        let lab = SimulatedTestbed()
        let me = TestbedLease.holder(run: "mine")
        var dead = me
        dead.run = "killed-run"
        dead.pidStart = me.pidStart + 1  // our pid, but another process's start: not us
        dead.token = "0123456789abcdef"
        for role in HostRole.allCases { lab.setLease(role, dead.line + " renewed=\(lab.leaseClock)") }
        let notes = Notes()
        let lease = try TestbedLease.acquire(hosts: lab.remoteHosts, holder: me, force: false, log: notes.add)
        #expect(notes.lines.first?.contains("taking over the lease of run killed-run") == true)
        #expect(notes.lines.first?.contains("no longer runs") == true)
        lease.release()
    }

    @Test func aLeaseTakenOverWhileRunningIsLostAndTheRunStopsWithoutTouchingTheTestbed() throws {
        let lab = recordedLab()
        let lease = try TestbedLease.acquire(hosts: lab.remoteHosts, holder: TestbedLease.holder(run: "mine"), force: false)
        let runner = try RunResilienceTests.runner(try RunResilienceTests.spec(), lab: lab) { line in
            if line.hasPrefix("[1/4]") {
                lab.setLease(.gw1, TestbedLeaseTests.other().line + " renewed=1")  // another controller forced it
                lease.renew()
            }
        }
        runner.lease = lease
        let report = try runner.run()
        guard case .leaseLost(let error) = report.stop else { Issue.record("\(String(describing: report.stop))"); return }
        #expect("\(error)".contains("the testbed lease on gw1 was taken over by run other-run"))
        #expect(report.executed == 1 && ExitStatus.of(report) == .busy)
        // The other run's testbed was not torn down.
        #expect(!lab.commands(.gw1).contains { $0.hasPrefix("sh -c 'ip link del") })
        lease.release()
        #expect(lab.lease(.gw1)?.contains("run=other-run") == true)  // release leaves another's lease alone
    }

    @Test func aLiveProcessIsAliveAndAReusedPidIsNot() {
        let start = TestbedLease.startTime(of: getpid())
        #expect(start != nil)
        #expect(TestbedLease.isAlive(getpid(), start: start!))
        #expect(!TestbedLease.isAlive(getpid(), start: start! + 1))
        #expect(!TestbedLease.isAlive(999_999_9, start: 1))
    }
}

final class Notes: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return stored }
    @Sendable func add(_ line: String) { lock.lock(); stored.append(line); lock.unlock() }
}
