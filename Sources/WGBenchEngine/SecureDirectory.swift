import Foundation
import Glibc

/// A directory only root can change, made safely: the local testbed keeps its sshd's
/// `AuthorizedKeysFile` there (with `StrictModes no`), so anyone who could write into it, or
/// replace it or a parent, could log in to the testbed's hosts as root.
///
/// Every existing parent must be a real directory (not a symlink) owned by root and not writable
/// by group or others, unless it has the sticky bit (`/tmp`: others cannot rename or remove what
/// root made there). The directory itself, if it exists already, must be owned by root and not
/// writable by group or others; if it does not, it is made with `mode`. Each check is lstat(2) on
/// the path as it is now; mkdir(2) refuses to follow a symlink planted in the last component.
public enum SecureDirectory {
    public struct Refusal: Error, CustomStringConvertible, Equatable {
        public let path: String
        public let reason: String

        public var description: String {
            "refusing to use \(path): \(reason); a local testbed's state directory and every directory above it must be "
                + "root's alone (owned by root, not writable by group or others), or another user could give themselves root logins to its hosts"
        }
    }

    public static func create(_ path: String, mode: mode_t = 0o700) throws(Refusal) {
        guard path.hasPrefix("/") else { throw Refusal(path: path, reason: "not an absolute path") }
        var current = ""
        let components = path.split(separator: "/").map(String.init)
        try check("/", last: false)
        for (index, component) in components.enumerated() {
            current += "/" + component
            let last = index == components.count - 1
            var info = stat()
            if lstat(current, &info) != 0 {
                guard errno == ENOENT else { throw Refusal(path: current, reason: String(cString: strerror(errno))) }
                if mkdir(current, last ? mode : 0o755) != 0 && errno != EEXIST {
                    throw Refusal(path: current, reason: "cannot create it: \(String(cString: strerror(errno)))")
                }
            }
            try check(current, last: last)
        }
    }

    /// Root's, a directory, and closed to group and others (parents: unless sticky).
    static func check(_ path: String, last: Bool) throws(Refusal) {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw Refusal(path: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw Refusal(path: path, reason: (info.st_mode & S_IFMT) == S_IFLNK ? "it is a symbolic link" : "it is not a directory")
        }
        guard info.st_uid == 0 else { throw Refusal(path: path, reason: "it is owned by uid \(info.st_uid), not root") }
        let writable = info.st_mode & (S_IWGRP | S_IWOTH) != 0
        let sticky = info.st_mode & S_ISVTX != 0
        if writable && (last || !sticky) {
            throw Refusal(path: path, reason: String(format: "group or others may write to it (mode %o)", info.st_mode & 0o7777))
        }
    }
}
