import CSodium

/// Clearing key material so it does not outlive its use (sodium_memzero: not optimised away).
public enum SecureMemory {
    public static func wipe(_ pointer: UnsafeMutableRawPointer, count: Int) {
        sodium_memzero(pointer, count)
    }
}
