// The daemon's log lines, as wireguard-go writes them: `LEVEL: (ifname) 2006/01/02 15:04:05 text`,
// local time, to standard output. The time is written by localtime_r and strftime into a buffer
// on the stack: no formatter is made per line (a DateFormatter per line once cost more than the
// junk datagram the line was about). How many lines there are is the device's business
// (LogRateLimiter.swift); this only writes them.

import Glibc

public enum DaemonLog {
    /// One line, newline included, for the Unix time `seconds`.
    public static func line(level: String, interface: String, _ message: String, at seconds: time_t = time(nil)) -> String {
        "\(level): (\(interface)) \(timestamp(seconds)) \(message)\n"
    }

    /// `yyyy/MM/dd HH:mm:ss` in local time (localtime_r, strftime).
    public static func timestamp(_ seconds: time_t) -> String {
        var clock = seconds
        var parts = tm()
        guard localtime_r(&clock, &parts) != nil else { return "????/??/?? ??:??:??" }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 32) { buffer in
            let count = strftime(buffer.baseAddress!, buffer.count, "%Y/%m/%d %H:%M:%S", &parts)
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress!, count: count), as: UTF8.self)
        }
    }

    /// Writes a line to standard output (write(2); a short write is finished, EINTR retried).
    public static func write(level: String, interface: String, _ message: String) {
        let text = line(level: level, interface: interface, message)
        text.utf8CString.withUnsafeBytes { bytes in
            var offset = 0
            let total = bytes.count - 1  // not the terminating NUL
            while offset < total {
                let written = retryingEINTR { Glibc.write(1, bytes.baseAddress! + offset, total - offset) }
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
