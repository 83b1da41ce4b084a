import Foundation
import Testing
@testable import WGBenchRemote

/// Issue #22, item 8: `accept-new` pins each new host key in known_hosts, and a testbed's four
/// hosts connect in parallel. The file was created with `createFile` (which empties a file another
/// connection just wrote) and appended after a seek without O_APPEND (two writers at one offset),
/// so pins were lost; a last line without its newline ran into the new one; and a private key
/// anyone could read was offered to the hosts.
struct AcceptNewTests {
    static func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wgb-accept-new-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func line(_ index: Int) -> String {
        KnownHostsLine.format(host: "198.18.250.\(index)", port: 22, keyBlob: [0, 0, 0, 11] + Array("ssh-ed25519".utf8) + [0, 0, 0, 1, UInt8(index)])!
    }

    /// Many threads at once, each pinning its own host in a file none of them has made yet, round
    /// after round: every pin is there, each on its own line.
    @Test func parallelPinsAreAllKept() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let threads = 16
        for round in 0..<20 {
            let file = "\(directory)/known_hosts-\(round)"
            let go = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
            let failures = Failures()
            for index in 0..<threads {
                Thread {
                    go.wait()
                    do { try KnownHostsLine.append(Self.line(index), to: file) } catch { failures.add("\(error)") }
                    done.signal()
                }.start()
            }
            for _ in 0..<threads { go.signal() }
            for _ in 0..<threads { done.wait() }
            #expect(failures.all.isEmpty, "\(failures.all)")
            let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            #expect(Set(lines.dropLast()) == Set((0..<threads).map { Self.line($0).dropLast() }), "round \(round): \(lines.count - 1) lines")
            #expect(lines.last == "")
            var info = stat()
            #expect(stat(file, &info) == 0 && info.st_mode & 0o777 == 0o600)
        }
    }

    @Test func aFileWithoutItsLastNewlineKeepsItsLastLine() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = "\(directory)/known_hosts"
        try Data("gw9 ssh-ed25519 AAAA".utf8).write(to: URL(fileURLWithPath: file))
        try KnownHostsLine.append(Self.line(1), to: file)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "gw9 ssh-ed25519 AAAA\n" + Self.line(1))
        try KnownHostsLine.append(Self.line(2), to: file)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "gw9 ssh-ed25519 AAAA\n" + Self.line(1) + Self.line(2))
    }

    @Test(arguments: [(0o644 as mode_t, "0644"), (0o640, "0640"), (0o604, "0604"), (0o600, nil), (0o400, nil)])
    func aKeyOthersCanReadIsRefused(_ mode: mode_t, _ shown: String?) throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = "\(directory)/id_ed25519"
        try Data("-----BEGIN OPENSSH PRIVATE KEY-----\n".utf8).write(to: URL(fileURLWithPath: key))
        chmod(key, mode)
        let problem = IdentityFile.problem(key)
        if let shown {
            #expect(problem?.contains("the identity file \(key) has mode \(shown)") == true, "\(String(describing: problem))")
        } else {
            #expect(problem == nil)
        }
    }
}

private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ text: String) { lock.lock(); list.append(text); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return list }
}
