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

    /// The handshake's AEAD: the key (a secret) and the additional data (the handshake hash, a
    /// secret too) read where they lie; seals `buffer[range]` in place, the tag right after it.
    public static func seal(key: Secret, counter: UInt64, buffer: inout [UInt8], range: Range<Int>, additionalData: Secret) {
        precondition(key.count == keyLength)
        let nonce = nonce(counter)
        key.withUnsafeBytes { key in
            additionalData.withUnsafeBytes { seal(key: key, nonce: nonce, buffer: &buffer, range: range, additionalData: $0, extended: false) }
        }
    }

    /// Opens `buffer[range]` in place with the tag after it; false when it does not authenticate.
    public static func open(key: Secret, counter: UInt64, buffer: inout [UInt8], range: Range<Int>, additionalData: Secret) -> Bool {
        guard key.count == keyLength else { return false }
        let nonce = nonce(counter)
        return key.withUnsafeBytes { key in
            additionalData.withUnsafeBytes { open(key: key, nonce: nonce, buffer: &buffer, range: range, additionalData: $0, extended: false) }
        }
    }

    private static func seal(key: [UInt8], nonce: [UInt8], buffer: inout [UInt8], range: Range<Int>,
                             additionalData: [UInt8], extended: Bool) {
        precondition(key.count == keyLength)
        key.withUnsafeBytes { key in
            additionalData.withUnsafeBytes { seal(key: key, nonce: nonce, buffer: &buffer, range: range, additionalData: $0, extended: extended) }
        }
    }

    private static func open(key: [UInt8], nonce: [UInt8], buffer: inout [UInt8], range: Range<Int>,
                             additionalData: [UInt8], extended: Bool) -> Bool {
        guard key.count == keyLength else { return false }
        return key.withUnsafeBytes { key in
            additionalData.withUnsafeBytes { open(key: key, nonce: nonce, buffer: &buffer, range: range, additionalData: $0, extended: extended) }
        }
    }

    private static func seal(key: UnsafeRawBufferPointer, nonce: [UInt8], buffer: inout [UInt8], range: Range<Int>,
                             additionalData: UnsafeRawBufferPointer, extended: Bool) {
        precondition(key.count == keyLength && buffer.count >= range.upperBound + tagLength)
        _ = sodium_init()
        let key = key.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let ad = additionalData.baseAddress?.assumingMemoryBound(to: UInt8.self), adLength = UInt64(additionalData.count)
        buffer.withUnsafeMutableBufferPointer { raw in
            let message = raw.baseAddress! + range.lowerBound
            let tag = raw.baseAddress! + range.upperBound
            var tagLength: UInt64 = 0
            let length = UInt64(range.count)
            if extended {
                _ = crypto_aead_xchacha20poly1305_ietf_encrypt_detached(message, tag, &tagLength, message, length, ad, adLength, nil, nonce, key)
            } else {
                _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(message, tag, &tagLength, message, length, ad, adLength, nil, nonce, key)
            }
        }
    }

    private static func open(key: UnsafeRawBufferPointer, nonce: [UInt8], buffer: inout [UInt8], range: Range<Int>,
                             additionalData: UnsafeRawBufferPointer, extended: Bool) -> Bool {
        guard key.count == keyLength, buffer.count >= range.upperBound + tagLength else { return false }
        _ = sodium_init()
        let key = key.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let ad = additionalData.baseAddress?.assumingMemoryBound(to: UInt8.self), adLength = UInt64(additionalData.count)
        return buffer.withUnsafeMutableBufferPointer { raw in
            let message = raw.baseAddress! + range.lowerBound
            let tag = raw.baseAddress! + range.upperBound
            let length = UInt64(range.count)
            let rc = extended
                ? crypto_aead_xchacha20poly1305_ietf_decrypt_detached(message, nil, message, length, tag, ad, adLength, nonce, key)
                : crypto_aead_chacha20poly1305_ietf_decrypt_detached(message, nil, message, length, tag, ad, adLength, nonce, key)
            return rc == 0
        }
    }
}
