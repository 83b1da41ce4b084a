import Foundation
import WGBenchCore
import WireGuardCrypto

/// The crypto-only floor of a tunnel's CPU cost: ChaCha20-Poly1305 sealing and opening packets of
/// the tunnel's size on one core of this machine, in a tight loop, with the fastest library here
/// (OpenSSL 3's EVP, what wireguard-swift's datapath uses; libsodium measured about 1.5x slower
/// per packet), one context, the key kept and a fresh nonce per packet, as the datapath does.
enum CryptoFloor {
    static func measure(packetBytes: Int = 1420, seconds: Double = 0.25) -> CPUCostContext.Floor {
        let length = (packetBytes + 15) / 16 * 16
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: length + ChaCha20Poly1305.tagLength, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0x5a, count: length + ChaCha20Poly1305.tagLength)
        let key = [UInt8](repeating: 7, count: 32)
        let cipher = ChaCha20Poly1305()
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
            // The key is given when the context last opened (or never sealed), as a batch does.
            let seal = time { cipher.seal(key: $0 == 0 ? key.baseAddress! : nil, counter: $0, message: buffer, length: length) }
            let pair = time { counter in
                cipher.seal(key: key.baseAddress!, counter: counter, message: buffer, length: length)
                _ = cipher.open(key: key.baseAddress!, counter: counter, message: buffer, length: length)
            }
            return (seal, pair)
        }
        let perGB = 1e9 / Double(packetBytes)
        return CPUCostContext.Floor(host: ProcessInfo.processInfo.hostName, packetBytes: packetBytes,
                                    sealSecondsPerGB: seal * perGB, openSecondsPerGB: max(pair - seal, 0) * perGB)
    }
}
