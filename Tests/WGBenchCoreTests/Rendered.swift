import WGBenchCore

/// What an operation renders to, for tests of the builders through `ShellRenderer`.
extension HostOperation {
    var rendered: Command { ShellRenderer.command(self) }
    var argv: [String] { rendered.argv }
    var stdin: [UInt8]? { rendered.stdin }
    var timeout: SpecDuration? { rendered.timeout }
}
