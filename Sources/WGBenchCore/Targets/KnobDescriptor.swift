/// Everything about one knob in one place: its value type, the targets it belongs to, how it is
/// applied on each (sysfs file, daemon option or switch, taskset, program, log level), its default
/// per target, what a missing sysfs file means, and its help. The experiment decoder, sweeps,
/// run.json, the daemon's command line, the kernel knobs the provisioner writes and reads back,
/// and the report all ask the descriptor.
public struct KnobDescriptor: Sendable {
    public var kind: Knob.Kind
    public var targets: Set<TargetKind>
    public var application: @Sendable (TargetKind) -> Knob.Application
    public var defaults: [TargetKind: KnobValue]
    public var help: String

    init(_ kind: Knob.Kind, _ targets: Set<TargetKind>, defaults: [TargetKind: KnobValue] = [:], help: String,
         application: @escaping @Sendable (TargetKind) -> Knob.Application) {
        self.kind = kind
        self.targets = targets
        self.defaults = defaults
        self.help = help
        self.application = application
    }

    /// The same application on every target.
    init(_ kind: Knob.Kind, _ targets: Set<TargetKind>, defaults: [TargetKind: KnobValue] = [:], help: String, _ application: Knob.Application) {
        self.init(kind, targets, defaults: defaults, help: help) { _ in application }
    }
}

extension Knob {
    /// The knob's definition. A new knob is a case of `Knob` and its entry here.
    public var descriptor: KnobDescriptor {
        let kernelOff: [TargetKind: KnobValue] = [.kernel: .flag(false)]
        let kernelAll: [TargetKind: KnobValue] = [.kernel: .cpus(PerGateway(.all))]
        switch self {
        case .threaded:
            return KnobDescriptor(.flag, [.kernel], defaults: kernelOff,
                                  help: "threaded NAPI, /sys/class/net/<wg>/threaded: always written (default 0) and read back",
                                  .sysfs("threaded", missing: .fails(reason: "this kernel has no threaded NAPI")))
        case .inlineEnabled:
            return KnobDescriptor(.flag, [.kernel], defaults: kernelOff,
                                  help: "patched module: run to completion per tunnel, inline_en (default 0, written where the file exists)",
                                  .sysfs("inline_en", missing: .failsWhenOn(reason: "this kernel's WireGuard is not the paper's patched module",
                                                                            note: "no inline_en file: the upstream module, whose only path is the vanilla one")))
        case .encryptCPUs:
            return KnobDescriptor(.cpus, [.kernel, .wireguardSwift], defaults: kernelAll,
                                  help: "CPUs of the encryption workers: kernel encrypt_cpumask (default all), wireguard-swift one worker per CPU") {
                $0 == .kernel ? .cryptoMask("encrypt_cpumask") : .daemonCPUs("--encrypt-cpus", firstOnly: false)
            }
        case .decryptCPUs:
            return KnobDescriptor(.cpus, [.kernel, .wireguardSwift], defaults: kernelAll,
                                  help: "CPUs of the decryption workers: kernel decrypt_cpumask (default all), wireguard-swift one worker per CPU") {
                $0 == .kernel ? .cryptoMask("decrypt_cpumask") : .daemonCPUs("--decrypt-cpus", firstOnly: false)
            }
        case .engine:
            return KnobDescriptor(.choice(["parallel", "inline"]), [.wireguardSwift],
                                  help: "wireguard-swift's engine: parallel (crypto workers, the kernel's vanilla design) or inline (run to completion)",
                                  .daemonOption("--engine"))
        case .offload:
            return KnobDescriptor(.flag, [.wireguardSwift], help: "wireguard-swift: TUN TSO and UDP GSO/GRO (default 1)",
                                  .daemonSwitch("--no-offload", when: false))
        case .serialCPUs:
            return KnobDescriptor(.cpus, [.wireguardSwift], help: "wireguard-swift parallel engine: the tunnel's in-order send and deliver threads",
                                  .daemonCPUs("--serial-cpus", firstOnly: false))
        case .inlineCPUs:
            return KnobDescriptor(.cpus, [.wireguardSwift], help: "wireguard-swift inline engine: the tunnel's one thread (the first CPU of the set)",
                                  .daemonCPUs("--cpu", firstOnly: true))
        case .smallBatch:
            // The daemon's batch holds 64 packets (PacketBatch.defaultCapacity); 0 always hands off.
            return KnobDescriptor(.integer(0...64), [.wireguardSwift],
                                  help: "wireguard-swift parallel engine: a batch of at most this many packets whose peer has nothing in flight "
                                    + "skips the crypto workers (default 4; 0: always hand off)",
                                  .daemonOption("--small-batch"))
        case .daemonCPUs:
            return KnobDescriptor(.cpus, [.wireguardGo, .wireguardSwift],
                                  help: "userspace: pin the tunnel's daemon (taskset), e.g. tunnel for its home core", .taskset)
        case .binary:
            return KnobDescriptor(.program, [.wireguardGo, .wireguardSwift],
                                  help: "userspace: the daemon's executable (a path, or a name on the PATH), e.g. to compare builds of wireguard-go",
                                  .program)
        case .logLevel:
            return KnobDescriptor(.choice(["error", "verbose", "silent"]), [.wireguardGo, .wireguardSwift],
                                  defaults: [.wireguardGo: .choice("error"), .wireguardSwift: .choice("error")],
                                  help: "userspace: the daemon's LOG_LEVEL, error (default), verbose (handshakes, every invalid packet) or silent; its log is capped",
                                  .logLevel)
        }
    }

    /// The kernel's sysfs flag knobs, with their files: written on every kernel tunnel and read back.
    public static var kernelFlags: [(knob: Knob, file: String, missing: MissingFile)] {
        allCases.compactMap { knob in
            guard knob.targets.contains(.kernel), case .sysfs(let file, let missing) = knob.application(for: .kernel) else { return nil }
            return (knob, file, missing)
        }
    }

    /// The patched module's crypto-mask knobs, with their files.
    public static var kernelMasks: [(knob: Knob, file: String)] {
        allCases.compactMap { knob in
            guard knob.targets.contains(.kernel), case .cryptoMask(let file) = knob.application(for: .kernel) else { return nil }
            return (knob, file)
        }
    }
}

extension KnobDescriptor {
    /// The userspace daemon's command-line words for one knob's value; CPU knobs resolved for
    /// `role` and `tunnel` by `placement`. Empty for knobs that are not daemon options.
    public func daemonArguments(_ value: KnobValue, of knob: Knob, knobs: KnobSettings, role: HostRole, tunnel: Int,
                                placement: ResolvedPlacement) -> [String] {
        switch application(.wireguardSwift) {
        case .daemonOption(let option):
            return [option, value.description]
        case .daemonSwitch(let option, let when):
            return value.flag == when ? [option] : []
        case .daemonCPUs(let option, let firstOnly):
            guard let expression = knobs.expression(knob, on: role, for: .wireguardSwift) else { return [] }
            let cpus = placement.cpus(expression, on: role, tunnel: tunnel)
            guard let first = cpus.first else { return [] }
            return [option, firstOnly ? String(first) : CPUList.format(cpus)]
        case .sysfs, .cryptoMask, .taskset, .program, .logLevel:
            return []
        }
    }
}
