import CSodium

/// SHA-256 (libsodium's crypto_hash_sha256), to check that an uploaded file arrived whole.
public enum SHA256Digest {
    /// The digest in lower-case hex, as `sha256sum` prints it.
    public static func hex(_ bytes: [UInt8]) -> String {
        Sodium.ready()
        var digest = [UInt8](repeating: 0, count: 32)
        let rc = digest.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { crypto_hash_sha256(out.baseAddress!, $0.baseAddress, UInt64($0.count)) }
        }
        precondition(rc == 0, "crypto_hash_sha256 failed")
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }
}
