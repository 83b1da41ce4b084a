import Foundation
import WGBenchCore
import WGBenchRemote
import WGBenchSodium

/// Copies a program from the controller to a gateway for one run (`upload:` in the testbed file):
/// over the host's persistent shell in chunks, checked by SHA-256 on arrival, made executable,
/// and run once with --version, so that a binary the gateway cannot run (a missing library, the
/// wrong architecture) is reported before any series starts. The run directory holding it is
/// removed at teardown.
enum ToolUpload {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Where a run keeps its copy of `tool` on a gateway.
    static func remotePath(runID: String, tool: String) -> String { "\(HostFolders.run(runID))/\(tool)" }

    /// The local file `source` names.
    static func localFile(_ source: UploadSource, tool: String) -> URL {
        switch source {
        case .file(let path):
            return URL(fileURLWithPath: path.rawValue)
        case .build:
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            return executable.deletingLastPathComponent().appendingPathComponent(tool)
        }
    }

    static let chunkBytes = 256 * 1024

    static func upload(_ file: URL, to path: String, on host: RemoteHost, role: HostRole) throws {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw Failure(description: "cannot read \(file.path) to upload to \(role) (build it first, or name another file under upload: in the testbed)")
        }
        let bytes = [UInt8](data)
        let part = path + ".part"
        try host.check(.createEmptyFile(part))
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunkBytes, bytes.count)
            try host.check(.appendToFile(part, bytes: Array(bytes[offset..<end])))
            offset = end
        }
        let remoteSum = try host.check(.read(.sha256(part))).split(separator: " ").first.map(String.init) ?? ""
        let localSum = SHA256Digest.hex(bytes)
        guard remoteSum == localSum else {
            throw Failure(description: "uploading \(file.path) to \(role):\(path) failed: SHA-256 \(remoteSum) there, \(localSum) here")
        }
        try host.check(.installExecutable(from: part, to: path))
        let probe = try host.perform(.read(.programVersion(path)))
        guard probe.succeeded else {
            throw Failure(description: "the uploaded \(file.lastPathComponent) does not run on \(role) (\(path) --version exited \(probe.status)"
                          + (probe.stderrTail.isEmpty ? "" : ": \(probe.stderrTail)")
                          + "); build it with `swift build -c release --static-swift-stdlib` so it needs no Swift runtime there, and install libsodium and libssl3")
        }
    }
}
