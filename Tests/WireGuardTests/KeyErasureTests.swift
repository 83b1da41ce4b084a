import Foundation
@testable import WireGuard
import WireGuardCrypto
import XCTest

/// Key erasure as the README claims it: a key that is no longer needed is wiped, with no copy
/// left behind. Each test puts a key it knows only in masked form (`MaskedKey`) into a device and
/// then scans this process's memory for it: the ephemeral private keys once the handshake has
/// completed, the static private key once the device is gone. The positive control shows that a
/// scan finds what is there. XCTest, not Swift Testing: XCTest runs its cases one at a time and
/// never beside Swift Testing's parallel tests, whose threads map and unmap memory while a scan
/// reads /proc/self/maps (a mapping that changed between the two is missed).
final class KeyErasureTests: XCTestCase {
    let aEndpoint = Endpoint("198.18.2.1:51821")!, bEndpoint = Endpoint("198.18.2.2:51822")!
    let ping = DeviceTests.ipv4(from: [198, 19, 0, 1], to: [198, 19, 0, 2], payload: "ping")

    func testTheScanFindsAKeyLeftInABufferAndNotOnceItIsWiped() throws {
        let key = MaskedKey.privateKey()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 16)
        defer { buffer.deallocate() }
        key.write(to: UnsafeMutableRawBufferPointer(rebasing: buffer[16..<48]))
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(ProcessMemory.occurrences(of: key)), 1)
        SecureMemory.wipe(buffer.baseAddress!, count: 64)
        XCTAssertEqual(ProcessMemory.occurrences(of: key), 0)  // and the test itself holds no plain copy
    }

    /// Two devices; a's static key is `aStatic` when given, and each writes the given ephemeral key.
    func pair(aStatic: MaskedKey? = nil, aEphemeral: MaskedKey? = nil, bEphemeral: MaskedKey? = nil) -> (Device, Device) {
        let a = Device(jitter: { 0.1 }, ephemeralKeys: { secret in
            if let aEphemeral { secret.withUnsafeMutableBytes { aEphemeral.write(to: $0) } } else { Curve25519.generatePrivateKey(into: secret) }
        })
        let b = Device(jitter: { 0.1 }, ephemeralKeys: { secret in
            if let bEphemeral { secret.withUnsafeMutableBytes { bEphemeral.write(to: $0) } } else { Curve25519.generatePrivateKey(into: secret) }
        })
        let aKey = aStatic?.hex ?? UAPI.hex(Curve25519.generatePrivateKey())
        _ = a.handleUAPI("set=1\nprivate_key=\(aKey)\n\n")
        _ = b.handleUAPI("set=1\nprivate_key=\(UAPI.hex(Curve25519.generatePrivateKey()))\n\n")
        let aPublic = UAPI.hex(a.identity!.publicKey), bPublic = UAPI.hex(b.identity!.publicKey)
        _ = a.handleUAPI("set=1\npublic_key=\(bPublic)\nendpoint=\(bEndpoint)\nallowed_ip=198.19.0.2/32\n\n")
        _ = b.handleUAPI("set=1\npublic_key=\(aPublic)\nallowed_ip=198.19.0.1/32\n\n")
        return (a, b)
    }

    /// a initiates, b responds, a confirms with the waiting packet: both sides have the session.
    func handshake(_ a: Device, _ b: Device) throws {
        let initiation = try XCTUnwrap(a.outbound(ping, now: 0).datagrams.first)
        let response = try XCTUnwrap(b.inbound(initiation.payload, from: aEndpoint, now: 0).datagrams.first)
        let data = try XCTUnwrap(a.inbound(response.payload, from: bEndpoint, now: 0).datagrams.first)
        XCTAssertTrue(b.inbound(data.payload, from: aEndpoint, now: 0).packets == [ping])
    }

    func testEphemeralPrivateKeysAreGoneOnceTheHandshakeIsDone() throws {
        let aEphemeral = MaskedKey.privateKey(), bEphemeral = MaskedKey.privateKey()
        let (a, b) = pair(aEphemeral: aEphemeral, bEphemeral: bEphemeral)
        try handshake(a, b)
        XCTAssertTrue(a.peers[0].pending == nil && a.peers[0].current != nil && b.peers[0].current != nil)
        XCTAssertEqual(ProcessMemory.occurrences(of: aEphemeral), 0, "the initiator's ephemeral private key is left in memory")
        XCTAssertEqual(ProcessMemory.occurrences(of: bEphemeral), 0, "the responder's ephemeral private key is left in memory")
        withExtendedLifetime((a, b)) {}
    }

    func testTheStaticPrivateKeyIsGoneWithTheDevice() throws {
        let aStatic = MaskedKey.privateKey()
        weak var gone: Device?
        do {
            let (a, b) = pair(aStatic: aStatic)
            try handshake(a, b)
            XCTAssertTrue(a.handleUAPI("get=1\n\n").contains("private_key=\(aStatic.hex)\n"))  // `wg showconf` still has it
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(ProcessMemory.occurrences(of: aStatic)), 1)  // where the device keeps it
            gone = a
        }
        XCTAssertNil(gone)
        XCTAssertEqual(ProcessMemory.occurrences(of: aStatic), 0, "the static private key outlived its device")
    }
}
