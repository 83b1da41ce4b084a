import Foundation
import WGBenchCore
import WGBenchEngine
import WGBenchRemote
import XCTest

extension LocalTestbedTests {
    /// Security review, item 12: gw1 pinned with an RSA key while its sshd offers ed25519. libssh2
    /// calls that "not found" (it compares keys of the offered type only) and accept-new used to
    /// append the ed25519 key beside the pin; it is a mismatch, whatever the policy.
    func testAHostPinnedWithAKeyOfAnotherTypeIsAMismatchEvenUnderAcceptNew() throws {
        let scratch = NSTemporaryDirectory() + "wgb-keytype-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: scratch) }
        try LocalCommandRunner().check(Command("ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", scratch + "/old-rsa"))
        let fields = try String(contentsOfFile: scratch + "/old-rsa.pub", encoding: .utf8).split(separator: " ")
        let knownHosts = scratch + "/known_hosts"
        let pin = "198.18.251.12 \(fields[0]) \(fields[1])\n"
        try pin.write(toFile: knownHosts, atomically: true, encoding: .utf8)

        for policy in [HostKeyPolicy.acceptNew, .strict] {
            XCTAssertThrowsError(try SSHHost(endpoint(.gw1) { $0.knownHosts = knownHosts; $0.hostKeyPolicy = policy }).connect()) { error in
                guard case .hostKeyRejected(let name, _, let reason) = error as? RemoteError else { return XCTFail("\(error)") }
                XCTAssertEqual(name, "gw1")
                XCTAssertTrue(reason.contains("pins this host with a key of another type"), reason)
                XCTAssertTrue(reason.contains("ssh-ed25519"), reason)
            }
        }
        XCTAssertEqual(try String(contentsOfFile: knownHosts, encoding: .utf8), pin, "the pin was changed")
        // A host not pinned at all is still recorded under accept-new.
        try SSHHost(endpoint(.gw2) { $0.knownHosts = knownHosts; $0.hostKeyPolicy = .acceptNew }).connect()
        XCTAssertTrue(try String(contentsOfFile: knownHosts, encoding: .utf8).contains("198.18.251.13 ssh-ed25519 "))
    }
}
