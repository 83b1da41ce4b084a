import Glibc

/// The private key a testbed names. OpenSSH refuses a key that others could read ("UNPROTECTED
/// PRIVATE KEY FILE!"): whoever can read it can log in to every host of the testbed as root, and a
/// key left readable is a key that may already have been read. wgbench refuses it the same way,
/// before it offers the key to any host, naming the file and its mode.
enum IdentityFile {
    /// Why the key at `path` must not be used, or nil. (A missing file is reported by the caller.)
    static func problem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let mode = info.st_mode & 0o7777
        guard mode & 0o077 != 0 else { return nil }
        let octal = String(mode, radix: 8)
        return "the identity file \(path) has mode \(String(repeating: "0", count: max(0, 4 - octal.count)) + octal): "
            + "group or others may read it, and OpenSSH refuses such a key too; chmod 600 \(path)"
    }
}
