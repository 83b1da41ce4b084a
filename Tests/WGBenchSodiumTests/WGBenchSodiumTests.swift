import Foundation
import Testing
import WGBenchSodium

struct WGBenchSodiumTests {
    /// RFC 7748 section 6.1: Alice's private key and public key.
    @Test func publicKeyMatchesRFC7748() {
        let privateKey = Data(hex: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a").base64EncodedString()
        let expected = Data(hex: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a").base64EncodedString()
        #expect(TunnelKeyPair.publicKey(ofPrivateKey: privateKey) == expected)
        #expect(TunnelKeyPair.publicKey(ofPrivateKey: "dG9vIHNob3J0") == nil)
    }

    @Test func generatedPairsAreClampedWgKeys() throws {
        let a = TunnelKeyPair.generate(), b = TunnelKeyPair.generate()
        #expect(a != b)
        let bytes = try #require(Data(base64Encoded: a.privateKey))
        #expect(bytes.count == 32 && a.privateKey.count == 44 && a.publicKey.count == 44)
        #expect(bytes[0] & 7 == 0 && bytes[31] & 128 == 0 && bytes[31] & 64 == 64)
        #expect(TunnelKeyPair.publicKey(ofPrivateKey: a.privateKey) == a.publicKey)
    }

    /// FIPS 180-2 test vectors, as `sha256sum` prints them.
    @Test func sha256HexMatchesTheStandardVectors() {
        #expect(SHA256Digest.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256Digest.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}

extension Data {
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self.init(bytes)
    }
}
