import Foundation
import Testing
@testable import WGBenchCore

/// The crypto floor measured on a gateway, read from `openssl speed -mr` as this machine printed it.
struct CryptoFloorTests {
    @Test func theScriptRunsOpenSSLSpeedTwice() {
        let command = CryptoFloorCommands.measure(packetBytes: 1420, seconds: 1)
        #expect(command.argv.first == "sh" && command.argv.suffix(2) == ["1420", "1"])
        let script = command.argv[2]
        #expect(script.contains("openssl speed -mr -aead -evp chacha20-poly1305 -bytes \"$1\" -seconds \"$2\""))
        #expect(script.contains("openssl speed -mr -aead -decrypt -evp chacha20-poly1305"))
        #expect(script.contains("command -v openssl"))
    }

    @Test func recordedOutputGivesBothRates() throws {
        let outcome = CryptoFloorCommands.parse(try Fixture.text("crypto-floor-this-machine.txt"), roles: ["gw1", "gw2"], fallbackHost: "?")
        guard case .measured(let floor) = outcome else { Issue.record("not measured: \(outcome)"); return }
        #expect(floor.host == "vm" && floor.roles == ["gw1", "gw2"] && floor.packetBytes == 1420)
        #expect(floor.tool?.hasPrefix("OpenSSL 3.0.19") == true)
        // +F:25:ChaCha20-Poly1305:2101172580.00 bytes per CPU-second sealing, 2086685740.00 opening.
        #expect(abs(floor.sealSecondsPerGB - 1e9 / 2101172580.00) < 1e-12)
        #expect(abs(floor.openSecondsPerGB - 1e9 / 2086685740.00) < 1e-12)
        #expect(floor.label == "gw1 and gw2 (vm)")
        #expect(floor.output?.contains("+R:1479699:ChaCha20-Poly1305:1.000000") == true)  // the raw output is kept
    }

    @Test func noOpenSSLIsRecordedAsUnavailable() throws {
        let outcome = CryptoFloorCommands.parse(try Fixture.text("crypto-floor-no-openssl.txt"), roles: ["gw2"], fallbackHost: "gw2")
        #expect(outcome == .unavailable(.init(host: "vm", roles: ["gw2"], reason: "openssl is not installed (not on PATH)")))
    }

    @Test func aRefusedRunIsUnavailableWithOpenSSLsWords() throws {
        let outcome = CryptoFloorCommands.parse(try Fixture.text("crypto-floor-open-refused.txt"), roles: ["gw1"], fallbackHost: "gw1")
        guard case .unavailable(let missing) = outcome else { Issue.record("measured: \(outcome)"); return }
        #expect(missing.reason == "openssl speed (opening): exited 1: speed: Unknown option: -nosuch; speed: Use -help for summary.")
    }

    @Test func outputWithoutRatesIsNotAFloor() {
        for output in ["", "@host a\n@seal\n+H:1420\n@open\n+H:1420\n+F:25:x:1\n", "@seal\n+H:64\n+F:25:x:5\n@open\n+H:64\n+F:25:x:5\n",
                       "@seal\n+H:1420\n+F:25:x:0\n@open\n+H:1420\n+F:25:x:1\n"] {
            guard case .unavailable(let missing) = CryptoFloorCommands.parse(output, roles: ["gw1"], fallbackHost: "gw1") else {
                Issue.record("a floor from \(output.debugDescription)"); continue
            }
            #expect(missing.reason.hasPrefix("openssl speed (sealing)"))
        }
    }

    @Test func theTunnelFloorIsGw1SealingPlusGw2Opening() throws {
        let gw1 = CPUCostContext.Floor(host: "a", roles: ["gw1"], packetBytes: 1420, sealSecondsPerGB: 0.5, openSecondsPerGB: 0.6)
        let gw2 = CPUCostContext.Floor(host: "b", roles: ["gw2"], packetBytes: 1420, sealSecondsPerGB: 1.0, openSecondsPerGB: 1.2)
        #expect(CPUCostContext(floors: [gw1, gw2], gatewaysShareMachine: false).tunnelFloorSecondsPerGB == 0.5 + 1.2)
        let both = CPUCostContext.Floor(host: "a", roles: ["gw1", "gw2"], packetBytes: 1420, sealSecondsPerGB: 0.5, openSecondsPerGB: 0.6)
        #expect(CPUCostContext(floors: [both], gatewaysShareMachine: true).tunnelFloorSecondsPerGB == both.tunnelSecondsPerGB)
        let missing = CPUCostContext.UnavailableFloor(host: "b", roles: ["gw2"], reason: "no openssl")
        #expect(CPUCostContext(floors: [gw1], unavailableFloors: [missing], gatewaysShareMachine: false).tunnelFloorSecondsPerGB == nil)
    }

    /// Runs before the floor moved to the gateways wrote one `floor`, measured on the controller.
    @Test func anOldCostFileStillReads() throws {
        let old = #"{"floor":{"host":"laptop","packetBytes":1420,"sealSecondsPerGB":0.4,"openSecondsPerGB":0.5},"gatewaysShareMachine":true}"#
        let context = try JSONDecoder().decode(CPUCostContext.self, from: Data(old.utf8))
        #expect(context.floors.map(\.label) == ["laptop"] && context.unavailableFloors.isEmpty)
        #expect(context.tunnelFloorSecondsPerGB == 0.9)
        let new = CPUCostContext(floors: [.init(host: "a", roles: ["gw1", "gw2"], tool: "OpenSSL 3", packetBytes: 1420, sealSecondsPerGB: 1,
                                                openSecondsPerGB: 2)],
                                 unavailableFloors: [.init(host: "b", roles: ["gw2"], reason: "r")], gatewaysShareMachine: false)
        #expect(try JSONDecoder().decode(CPUCostContext.self, from: JSONEncoder().encode(new)) == new)
    }
}
