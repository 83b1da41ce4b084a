import Foundation
import WGBenchCore
import WireGuardCrypto

/// The crypto-only floor of a tunnel's CPU cost: libsodium's ChaCha20-Poly1305 sealing and
/// opening packets of the tunnel's size on one core of this machine, in a tight loop.
enum CryptoFloor {
    static func measure(packetBytes: Int = 1420, seconds: Double = 0.25) -> CPUCostContext.Floor {
        let length = (packetBytes + 15) / 16 * 16
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: length + AEAD.tagLength, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0x5a, count: length + AEAD.tagLength)
        let key = [UInt8](repeating: 7, count: 32)
        AEAD.prepare()
        /// Seconds per iteration of `body`, run in rounds of 1000 until `seconds` have passed.
        func time(_ body: (UInt64) -> Void) -> Double {
            var iterations: UInt64 = 0
            let start = Date()
            repeat {
                for _ in 0..<1000 {
                    body(iterations)
                    iterations += 1
                }
            } while Date().timeIntervalSince(start) < seconds
            return Date().timeIntervalSince(start) / Double(iterations)
        }
        let (seal, pair) = key.withUnsafeBytes { key in
            let seal = time { AEAD.seal(key: key.baseAddress!, counter: $0, message: buffer, length: length) }
            let pair = time { counter in
                AEAD.seal(key: key.baseAddress!, counter: counter, message: buffer, length: length)
                _ = AEAD.open(key: key.baseAddress!, counter: counter, message: buffer, length: length)
            }
            return (seal, pair)
        }
        let perGB = 1e9 / Double(packetBytes)
        return CPUCostContext.Floor(host: ProcessInfo.processInfo.hostName, packetBytes: packetBytes,
                                    sealSecondsPerGB: seal * perGB, openSecondsPerGB: max(pair - seal, 0) * perGB)
    }
}
