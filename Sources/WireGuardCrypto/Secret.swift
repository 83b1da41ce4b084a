import CSodium
import Foundation

/// Secret bytes (a private key, a chaining key, a DH result, a transport key) in memory of their
/// own, wiped with `sodium_memzero` when the last reference goes: the kernel's memzero_explicit of
/// every key it drops. A Swift `[UInt8]` is copied on write, moved by the allocator and freed
/// without zeroing, so a secret held in one leaves copies behind; a `Secret` is never an array.
///
/// Invariants: the bytes never leave this memory except through the functions of this module
/// that read them where they lie (X25519, the hash, HMAC and KDF, the AEADs) and through
/// `withUnsafeBytes` for code that must (the datapath's keypair, UAPI's hex); a `Secret` is written
/// by one owner before it is shared, and is not synchronised.
public final class Secret: ContiguousBytes, Equatable, @unchecked Sendable {
    public let count: Int
    /// Stable for the object's life: the functions of this module read and write through it.
    let bytes: UnsafeMutableRawPointer

    /// `count` zero bytes.
    public init(count: Int = 32) {
        self.count = count
        bytes = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1), alignment: 16)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: count)
    }

    /// A copy of bytes that are not themselves secret (a constant, a public value) or whose copy
    /// the caller answers for (tests, the harness's generated keys).
    public convenience init(copying source: some ContiguousBytes) {
        let count = source.withUnsafeBytes { $0.count }
        self.init(count: count)
        source.withUnsafeBytes { if count > 0 { bytes.copyMemory(from: $0.baseAddress!, byteCount: count) } }
    }

    /// A copy of another secret, in memory of its own.
    public convenience init(copying source: Secret) {
        self.init(count: source.count)
        bytes.copyMemory(from: source.bytes, byteCount: count)
    }

    deinit {
        SecureMemory.wipe(bytes, count: count)
        bytes.deallocate()
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: bytes, count: count))
    }

    /// All zeros (sodium_is_zero: in constant time).
    public var isZero: Bool { sodium_is_zero(bytes.assumingMemoryBound(to: UInt8.self), count) == 1 }

    /// Equal contents, compared in constant time (sodium_memcmp).
    public static func == (a: Secret, b: Secret) -> Bool {
        a === b || (a.count == b.count && sodium_memcmp(a.bytes, b.bytes, a.count) == 0)
    }
}
