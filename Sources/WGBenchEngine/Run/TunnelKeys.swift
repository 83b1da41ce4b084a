import Foundation
import WireGuardCrypto

/// The key pairs of one tunnel, made by the controller. Private keys live only in memory here
/// and reach the gateways on `wg setconf`'s standard input.
struct TunnelKeys: Sendable {
    let gw1Private: String, gw1Public: String
    let gw2Private: String, gw2Public: String

    static func generate() -> TunnelKeys {
        let a = Curve25519.generatePrivateKey(), b = Curve25519.generatePrivateKey()
        let encode = { (bytes: [UInt8]) in Data(bytes).base64EncodedString() }
        return TunnelKeys(gw1Private: encode(a), gw1Public: encode(Curve25519.publicKey(privateKey: a)),
                          gw2Private: encode(b), gw2Public: encode(Curve25519.publicKey(privateKey: b)))
    }
}
