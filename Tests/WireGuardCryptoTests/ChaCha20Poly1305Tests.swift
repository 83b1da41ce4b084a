import Testing
@testable import WireGuardCrypto

/// The datapath's bulk AEAD (OpenSSL): the RFC 8439 vectors, WireGuard's counter nonce checked
/// against libsodium's (`AEAD`, the handshake's) on every length up to a few blocks and on the
/// largest messages, and tampering of each kind refused.
struct ChaCha20Poly1305Tests {
    static let key = Array(UInt8(0x80)...UInt8(0x9f))

    /// RFC 8439, section 2.8.2.
    @Test func rfc8439Section2_8_2() {
        let aead = ChaCha20Poly1305()
        let expected = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b61161ae10b594f09e26a7e902ecbd0600691"
        let nonce: [UInt8] = [7, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47]
        var buffer = AEADTests.plaintext + [UInt8](repeating: 0, count: 16)
        aead.seal(key: Self.key, nonce: nonce, buffer: &buffer, range: 0..<AEADTests.plaintext.count, additionalData: AEADTests.aad)
        #expect(hexString(buffer) == expected)
        #expect(aead.open(key: Self.key, nonce: nonce, buffer: &buffer, range: 0..<AEADTests.plaintext.count, additionalData: AEADTests.aad))
        #expect(Array(buffer.prefix(AEADTests.plaintext.count)) == AEADTests.plaintext)
    }

    /// RFC 8439, appendix A.5 (decryption). Its nonce, 00000000 0102030405060708, is WireGuard's
    /// layout: the counter form opens it too once the additional data is left out, which the
    /// vector has; so the nonce form opens the vector and the counter form is checked below.
    @Test func rfc8439AppendixA5() {
        let aead = ChaCha20Poly1305()
        let key = hex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0")
        let nonce = hex("000000000102030405060708")
        let aad = hex("f33388860000000000004e91")
        let ciphertext = hex("64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c8559797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523eaf4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a1049e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29a6ad5cb4022b02709b")
        let tag = hex("eead9d67890cbb22392336fea1851f38")
        var buffer = ciphertext + tag
        #expect(aead.open(key: key, nonce: nonce, buffer: &buffer, range: 0..<ciphertext.count, additionalData: aad))
        let text = String(decoding: buffer.prefix(ciphertext.count), as: UTF8.self)
        #expect(text.hasPrefix("Internet-Drafts are draft documents valid for a maximum of six months"))
        var tampered = ciphertext + tag
        tampered[tampered.count - 1] ^= 0x80
        #expect(!aead.open(key: key, nonce: nonce, buffer: &tampered, range: 0..<ciphertext.count, additionalData: aad))
    }

    /// The counter form gives libsodium's bytes, on every length from 0 to 300 and on messages as
    /// large as a 64 KiB super-MTU packet, and opens them again.
    @Test func counterNonceMatchesLibsodiumOnEveryLength() {
        let aead = ChaCha20Poly1305()
        for length in Array(0...300) + [1420, 8992, 34736, 65456] {
            let counter = UInt64(length) &* 0x9e37_79b9_7f4a_7c15
            let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var ours = plaintext + [UInt8](repeating: 0, count: 16)
            var theirs = ours
            ours.withUnsafeMutableBytes { raw in
                Self.key.withUnsafeBytes { aead.seal(key: $0.baseAddress!, counter: counter, message: raw.baseAddress!, length: length) }
            }
            AEAD.seal(key: Self.key, counter: counter, buffer: &theirs, range: 0..<length)
            #expect(ours == theirs, "length \(length)")
            let opened = ours.withUnsafeMutableBytes { raw in
                Self.key.withUnsafeBytes { aead.open(key: $0.baseAddress!, counter: counter, message: raw.baseAddress!, length: length) }
            }
            #expect(opened && Array(ours.prefix(length)) == plaintext, "length \(length)")
        }
    }

    /// A flipped bit anywhere (ciphertext or tag), the wrong counter or the wrong key: refused.
    @Test func tamperingIsRefused() {
        let aead = ChaCha20Poly1305()
        let length = 1424
        var sealed = [UInt8](repeating: 0x5a, count: length + 16)
        sealed.withUnsafeMutableBytes { raw in
            Self.key.withUnsafeBytes { aead.seal(key: $0.baseAddress!, counter: 9, message: raw.baseAddress!, length: length) }
        }
        func opens(_ message: [UInt8], counter: UInt64 = 9, key: [UInt8] = Self.key) -> Bool {
            var copy = message
            return copy.withUnsafeMutableBytes { raw in
                key.withUnsafeBytes { aead.open(key: $0.baseAddress!, counter: counter, message: raw.baseAddress!, length: length) }
            }
        }
        #expect(opens(sealed))
        for position in [0, 700, length - 1, length, length + 15] {
            var flipped = sealed
            flipped[position] ^= 1
            #expect(!opens(flipped), "bit flipped at \(position)")
        }
        #expect(!opens(sealed, counter: 10))
        #expect(!opens(sealed, key: [UInt8](repeating: 1, count: 32)))
        #expect(opens(sealed), "a refused message leaves the context usable")
    }
}
