// The daemon's counters where anyone on the host can read them without speaking the UAPI:
// /var/run/wireguard/<ifname>.stats, one `name=count` line each (wgbench reads it around each
// repetition). Rewritten only when the text changed, through a temporary file and rename(2), so
// that a reader never sees half of it; removed when the daemon exits.

import Foundation
import Glibc

public final class StatsFile: @unchecked Sendable {
    public let path: String
    private var last: String?

    public static func path(for interface: String) -> String { "/var/run/wireguard/\(interface).stats" }

    /// A file left by a daemon of this name that was killed outright goes at once (the caller owns
    /// the interface now): no reader may take its counters for ours.
    public init(interface: String) {
        path = Self.path(for: interface)
        unlink(path)
    }

    /// Writes `text` if it differs from what was written last.
    public func update(_ text: String) {
        guard text != last else { return }
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o644]),
              rename(temporary, path) == 0 else {
            unlink(temporary)
            return
        }
        last = text
    }

    public func remove() { unlink(path) }
}
