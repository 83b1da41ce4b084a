import CSodium
import Foundation

/// SHA-256 (libsodium), to check that a file arrived whole.
public enum SHA256 {
    public static func hex(_ bytes: [UInt8]) -> String {
        _ = sodium_init()
        var digest = [UInt8](repeating: 0, count: 32)
        crypto_hash_sha256(&digest, bytes, UInt64(bytes.count))
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}
