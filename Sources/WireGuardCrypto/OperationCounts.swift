import Foundation

/// How many of the handshake's costly operations the calling thread has done: X25519
/// Diffie-Hellman (variable-base scalar multiplications, not public-key derivations) and BLAKE2s
/// digests. Tests read them to prove that work is skipped (a message from an unknown peer costs
/// one DH, mac1 is checked with a precomputed key). Per thread, so that tests running side by side
/// in one process do not count each other's work; a counter costs a few nanoseconds against an
/// X25519's tens of microseconds.
public enum OperationCounts {
    public struct Snapshot: Sendable, Equatable {
        public var x25519 = 0
        public var blake2s = 0

        public static func - (a: Snapshot, b: Snapshot) -> Snapshot {
            Snapshot(x25519: a.x25519 - b.x25519, blake2s: a.blake2s - b.blake2s)
        }
    }

    /// This thread's counts so far.
    public static var current: Snapshot {
        let counts = storage()
        return Snapshot(x25519: counts[0], blake2s: counts[1])
    }

    static func countX25519() { storage()[0] += 1 }
    static func countBLAKE2s() { storage()[1] += 1 }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // The destructor frees a thread's two counters when it exits.
        precondition(pthread_key_create(&key) { $0?.deallocate() } == 0, "pthread_key_create failed")
        return key
    }()

    private static func storage() -> UnsafeMutablePointer<Int> {
        if let counts = pthread_getspecific(key) { return counts.assumingMemoryBound(to: Int.self) }
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        counts.initialize(repeating: 0, count: 2)
        pthread_setspecific(key, counts)
        return counts
    }
}
