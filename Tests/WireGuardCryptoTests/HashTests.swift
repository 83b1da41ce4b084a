import Testing
@testable import WireGuardCrypto

func hex(_ text: String) -> [UInt8] { Curve25519Tests.bytes(text) }
func hexString(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

import Foundation

struct BLAKE2sTests {
    /// RFC 7693, Appendix B: BLAKE2s-256("abc").
    @Test func rfc7693AppendixB() {
        #expect(hexString(BLAKE2s.hash(Array("abc".utf8))) == "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982")
    }

    /// RFC 7693, Appendix E: the self-test over digest lengths 16-32, input lengths 0-1024, keyed and
    /// unkeyed, all hashed into one digest.
    @Test func rfc7693AppendixESelfTest() {
        func sequence(_ length: Int, seed: UInt32) -> [UInt8] {
            var a = 0xDEAD_4BAD &* seed, b: UInt32 = 1
            return (0..<length).map { _ in
                let t = a &+ b
                a = b
                b = t
                return UInt8(truncatingIfNeeded: t >> 24)
            }
        }
        var result = BLAKE2s(outputLength: 32)
        for outputLength in [16, 20, 28, 32] {
            for inputLength in [0, 3, 64, 65, 255, 1024] {
                let input = sequence(inputLength, seed: UInt32(inputLength))
                result.update(BLAKE2s.hash(input, outputLength: outputLength))
                result.update(BLAKE2s.hash(input, outputLength: outputLength, key: sequence(outputLength, seed: UInt32(outputLength))))
            }
        }
        #expect(hexString(result.finalize()) == "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe")
    }

    /// Against Python's hashlib.blake2s (values computed once and kept here).
    @Test func keyedAndIncremental() {
        let key = Array(UInt8(0)..<32)
        #expect(hexString(BLAKE2s.hash([], key: key)) == "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49")
        let input = Array(UInt8(0)..<255)
        #expect(hexString(BLAKE2s.hash(input, key: key)) == "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd")
        var chunked = BLAKE2s(key: key)
        for chunk in stride(from: 0, to: 255, by: 7) { chunked.update(input[chunk..<min(chunk + 7, 255)]) }
        #expect(chunked.finalize() == BLAKE2s.hash(input, key: key))
    }
}

struct WireGuardHashTests {
    /// The protocol's initial chaining key and hash (whitepaper 5.4: HASH(CONSTRUCTION) and
    /// HASH(C || IDENTIFIER)), as wireguard-go and the kernel compute them.
    @Test func initialChainingKeyAndHash() {
        let ck = WireGuardHash.hash(Array("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s".utf8))
        #expect(hexString(ck) == "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36")
        let h = WireGuardHash.hash(ck, Array("WireGuard v1 zx2c4 Jason@zx2c4.com".utf8))
        #expect(hexString(h) == "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3")
    }

    /// HMAC-BLAKE2s and the KDF against Python's hmac with hashlib.blake2s.
    @Test func hmacAndKDF() {
        #expect(hexString(WireGuardHash.hmac(key: Array("key".utf8), Array("The quick brown fox jumps over the lazy dog".utf8)))
                == "f93215bb90d4af4c3061cd932fb169fb8bb8a91d0b4022baea1271e1323cd9a0")
        #expect(hexString(WireGuardHash.hmac(key: [UInt8](repeating: 0x78, count: 100), Array("m".utf8)))
                == "ce179515f656b80b7c3070f6cbe23b2c8c019d9088c20b7f4680a49ed466600d")
        let ck = hex("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36")
        #expect(WireGuardHash.kdf(3, key: ck, input: Array("input".utf8)).map(hexString) == [
            "b58cc55b688b51fcda705a763c82c5a1ea46dab2cfaeedc9c8f6bc0df2871ad8",
            "3064288b2ce6072476471566eabb2ab5bbbb06904ba6b0b8e0e785b713b31fc8",
            "a6e4e28580f50a3ad5f3fdcc00254bc616a28d39ecb88ff1dafb94b8ec21d8af",
        ])
        #expect(hexString(WireGuardHash.mac(key: [UInt8](repeating: 0x6b, count: 32), Array("hello".utf8))) == "1c58b50d7347bf4effbdf24df827a767")
    }
}

struct AEADTests {
    static let key = Array(UInt8(0x80)...UInt8(0x9f))
    static let aad: [UInt8] = [0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7]
    static let plaintext = Array("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".utf8)

    /// RFC 8439, section 2.8.2. Its nonce 07000000 4041424344454647 is WireGuard's layout
    /// (4 bytes, then a little-endian counter) with the counter 0x4746454443424140 and a non-zero
    /// prefix, so this calls the counter form with that prefix checked separately below.
    @Test func rfc8439ChaCha20Poly1305() {
        let expected = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b61161ae10b594f09e26a7e902ecbd0600691"
        var buffer = Self.plaintext + [UInt8](repeating: 0, count: 16)
        AEAD.sealWithNonce(key: Self.key, nonce: [7, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47], buffer: &buffer,
                           range: 0..<Self.plaintext.count, additionalData: Self.aad)
        #expect(hexString(buffer) == expected)
    }

    @Test func sealOpenInPlaceAndTamperDetection() {
        var buffer = [UInt8](repeating: 0xee, count: 4) + Self.plaintext + [UInt8](repeating: 0, count: 16)
        let range = 4..<(4 + Self.plaintext.count)
        AEAD.seal(key: Self.key, counter: 42, buffer: &buffer, range: range)
        #expect(Array(buffer[range]) != Self.plaintext)
        var tampered = buffer
        tampered[10] ^= 1
        #expect(!AEAD.open(key: Self.key, counter: 42, buffer: &tampered, range: range))
        var wrongCounter = buffer
        #expect(!AEAD.open(key: Self.key, counter: 43, buffer: &wrongCounter, range: range))
        #expect(Array(wrongCounter[range]) == [UInt8](repeating: 0, count: range.count))  // cleared, never half-trusted
        #expect(AEAD.open(key: Self.key, counter: 42, buffer: &buffer, range: range))
        #expect(Array(buffer[range]) == Self.plaintext)
        #expect(buffer.prefix(4) == [0xee, 0xee, 0xee, 0xee])
    }

    /// draft-irtf-cfrg-xchacha-03, appendix A.3.1.
    @Test func xchacha20Poly1305Draft() throws {
        let nonce = Array(UInt8(0x40)...UInt8(0x57))
        let sealed = AEAD.sealExtended(key: Self.key, nonce: nonce, plaintext: Self.plaintext, additionalData: Self.aad)
        #expect(hexString(sealed) == "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52ec0875924c1c7987947deafd8780acf49")
        #expect(AEAD.openExtended(key: Self.key, nonce: nonce, ciphertext: sealed, additionalData: Self.aad) == Self.plaintext)
        #expect(AEAD.openExtended(key: Self.key, nonce: nonce, ciphertext: sealed, additionalData: []) == nil)
    }

    @Test func tai64nOrdersAndRoundTrips() throws {
        let a = TAI64N(unixSeconds: 1_700_000_000, nanoseconds: 5), b = TAI64N(unixSeconds: 1_700_000_000, nanoseconds: 6)
        #expect(a < b)
        #expect(TAI64N(bytes: a.bytes) == a)
        #expect(a.bytes.prefix(8) == [0x40, 0, 0, 0, 0x65, 0x53, 0xf1, 0x0a])
    }
}
