/// Every setting of a tunnel target, defined once: its name in experiment files, its type and
/// parser, the targets it belongs to, its default, and how it is applied and read back. Values are
/// carried typed from the YAML to the command builders.
public enum Knob: String, Sendable, Codable, CaseIterable, Comparable {
    case threaded
    case inlineEnabled = "inline_en"
    case encryptCPUs = "encrypt_cpus"
    case decryptCPUs = "decrypt_cpus"
    case engine
    case offload
    case serialCPUs = "serial_cpus"
    case inlineCPUs = "inline_cpus"
    case daemonCPUs = "daemon_cpus"
    case binary
    case logLevel = "log_level"

    public enum Kind: Sendable, Equatable {
        /// 0 or 1.
        case flag
        case choice([String])
        /// A CPU expression, one for both gateways or one per gateway, resolved per tunnel.
        case cpus
        /// An executable: an absolute path, or a name looked up on the gateways' PATH (`isProgram`).
        case program
    }

    /// How a knob reaches a host.
    public enum Application: Sendable, Equatable {
        /// Written to `/sys/class/net/<wg>/<file>` on both gateways and read back.
        case sysfs(String)
        /// A patched-module crypto mask: `<file>` as a hex mask, or the older single `cpumask`.
        case cryptoMask(String)
        /// A command-line argument of the userspace daemon.
        case daemonArgument(String)
        /// `taskset` on every thread of the tunnel's daemon, after it starts.
        case taskset
        /// The userspace daemon to run, instead of the testbed's tool (or the target's name).
        case program
        /// The userspace daemon's LOG_LEVEL (both daemons read the same variable and values).
        case logLevel
    }

    public var kind: Kind {
        switch self {
        case .threaded, .inlineEnabled, .offload: return .flag
        case .engine: return .choice(["parallel", "inline"])
        case .logLevel: return .choice(["error", "verbose", "silent"])
        case .encryptCPUs, .decryptCPUs, .serialCPUs, .inlineCPUs, .daemonCPUs: return .cpus
        case .binary: return .program
        }
    }

    public var targets: Set<TargetKind> {
        switch self {
        case .threaded, .inlineEnabled: return [.kernel]
        case .encryptCPUs, .decryptCPUs: return [.kernel, .wireguardSwift]
        case .engine, .offload, .serialCPUs, .inlineCPUs: return [.wireguardSwift]
        case .daemonCPUs, .binary, .logLevel: return [.wireguardGo, .wireguardSwift]
        }
    }

    public func application(for target: TargetKind) -> Application {
        switch (self, target) {
        case (.threaded, _): return .sysfs("threaded")
        case (.inlineEnabled, _): return .sysfs("inline_en")
        case (.encryptCPUs, .kernel): return .cryptoMask("encrypt_cpumask")
        case (.decryptCPUs, .kernel): return .cryptoMask("decrypt_cpumask")
        case (.encryptCPUs, _): return .daemonArgument("--encrypt-cpus")
        case (.decryptCPUs, _): return .daemonArgument("--decrypt-cpus")
        case (.engine, _): return .daemonArgument("--engine")
        case (.offload, _): return .daemonArgument("--no-offload")
        case (.serialCPUs, _): return .daemonArgument("--serial-cpus")
        case (.inlineCPUs, _): return .daemonArgument("--cpu")
        case (.daemonCPUs, _): return .taskset
        case (.binary, _): return .program
        case (.logLevel, _): return .logLevel
        }
    }

    /// The value a series gets when it does not set the knob. Kernel state is never inherited from
    /// the host: the kernel's knobs all have one (the paper's vanilla path: softirq NAPI, no Inline,
    /// crypto workers on every CPU). Userspace daemons keep their own defaults (nil), but for their
    /// log: errors only, as a verbose log of a long run fills the hosts' /run (a tmpfs).
    public func defaultValue(for target: TargetKind) -> KnobValue? {
        if self == .logLevel { return target.hasDaemon ? .choice("error") : nil }
        guard target == .kernel else { return nil }
        switch self {
        case .threaded, .inlineEnabled: return .flag(false)
        case .encryptCPUs, .decryptCPUs: return .cpus(PerGateway(.all))
        default: return nil
        }
    }

    public var help: String {
        switch self {
        case .threaded: return "threaded NAPI, /sys/class/net/<wg>/threaded: always written (default 0) and read back"
        case .inlineEnabled: return "patched module: run to completion per tunnel, inline_en (default 0, written where the file exists)"
        case .encryptCPUs: return "CPUs of the encryption workers: kernel encrypt_cpumask (default all), wireguard-swift one worker per CPU"
        case .decryptCPUs: return "CPUs of the decryption workers: kernel decrypt_cpumask (default all), wireguard-swift one worker per CPU"
        case .engine: return "wireguard-swift's engine: parallel (crypto workers, the kernel's vanilla design) or inline (run to completion)"
        case .offload: return "wireguard-swift: TUN TSO and UDP GSO/GRO (default 1)"
        case .serialCPUs: return "wireguard-swift parallel engine: the tunnel's in-order send and deliver threads"
        case .inlineCPUs: return "wireguard-swift inline engine: the tunnel's one thread (the first CPU of the set)"
        case .daemonCPUs: return "userspace: pin the tunnel's daemon (taskset), e.g. tunnel for its home core"
        case .binary: return "userspace: the daemon's executable (a path, or a name on the PATH), e.g. to compare builds of wireguard-go"
        case .logLevel: return "userspace: the daemon's LOG_LEVEL, error (default), verbose (handshakes, every invalid packet) or silent; its log is capped"
        }
    }

    /// Reads a value as written in a file or a sweep; the error says what the knob takes.
    public func parse(_ text: String) throws(KnobError) -> KnobValue {
        switch kind {
        case .flag:
            guard text == "0" || text == "1" else { throw KnobError(knob: self, message: "\(rawValue) takes 0 or 1") }
            return .flag(text == "1")
        case .choice(let options):
            guard options.contains(text) else { throw KnobError(knob: self, message: "\(rawValue) takes one of \(options.joined(separator: ", "))") }
            return .choice(text)
        case .cpus:
            do { return .cpus(try PerGateway<CPUExpression?>.parse(text)) } catch {
                throw KnobError(knob: self, message: "\(rawValue): \(error.description)")
            }
        case .program:
            guard Self.isProgram(text) else {
                throw KnobError(knob: self, message: "\(rawValue) takes an absolute path or a program name (A-Z a-z 0-9 . _ + -, "
                                + "not starting with -), not '\(text)'")
            }
            return .program(text)
        }
    }

    /// A program the daemon's start line may name: an absolute path or a bare name, of characters
    /// that mean nothing to `env` or a shell. The value becomes the first word `env` sees, so
    /// `LD_PRELOAD=/x.so` would be an assignment there (and `$(...)`, `;`, `*` are syntax where a
    /// command is ever read by a shell); a leading `-` would be an option.
    static func isProgram(_ text: String) -> Bool {
        let isNameByte = { (byte: UInt8) -> Bool in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "-"): return true
            default: return false
            }
        }
        guard (1...4095).contains(text.utf8.count) else { return false }  // PATH_MAX with its NUL
        if text.hasPrefix("/") {
            let parts = text.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
            return !parts.isEmpty && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(isNameByte) }
        }
        return !text.hasPrefix("-") && text.utf8.allSatisfy(isNameByte) && text.utf8.contains { $0 != UInt8(ascii: ".") }
    }

    public static func < (a: Knob, b: Knob) -> Bool { a.rawValue < b.rawValue }
}

/// A knob's value, typed.
public enum KnobValue: Sendable, Hashable, CustomStringConvertible {
    case flag(Bool)
    case choice(String)
    case cpus(PerGateway<CPUExpression?>)
    case program(String)

    public var description: String {
        switch self {
        case .flag(let on): return on ? "1" : "0"
        case .choice(let value): return value
        case .cpus(let value): return value.text
        case .program(let path): return path
        }
    }

    public var flag: Bool? { if case .flag(let on) = self { return on } else { return nil } }
    public var choice: String? { if case .choice(let value) = self { return value } else { return nil } }
    public var cpus: PerGateway<CPUExpression?>? { if case .cpus(let value) = self { return value } else { return nil } }
    public var program: String? { if case .program(let path) = self { return path } else { return nil } }
}

public struct KnobError: Error, Sendable, Equatable, CustomStringConvertible {
    public var knob: Knob
    public var message: String
    public var description: String { message }
}

/// A series' knobs. Stored in run.json as `name: text`, read back with each knob's own parser.
public struct KnobSettings: Sendable, Hashable, Codable {
    public private(set) var values: [Knob: KnobValue]

    public init(_ values: [Knob: KnobValue] = [:]) { self.values = values }

    public subscript(knob: Knob) -> KnobValue? {
        get { values[knob] }
        set { values[knob] = newValue }
    }

    /// The value in force for `target`: the series' own, else the knob's default.
    public func value(_ knob: Knob, for target: TargetKind) -> KnobValue? { values[knob] ?? knob.defaultValue(for: target) }

    /// A CPU knob's expression on one gateway: the series' own, else the default; nil if neither.
    public func expression(_ knob: Knob, on role: HostRole, for target: TargetKind) -> CPUExpression? {
        values[knob]?.cpus?[role] ?? knob.defaultValue(for: target)?.cpus?[role]
    }

    public var isEmpty: Bool { values.isEmpty }
    public var sorted: [(Knob, KnobValue)] { values.sorted { $0.key < $1.key } }

    public init(from decoder: Decoder) throws {
        let raw = try decoder.singleValueContainer().decode([String: String].self)
        var values: [Knob: KnobValue] = [:]
        for (name, text) in raw {
            // Knobs of runs recorded before typed knobs (format 1: serial_work_cpus, *_cpumask) are
            // not carried over; each repetition's result keeps the values read back from the hosts.
            guard let knob = Knob(rawValue: name) else { continue }
            do { values[knob] = try knob.parse(text) } catch {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
            }
        }
        self.values = values
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Dictionary(uniqueKeysWithValues: values.map { ($0.key.rawValue, $0.value.description) }))
    }
}
