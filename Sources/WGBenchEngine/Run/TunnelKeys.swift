import Foundation
import WGBenchSodium

/// The key pairs of one tunnel, made by the controller. Private keys live only in memory here
/// and reach the gateways on `wg setconf`'s standard input.
struct TunnelKeys: Sendable {
    let gw1Private: String, gw1Public: String
    let gw2Private: String, gw2Public: String

    static func generate() -> TunnelKeys {
        let a = TunnelKeyPair.generate(), b = TunnelKeyPair.generate()
        return TunnelKeys(gw1Private: a.privateKey, gw1Public: a.publicKey, gw2Private: b.privateKey, gw2Public: b.publicKey)
    }
}
