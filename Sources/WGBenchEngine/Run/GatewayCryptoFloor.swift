import Foundation
import WGBenchCore
import WGBenchRemote

/// Measures the crypto floor on a gateway's machine (`CryptoFloorCommands`: OpenSSL there, one
/// core, about two seconds), so that "x floor" compares a gateway's cost with its own machine's
/// crypto. A gateway where it cannot be measured says why; nothing stands in for it.
enum GatewayCryptoFloor {
    static func measure(on host: RemoteHost, roles: [HostRole]) -> CryptoFloorCommands.Outcome {
        let names = roles.map(\.rawValue)
        let unavailable = { (reason: String) in CryptoFloorCommands.Outcome.unavailable(.init(host: host.name, roles: names, reason: reason)) }
        let operation = CryptoFloorCommands.measure()
        let result: CommandResult
        do { result = try host.perform(operation) } catch { return unavailable("\(error)") }
        guard result.succeeded else {
            return unavailable("the measurement exited \(result.status)" + (result.stderrTail.isEmpty ? "" : ": \(result.stderrTail)"))
        }
        return CryptoFloorCommands.parse(result.stdout, roles: names, fallbackHost: host.name)
    }
}
