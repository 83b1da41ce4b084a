import Testing
@testable import WGBenchCore

/// The lease rules as a table of numbered cases, and the lease line's format.
struct LeaseTests {
    static let holder = LeaseHolder(run: "smoke-2026", controller: "lab-ctl", pid: 4242, pidStart: 777, boot: "b00t", token: "00aa11bb22cc33dd")

    static func record(controller: String = "lab-ctl", boot: String = "b00t", renewed: Int = 1000) -> LeaseRecord {
        var holder = Self.holder
        holder.controller = controller
        holder.boot = boot
        return LeaseRecord(holder: holder, renewed: renewed)
    }

    /// (case, record, host now, holder process alive here, verdict)
    static let cases: [(Int, LeaseRecord, Int, Bool, LeaseVerdict)] = [
        (1, record(), 1005, true, .busy(age: 5)),                                      // renewed 5 s ago, holder runs
        (2, record(), 1060, true, .busy(age: 60)),                                     // at the limit: still busy
        (3, record(), 1061, true, .stale(age: 61)),                                    // alive but not renewing: --force
        (4, record(), 1005, false, .holderGone(reason: "its process 4242 on this controller no longer runs")),  // kill -9
        (5, record(boot: "old"), 1005, true, .holderGone(reason: "this controller has rebooted since (boot id old)")),
        (6, record(controller: "other-ctl"), 1005, false, .busy(age: 5)),             // another controller: its pids mean nothing here
        (7, record(controller: "other-ctl"), 2000, false, .stale(age: 1000)),
        (8, record(controller: "other-ctl", boot: "old"), 1005, false, .busy(age: 5)),
        (9, record(), 900, true, .busy(age: 0)),                                       // the host's clock went back
    ]

    @Test(arguments: cases.map(\.0))
    func verdict(_ number: Int) {
        let (_, record, now, alive, expected) = Self.cases[number - 1]
        #expect(LeasePolicy.judge(record, hostNow: now, controller: "lab-ctl", boot: "b00t", alive: { _, _ in alive }) == expected)
    }

    @Test func aLeaseLineRoundTripsAndAnythingElseIsDamaged() {
        let line = Self.holder.line + " renewed=1234"
        #expect(LeaseRecord.parse(line) == LeaseRecord(holder: Self.holder, renewed: 1234))
        #expect(LeaseRecord.parse(line.replacingOccurrences(of: "run=smoke-2026", with: "run=$(reboot)")) == nil)
        #expect(LeaseRecord.parse("wgbench-lease 1 run=x") == nil)
        let output = LeaseCommands.parse("held 1300\n\(line)\n")
        #expect(output?.hostNow == 1300 && output?.found?.holder.pid == 4242)
        #expect(LeaseCommands.parse("held 1300\ngarbage\n")?.damaged == "garbage")
        #expect(LeaseCommands.parse("free 1300\n") == LeaseCommands.Output(hostNow: 1300, found: nil, damaged: nil))
    }

    @Test func hostNamesAreReducedToSafeCharacters() {
        #expect(LeaseHolder.sanitized("lab ctl;rm") == "lab_ctl_rm")
        #expect(LeaseHolder.isSafeField(LeaseHolder.sanitized("x y$(z)")))
    }
}
