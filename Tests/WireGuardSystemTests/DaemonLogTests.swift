import Foundation
import Glibc
import Testing
import WireGuardSystem

/// The daemon's log lines keep wireguard-go's shape, with the time in local time as a
/// DateFormatter would write it, made without one.
struct DaemonLogTests {
    @Test(arguments: [0, 1_700_000_000, 1_709_208_000, 2_000_000_000] as [time_t])
    func theTimestampIsWhatADateFormatterWrites(_ seconds: time_t) {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy/MM/dd HH:mm:ss"
        #expect(DaemonLog.timestamp(seconds) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
    }

    @Test func aLineAsWireGuardGoWritesIt() {
        let line = DaemonLog.line(level: "DEBUG", interface: "wg0", "peer(abcd…wxyz) - Sending handshake initiation", at: 1_700_000_000)
        #expect(line == "DEBUG: (wg0) \(DaemonLog.timestamp(1_700_000_000)) peer(abcd…wxyz) - Sending handshake initiation\n")
    }
}
