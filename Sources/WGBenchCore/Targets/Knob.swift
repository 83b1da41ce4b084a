/// Every setting of a tunnel target, by its name in experiment files. What a knob is and does is
/// its `descriptor`, one per knob: adding a knob is a case here and its descriptor (and tests).
public enum Knob: String, Sendable, Codable, CaseIterable, Comparable {
    case threaded
    case inlineEnabled = "inline_en"
    case encryptCPUs = "encrypt_cpus"
    case decryptCPUs = "decrypt_cpus"
    case engine
    case offload
    case serialCPUs = "serial_cpus"
    case inlineCPUs = "inline_cpus"
    case smallBatch = "small_batch"
    case daemonCPUs = "daemon_cpus"
    case binary
    case logLevel = "log_level"

    public enum Kind: Sendable, Equatable {
        /// 0 or 1.
        case flag
        case choice([String])
        /// A whole number in a range.
        case integer(ClosedRange<Int>)
        /// A CPU expression, one for both gateways or one per gateway, resolved per tunnel.
        case cpus
        /// An executable: an absolute path, or a name looked up on the gateways' PATH (`isProgram`).
        case program
    }

    /// How a knob reaches a host.
    public enum Application: Sendable, Equatable {
        /// A kernel tunnel's flag, `/sys/class/net/<wg>/<file>` on both gateways, written and read back.
        case sysfs(String, missing: MissingFile)
        /// A patched-module crypto mask: `<file>` as a hex mask, or the older single `cpumask`.
        case cryptoMask(String)
        /// A command-line option of the userspace daemon, followed by the value.
        case daemonOption(String)
        /// A command-line switch of the userspace daemon, given when the flag's value is `when`.
        case daemonSwitch(String, when: Bool)
        /// A daemon option taking the knob's CPUs, resolved per tunnel (`firstOnly`: one CPU, the first).
        case daemonCPUs(String, firstOnly: Bool)
        /// `taskset` on every thread of the tunnel's daemon, after it starts.
        case taskset
        /// The userspace daemon to run, instead of the testbed's tool (or the target's name).
        case program
        /// The userspace daemon's LOG_LEVEL (both daemons read the same variable and values).
        case logLevel
    }

    /// What it means that a kernel tunnel has no file for a sysfs knob.
    public enum MissingFile: Sendable, Equatable {
        /// The repetition fails: the kernel cannot do what every series needs.
        case fails(reason: String)
        /// It fails where the series turns the knob on; off, it is the module's only behaviour,
        /// recorded as unsupported with `note`.
        case failsWhenOn(reason: String, note: String)
    }

    public var kind: Kind { descriptor.kind }
    public var targets: Set<TargetKind> { descriptor.targets }
    public var help: String { descriptor.help }

    public func application(for target: TargetKind) -> Application { descriptor.application(target) }

    /// The value a series gets when it does not set the knob. Kernel state is never inherited from
    /// the host: the kernel's knobs all have one (the paper's vanilla path: softirq NAPI, no Inline,
    /// crypto workers on every CPU). Userspace daemons keep their own defaults (nil), but for their
    /// log: errors only, as a verbose log of a long run fills the hosts' /run (a tmpfs).
    public func defaultValue(for target: TargetKind) -> KnobValue? { descriptor.defaults[target] }

    /// Reads a value as written in a file or a sweep; the error says what the knob takes.
    public func parse(_ text: String) throws(KnobError) -> KnobValue {
        switch kind {
        case .flag:
            guard text == "0" || text == "1" else { throw KnobError(knob: self, message: "\(rawValue) takes 0 or 1") }
            return .flag(text == "1")
        case .choice(let options):
            guard options.contains(text) else { throw KnobError(knob: self, message: "\(rawValue) takes one of \(options.joined(separator: ", "))") }
            return .choice(text)
        case .integer(let range):
            guard let value = Int(text), range.contains(value) else {
                throw KnobError(knob: self, message: "\(rawValue) takes a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return .integer(value)
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
    case integer(Int)
    case cpus(PerGateway<CPUExpression?>)
    case program(String)

    public var description: String {
        switch self {
        case .flag(let on): return on ? "1" : "0"
        case .choice(let value): return value
        case .integer(let value): return String(value)
        case .cpus(let value): return value.text
        case .program(let path): return path
        }
    }

    public var flag: Bool? { if case .flag(let on) = self { return on } else { return nil } }
    public var choice: String? { if case .choice(let value) = self { return value } else { return nil } }
    public var integer: Int? { if case .integer(let value) = self { return value } else { return nil } }
    public var cpus: PerGateway<CPUExpression?>? { if case .cpus(let value) = self { return value } else { return nil } }
    public var program: String? { if case .program(let path) = self { return path } else { return nil } }
}

public struct KnobError: Error, Sendable, Equatable, CustomStringConvertible {
    public var knob: Knob
    public var message: String
    public var description: String { message }
}

/// A series' knobs. Stored in run.json typed (flags true/false, numbers as numbers, the rest as
/// the text its knob parses); a name this wgbench does not know is refused, never dropped.
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

    /// Names of format 1 runs (before typed knobs), which each repetition's result records as read
    /// back from the hosts: skipped when such a run is read.
    static let formerNames: Set<String> = ["serial_work_cpus", "encrypt_cpumask", "decrypt_cpumask", "cpumask"]

    public init(from decoder: Decoder) throws {
        let raw = try decoder.singleValueContainer().decode([String: RecordedValue].self)
        var values: [Knob: KnobValue] = [:]
        for (name, recorded) in raw {
            guard let knob = Knob(rawValue: name) else {
                if Self.formerNames.contains(name) { continue }
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription:
                    "unknown knob '\(name)' (this wgbench knows \(Knob.allCases.map(\.rawValue).joined(separator: ", ")))"))
            }
            do { values[knob] = try recorded.value(of: knob) } catch {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
            }
        }
        self.values = values
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Dictionary(uniqueKeysWithValues: values.map { knob, value -> (String, RecordedValue) in
            switch value {
            case .flag(let on): return (knob.rawValue, .flag(on))
            case .integer(let number): return (knob.rawValue, .number(number))
            default: return (knob.rawValue, .text(value.description))
            }
        }))
    }

    /// A knob's value as run.json holds it: typed JSON, or text (format 2 kept every value as text).
    enum RecordedValue: Codable, Hashable {
        case flag(Bool), number(Int), text(String)

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) { self = .flag(flag) }
            else if let number = try? container.decode(Int.self) { self = .number(number) }
            else { self = .text(try container.decode(String.self)) }
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .flag(let on): try container.encode(on)
            case .number(let number): try container.encode(number)
            case .text(let text): try container.encode(text)
            }
        }

        func value(of knob: Knob) throws(KnobError) -> KnobValue {
            switch (self, knob.kind) {
            case (.flag(let on), .flag): return .flag(on)
            case (.number(let number), .flag), (.number(let number), .integer): return try knob.parse(String(number))
            case (.text(let text), _): return try knob.parse(text)
            case (.flag, _), (.number, _): throw KnobError(knob: knob, message: "\(knob.rawValue): a \(self) is not one of its values")
            }
        }
    }
}
