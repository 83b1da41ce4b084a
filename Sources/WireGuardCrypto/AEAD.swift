import CSodium

/// ChaCha20-Poly1305 (RFC 8439) and XChaCha20-Poly1305 through libsodium, in place in the
/// caller's buffer: the datapath seals and opens packets where they lie, with no copy and no
/// allocation. The only file that hands pointers to libsodium's AEAD functions.
public enum AEAD {
    public static let keyLength = 32
    public static let tagLength = 16

    /// WireGuard's 96-bit nonce: 32 zero bits, then the 64-bit counter, little-endian.
    static func nonce(_ counter: UInt64) -> [UInt8] {
        [0, 0, 0, 0] + (0..<8).map { UInt8(truncatingIfNeeded: counter >> (8 * UInt64($0))) }
    }

    /// Encrypts `buffer[range]` in place and writes the tag right after it (the buffer must hold
    /// `range.upperBound + 16` bytes).
    public static func seal(key: [UInt8], counter: UInt64, buffer: inout [UInt8], range: Range<Int>, additionalData: [UInt8] = []) {
        seal(key: key, nonce: nonce(counter), buffer: &buffer, range: range, additionalData: additionalData, extended: false)
    }

    /// Verifies the 16-byte tag after `buffer[range]` and decrypts in place. False when the tag does
    /// not match; libsodium then clears `buffer[range]`, so a packet that fails is only good for dropping.
    public static func open(key: [UInt8], counter: UInt64, buffer: inout [UInt8], range: Range<Int>, additionalData: [UInt8] = []) -> Bool {
        open(key: key, nonce: nonce(counter), buffer: &buffer, range: range, additionalData: additionalData, extended: false)
    }

    /// Encrypts `length` bytes at `message` in place with WireGuard's counter nonce and writes the
    /// 16-byte tag right after them. The datapath's call: no allocation, the nonce on the stack.
    public static func seal(key: UnsafeRawPointer, counter: UInt64, message: UnsafeMutableRawPointer, length: Int) {
        withCounterNonce(counter) { nonce in
            var tagLength: UInt64 = 0
            let bytes = message.assumingMemoryBound(to: UInt8.self)
            _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(bytes, bytes + length, &tagLength, bytes, UInt64(length), nil, 0, nil,
                                                                   nonce, key.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Verifies the tag after `length` bytes at `message` and decrypts them in place; false (and the
    /// bytes cleared) when it does not match.
    public static func open(key: UnsafeRawPointer, counter: UInt64, message: UnsafeMutableRawPointer, length: Int) -> Bool {
        withCounterNonce(counter) { nonce in
            let bytes = message.assumingMemoryBound(to: UInt8.self)
            return crypto_aead_chacha20poly1305_ietf_decrypt_detached(bytes, nil, bytes, UInt64(length), bytes + length, nil, 0,
                                                                      nonce, key.assumingMemoryBound(to: UInt8.self)) == 0
        }
    }

    private static func withCounterNonce<T>(_ counter: UInt64, _ body: (UnsafePointer<UInt8>) -> T) -> T {
        var nonce: (UInt64, UInt64) = (0, 0)
        return withUnsafeMutableBytes(of: &nonce) { raw in
            raw.storeBytes(of: counter.littleEndian, toByteOffset: 4, as: UInt64.self)
            return body(raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// libsodium's one-time set-up; the datapath calls it before its first packet.
    public static func prepare() { _ = sodium_init() }

    /// With an explicit 12-byte nonce (test vectors).
    static func sealWithNonce(key: [UInt8], nonce: [UInt8], buffer: inout [UInt8], range: Range<Int>, additionalData: [UInt8]) {
        seal(key: key, nonce: nonce, buffer: &buffer, range: range, additionalData: additionalData, extended: false)
    }

    /// XChaCha20-Poly1305 with a 24-byte nonce (cookie replies).
    public static func sealExtended(key: [UInt8], nonce: [UInt8], plaintext: [UInt8], additionalData: [UInt8]) -> [UInt8] {
        var buffer = plaintext + [UInt8](repeating: 0, count: tagLength)
        seal(key: key, nonce: nonce, buffer: &buffer, range: 0..<plaintext.count, additionalData: additionalData, extended: true)
        return buffer
    }

    public static func openExtended(key: [UInt8], nonce: [UInt8], ciphertext: [UInt8], additionalData: [UInt8]) -> [UInt8]? {
        guard ciphertext.count >= tagLength else { return nil }
        var buffer = ciphertext
        guard open(key: key, nonce: nonce, buffer: &buffer, range: 0..<ciphertext.count - tagLength,
                   additionalData: additionalData, extended: true) else { return nil }
        return Array(buffer.prefix(ciphertext.count - tagLength))
    }

    private static func seal(key: [UInt8], nonce: [UInt8], buffer: inout [UInt8], range: Range<Int>,
                             additionalData: [UInt8], extended: Bool) {
        precondition(key.count == keyLength && buffer.count >= range.upperBound + tagLength)
        _ = sodium_init()
        buffer.withUnsafeMutableBufferPointer { raw in
            let message = raw.baseAddress! + range.lowerBound
            let tag = raw.baseAddress! + range.upperBound
            var tagLength: UInt64 = 0
            let length = UInt64(range.count)
            if extended {
                _ = crypto_aead_xchacha20poly1305_ietf_encrypt_detached(message, tag, &tagLength, message, length, additionalData,
                                                                        UInt64(additionalData.count), nil, nonce, key)
            } else {
                _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(message, tag, &tagLength, message, length, additionalData,
                                                                       UInt64(additionalData.count), nil, nonce, key)
            }
        }
    }

    private static func open(key: [UInt8], nonce: [UInt8], buffer: inout [UInt8], range: Range<Int>,
                             additionalData: [UInt8], extended: Bool) -> Bool {
        guard key.count == keyLength, buffer.count >= range.upperBound + tagLength else { return false }
        _ = sodium_init()
        return buffer.withUnsafeMutableBufferPointer { raw in
            let message = raw.baseAddress! + range.lowerBound
            let tag = raw.baseAddress! + range.upperBound
            let length = UInt64(range.count)
            let rc = extended
                ? crypto_aead_xchacha20poly1305_ietf_decrypt_detached(message, nil, message, length, tag, additionalData,
                                                                      UInt64(additionalData.count), nonce, key)
                : crypto_aead_chacha20poly1305_ietf_decrypt_detached(message, nil, message, length, tag, additionalData,
                                                                     UInt64(additionalData.count), nonce, key)
            return rc == 0
        }
    }
}
