import ArgumentParser
import Testing
import WGBenchCore
@testable import WireGuardSwiftCLI

/// The harness's knob descriptors and the daemon's flags agree: every wireguard-swift knob the
/// harness turns into a daemon option is one the daemon takes, with the same values and bounds.
struct KnobFlagTests {
    /// The daemon's words for a value of `knob`, as the descriptor's application makes them.
    static func words(_ knob: Knob, _ value: String) -> [String] {
        switch knob.application(for: .wireguardSwift) {
        case .daemonOption(let option): return [option, value]
        case .daemonSwitch(let option, let when): return value == (when ? "1" : "0") ? [option] : []
        case .daemonCPUs(let option, let firstOnly): return [option, firstOnly ? "1" : value]
        case .sysfs, .cryptoMask, .taskset, .program, .logLevel: return []
        }
    }

    static var daemonKnobs: [Knob] { TargetKind.wireguardSwift.knobs.filter { !words($0, "1").isEmpty || !words($0, "0").isEmpty } }

    @Test func theHarnessGivesTheDaemonSomeOptions() {
        #expect(Set(Self.daemonKnobs) == [.engine, .offload, .encryptCPUs, .decryptCPUs, .serialCPUs, .inlineCPUs, .smallBatch])
    }

    @Test(arguments: daemonKnobs)
    func everyValueTheHarnessAcceptsTheDaemonTakes(_ knob: Knob) throws {
        let values: [String]
        switch knob.kind {
        case .flag: values = ["0", "1"]
        case .choice(let options): values = options
        case .integer(let range): values = [String(range.lowerBound), String(range.upperBound)]
        case .cpus: values = ["0-3"]
        case .program: values = []
        }
        for value in values {
            _ = try knob.parse(value)  // the harness takes it
            let argv = Self.words(knob, value) + ["wg0"]
            #expect(throws: Never.self, "\(argv)") { try Options.parse(argv) }
        }
        // And where the harness stops, the daemon stops too.
        if case .integer(let range) = knob.kind {
            #expect(throws: (any Error).self) { try Options.parse(Self.words(knob, String(range.upperBound + 1)) + ["wg0"]) }
        }
        if case .choice = knob.kind {
            #expect(throws: (any Error).self) { try Options.parse(Self.words(knob, "no-such-value") + ["wg0"]) }
        }
    }
}
