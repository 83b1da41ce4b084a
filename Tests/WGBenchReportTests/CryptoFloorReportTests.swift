import Testing
import WGBenchCore
@testable import WGBenchReport

/// The summary names the machine each crypto floor was measured on, and says where none was.
struct CryptoFloorReportTests {
    static let gw1 = CPUCostContext.Floor(host: "lab-a", roles: ["gw1"], tool: "OpenSSL 3.0.19", packetBytes: 1420,
                                          sealSecondsPerGB: 0.47, openSecondsPerGB: 0.48)

    @Test func eachFloorIsLabelledWithItsHost() {
        let gw2 = CPUCostContext.Floor(host: "lab-b", roles: ["gw2"], packetBytes: 1420, sealSecondsPerGB: 1.0, openSecondsPerGB: 1.1)
        let html = HTMLReport.summaryTable([], sweep: [], cost: CPUCostContext(floors: [Self.gw1, gw2], gatewaysShareMachine: false))
        #expect(html.contains("Crypto-only floor, measured on gw1 (lab-a) in this run: 0.95 CPU-s/GB"))
        #expect(html.contains("Crypto-only floor, measured on gw2 (lab-b) in this run: 2.10 CPU-s/GB"))
        #expect(html.contains("x floor is gw1's sealing plus gw2's opening"))
    }

    @Test func aMissingFloorSaysWhy() {
        let missing = CPUCostContext.UnavailableFloor(host: "lab-b", roles: ["gw2"], reason: "openssl is not installed (not on PATH)")
        let html = HTMLReport.summaryTable([], sweep: [], cost: CPUCostContext(floors: [Self.gw1], unavailableFloors: [missing],
                                                                                gatewaysShareMachine: false))
        #expect(html.contains("No crypto floor for gw2 (lab-b): openssl is not installed (not on PATH)"))
        #expect(!html.contains("x floor is"))
    }
}
