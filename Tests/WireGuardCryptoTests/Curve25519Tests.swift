import Testing
@testable import WireGuardCrypto

struct Curve25519Tests {
    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    /// RFC 7748 section 6.1: Alice's and Bob's keys and their shared secret.
    @Test func rfc7748DiffieHellman() throws {
        let alicePrivate = Self.bytes("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
        let alicePublic = Self.bytes("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        let bobPrivate = Self.bytes("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
        let bobPublic = Self.bytes("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        let shared = Self.bytes("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
        #expect(Curve25519.publicKey(privateKey: alicePrivate) == alicePublic)
        #expect(Curve25519.publicKey(privateKey: bobPrivate) == bobPublic)
        #expect(Curve25519.sharedSecret(privateKey: alicePrivate, publicKey: bobPublic) == shared)
        #expect(Curve25519.sharedSecret(privateKey: bobPrivate, publicKey: alicePublic) == shared)
    }

    @Test func generatedKeysAreClampedAndDistinct() {
        let a = Curve25519.generatePrivateKey(), b = Curve25519.generatePrivateKey()
        #expect(a != b)
        for key in [a, b] {
            #expect(key[0] & 7 == 0)
            #expect(key[31] & 128 == 0 && key[31] & 64 == 64)
        }
    }

    @Test func lowOrderPointGivesNoSecret() {
        #expect(Curve25519.sharedSecret(privateKey: Curve25519.generatePrivateKey(), publicKey: [UInt8](repeating: 0, count: 32)) == nil)
    }
}
