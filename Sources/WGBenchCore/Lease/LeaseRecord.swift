/// Who holds a testbed: one line in a lease file on each host (see `LeaseCommands`), written and
/// renewed by the holder. A run, `testbed down` and `testbed up` take it on every host before they
/// change anything, so two controllers, on this machine or on two, never run on one testbed.
///
/// `wgbench-lease 1 run=<id> controller=<host> pid=<pid> start=<ticks> boot=<boot id> token=<hex> renewed=<epoch>`
public struct LeaseHolder: Equatable, Sendable {
    /// The run id, or what else holds it (`testbed-down`).
    public var run: String
    /// The controller's host name.
    public var controller: String
    public var pid: Int32
    /// The process's start time in clock ticks after boot (/proc/<pid>/stat field 22): a pid reused
    /// by another process after the holder died has another.
    public var pidStart: UInt64
    /// The controller's boot id: after a reboot no process of the old boot lives.
    public var boot: String
    /// A random secret of this holding: renewal and release touch only a lease with it.
    public var token: String

    public init(run: String, controller: String, pid: Int32, pidStart: UInt64, boot: String, token: String) {
        self.run = run
        self.controller = controller
        self.pid = pid
        self.pidStart = pidStart
        self.boot = boot
        self.token = token
    }

    /// The line without its renewal time; the script on the host appends ` renewed=<now>`.
    public var line: String {
        "wgbench-lease 1 run=\(run) controller=\(controller) pid=\(pid) start=\(pidStart) boot=\(boot) token=\(token)"
    }

    /// Only characters that need no quoting anywhere, so a field never spills into another.
    public static func isSafeField(_ text: String) -> Bool {
        (1...100).contains(text.utf8.count)
            && text.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// A host name reduced to safe characters.
    public static func sanitized(_ name: String) -> String {
        let kept = String(decoding: name.utf8.prefix(64).map { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") ? $0 : UInt8(ascii: "_") },
                          as: UTF8.self)
        return kept.isEmpty ? "unknown" : kept
    }
}

/// A lease as found on a host.
public struct LeaseRecord: Equatable, Sendable {
    public var holder: LeaseHolder
    /// The host's clock (epoch seconds) at the last renewal: compared with the host's own clock only.
    public var renewed: Int

    public init(holder: LeaseHolder, renewed: Int) {
        self.holder = holder
        self.renewed = renewed
    }

    /// Parses a lease line; nil for anything else (a damaged file is reported as such).
    public static func parse(_ line: String) -> LeaseRecord? {
        let words = line.split(separator: " ")
        guard words.count == 9, words[0] == "wgbench-lease", words[1] == "1" else { return nil }
        var fields: [String: String] = [:]
        for word in words.dropFirst(2) {
            guard let equals = word.firstIndex(of: "=") else { return nil }
            fields[String(word[..<equals])] = String(word[word.index(after: equals)...])
        }
        guard let run = fields["run"], let controller = fields["controller"], let pid = fields["pid"].flatMap({ Int32($0) }),
              let start = fields["start"].flatMap({ UInt64($0) }), let boot = fields["boot"], let token = fields["token"],
              let renewed = fields["renewed"].flatMap({ Int($0) }),
              [run, controller, boot, token].allSatisfy(LeaseHolder.isSafeField)
        else { return nil }
        return LeaseRecord(holder: LeaseHolder(run: run, controller: controller, pid: pid, pidStart: start, boot: boot, token: token),
                           renewed: renewed)
    }
}

/// What to do about a lease another holder has.
public enum LeaseVerdict: Equatable, Sendable {
    /// Its holder renews it: the testbed is busy.
    case busy(age: Int)
    /// Not renewed for longer than the lease lasts: its holder looks gone, but only `--force` takes it over.
    case stale(age: Int)
    /// Its holder is a process of this controller that provably no longer runs: take it over.
    case holderGone(reason: String)
}

/// The rules for a lease found on a host, as a pure function of what is known.
public enum LeasePolicy {
    /// A holder renews this often...
    public static let renewSeconds = 10
    /// ...and a lease not renewed for this long is stale.
    public static let staleSeconds = 60

    /// `hostNow` is the host's clock when it showed the lease; `controller` and `boot` are ours;
    /// `alive(pid, start)` tells whether that process runs here now.
    public static func judge(_ record: LeaseRecord, hostNow: Int, controller: String, boot: String,
                             alive: (Int32, UInt64) -> Bool) -> LeaseVerdict {
        let age = max(0, hostNow - record.renewed)
        let holder = record.holder
        if holder.controller == controller {
            if holder.boot != boot {
                return .holderGone(reason: "this controller has rebooted since (boot id \(holder.boot))")
            }
            if !alive(holder.pid, holder.pidStart) {
                return .holderGone(reason: "its process \(holder.pid) on this controller no longer runs")
            }
        }
        return age > staleSeconds ? .stale(age: age) : .busy(age: age)
    }
}
