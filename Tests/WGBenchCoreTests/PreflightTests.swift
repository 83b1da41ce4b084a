import Testing
@testable import WGBenchCore

/// The quiet-machine check's parser, on output recorded from this machine and on a noisy host.
struct PreflightTests {
    @Test func thisMachinesRecordedReadings() throws {
        let report = PreflightCommands.parse(try Fixture.text("preflight-this-machine.txt"), host: "gw1", spec: PreflightSpec())
        #expect(report.governors.isEmpty && report.turbo == nil)  // a virtual machine: no cpufreq
        #expect(report.idleStates == ["haltpoll idle"] && !report.irqbalance)
        // 199 busy jiffies of 202 in the second: 98.5% (pip and qemu were running).
        #expect(abs((report.busyPercent ?? 0) - 98.515) < 0.01)
        #expect(report.warnings.contains { $0.contains("idle states enabled: haltpoll idle") })
        #expect(report.warnings.contains { $0.hasPrefix("99% busy before the run") && $0.contains("pip") })
        #expect(report.busiest.first == "88.8 pip")
    }

    @Test func aNoisyHostGetsEveryWarningAndAQuietOneNone() {
        let noisy = """
        @governor
        powersave
        powersave
        performance
        @no_turbo
        0
        @boost
        @idle
        POLL 0
        C1 0
        C6 1
        @irqbalance
        running
        @stat
        cpu  100 0 100 800 0 0 0 0 0 0
        cpu  100 0 100 1000 0 0 0 0 0 0
        @busiest
        """
        let report = PreflightCommands.parse(noisy, host: "gw2", spec: PreflightSpec())
        #expect(report.governors == ["powersave": 2, "performance": 1] && report.turbo == true && report.idleStates == ["C1"])
        #expect(report.busyPercent == 0)
        #expect(report.warnings.count == 4, "\(report.warnings)")
        let quiet = noisy.replacingOccurrences(of: "powersave", with: "performance").replacingOccurrences(of: "@no_turbo\n0", with: "@no_turbo\n1")
            .replacingOccurrences(of: "C1 0", with: "C1 1").replacingOccurrences(of: "running", with: "stopped")
        #expect(PreflightCommands.parse(quiet, host: "gw2", spec: PreflightSpec()).warnings == [])
    }

    @Test func thePreflightSectionIsDecoded() throws {
        let spec = try ExperimentLoader.parse(yaml: "name: x\npreflight: {hosts: [gw2], busy_percent: 5, strict: true}\nseries: [{name: p, target: plain}]",
                                              file: "x.yaml")
        #expect(spec.preflight == PreflightSpec(hosts: [.gw2], busyPercent: 5, strict: true))
        #expect(try ExperimentLoader.parse(yaml: "name: x\nseries: [{name: p, target: plain}]", file: "x.yaml").preflight == nil)
        #expect(throws: SpecError.self) {
            try ExperimentLoader.parse(yaml: "name: x\npreflight: {quiet: yes}\nseries: [{name: p, target: plain}]", file: "x.yaml")
        }
    }
}
