import CLibCrypto

/// ChaCha20-Poly1305 (RFC 8439) for transport data, through OpenSSL 3's EVP interface: the
/// datapath's bulk AEAD. Chosen by measurement on this project's machine (one core, 1420-byte
/// packets sealed one by one with a fresh nonce each, the datapath's pattern): OpenSSL 3.0 about
/// 11.5 Gbit/s, libgcrypt 1.10 about 10.5, libsodium 1.0.18 about 7, nettle 3.8 about 3.7 (see the
/// README). libsodium keeps X25519, XChaCha20-Poly1305 and the handshake's AEAD (`AEAD`).
///
/// One value owns one EVP cipher context and is used by one thread at a time (a batch owns one);
/// it seals and opens in place in the caller's buffer, allocating nothing. `~Copyable`: the
/// context is freed exactly once, and holding one costs no reference counting. The only file that
/// hands pointers to libcrypto.
public struct ChaCha20Poly1305: ~Copyable {
    public static let keyLength = 32
    public static let tagLength = 16

    /// The algorithm, fetched from OpenSSL's default provider once for every context.
    private nonisolated(unsafe) static let cipher: OpaquePointer = {
        guard let cipher = EVP_CIPHER_fetch(nil, "ChaCha20-Poly1305", nil) else {
            fatalError("OpenSSL's default provider has no ChaCha20-Poly1305")
        }
        return cipher
    }()

    private let context: OpaquePointer

    public init() {
        guard let context = EVP_CIPHER_CTX_new(), EVP_CipherInit_ex2(context, Self.cipher, nil, nil, 1, nil) == 1 else {
            fatalError("EVP_CIPHER_CTX_new / EVP_CipherInit_ex2 for ChaCha20-Poly1305 failed")
        }
        self.context = context
    }

    deinit { EVP_CIPHER_CTX_free(context) }

    /// Encrypts `length` bytes at `message` in place with WireGuard's nonce for `counter` (32 zero
    /// bits, then the counter little-endian) and writes the 16-byte tag right after them. A nil
    /// key: the key of the previous call on this context (setting only the nonce saves about 5%).
    public func seal(key: UnsafeRawPointer?, counter: UInt64, message: UnsafeMutableRawPointer, length: Int) {
        withCounterNonce(counter) { seal(key: key, nonce: $0, additionalData: nil, 0, message: message, length: length) }
    }

    /// Verifies the tag after `length` bytes at `message` and decrypts them in place. False when it
    /// does not match: the bytes are then undefined (decrypted but unauthenticated), good only for dropping.
    public func open(key: UnsafeRawPointer?, counter: UInt64, message: UnsafeMutableRawPointer, length: Int) -> Bool {
        withCounterNonce(counter) { open(key: key, nonce: $0, additionalData: nil, 0, message: message, length: length) }
    }

    /// With an explicit 12-byte nonce and additional data (test vectors): seals `buffer[range]` in
    /// place, the tag right after it.
    public func seal(key: [UInt8], nonce: [UInt8], buffer: inout [UInt8], range: Range<Int>, additionalData: [UInt8]) {
        precondition(key.count == Self.keyLength && nonce.count == 12 && buffer.count >= range.upperBound + Self.tagLength)
        buffer.withUnsafeMutableBytes { raw in
            seal(key: key, nonce: nonce, additionalData: additionalData, additionalData.count, message: raw.baseAddress! + range.lowerBound,
                 length: range.count)
        }
    }

    public func open(key: [UInt8], nonce: [UInt8], buffer: inout [UInt8], range: Range<Int>, additionalData: [UInt8]) -> Bool {
        guard key.count == Self.keyLength, nonce.count == 12, buffer.count >= range.upperBound + Self.tagLength else { return false }
        return buffer.withUnsafeMutableBytes { raw in
            open(key: key, nonce: nonce, additionalData: additionalData, additionalData.count, message: raw.baseAddress! + range.lowerBound,
                 length: range.count)
        }
    }

    // EVP_CipherInit_ex2 (key and nonce; the Poly1305 key is derived from them), the additional
    // data as an update without output, the message in place, EVP_CipherFinal_ex, then the tag
    // read (sealing) or given beforehand and checked by the final call (opening).

    private func seal(key: UnsafeRawPointer?, nonce: UnsafeRawPointer, additionalData: UnsafeRawPointer?, _ additionalLength: Int,
                      message: UnsafeMutableRawPointer, length: Int) {
        let bytes = message.assumingMemoryBound(to: UInt8.self)
        var written: Int32 = 0
        var ok = EVP_CipherInit_ex2(context, nil, key?.assumingMemoryBound(to: UInt8.self), nonce.assumingMemoryBound(to: UInt8.self), 1, nil) == 1
        if let additionalData, additionalLength > 0 {
            ok = ok && EVP_CipherUpdate(context, nil, &written, additionalData.assumingMemoryBound(to: UInt8.self), Int32(additionalLength)) == 1
        }
        ok = ok && EVP_CipherUpdate(context, bytes, &written, bytes, Int32(length)) == 1
        ok = ok && EVP_CipherFinal_ex(context, bytes + length, &written) == 1
        ok = ok && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(Self.tagLength), bytes + length) == 1
        // Only a broken library fails here; sending what it left would leak plaintext.
        precondition(ok, "OpenSSL ChaCha20-Poly1305 sealing failed")
    }

    private func open(key: UnsafeRawPointer?, nonce: UnsafeRawPointer, additionalData: UnsafeRawPointer?, _ additionalLength: Int,
                      message: UnsafeMutableRawPointer, length: Int) -> Bool {
        let bytes = message.assumingMemoryBound(to: UInt8.self)
        var written: Int32 = 0
        guard EVP_CipherInit_ex2(context, nil, key?.assumingMemoryBound(to: UInt8.self), nonce.assumingMemoryBound(to: UInt8.self), 0, nil) == 1,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(Self.tagLength), bytes + length) == 1 else { return false }
        if let additionalData, additionalLength > 0 {
            guard EVP_CipherUpdate(context, nil, &written, additionalData.assumingMemoryBound(to: UInt8.self), Int32(additionalLength)) == 1 else {
                return false
            }
        }
        guard EVP_CipherUpdate(context, bytes, &written, bytes, Int32(length)) == 1 else { return false }
        return EVP_CipherFinal_ex(context, bytes + length, &written) == 1
    }

    private func withCounterNonce<T>(_ counter: UInt64, _ body: (UnsafeRawPointer) -> T) -> T {
        var nonce: (UInt64, UInt64) = (0, 0)
        return withUnsafeMutableBytes(of: &nonce) { raw in
            raw.storeBytes(of: counter.littleEndian, toByteOffset: 4, as: UInt64.self)
            return body(raw.baseAddress!)
        }
    }
}
