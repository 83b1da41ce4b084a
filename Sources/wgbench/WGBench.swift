import ArgumentParser

struct WGBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wgbench",
        abstract: "Measure WireGuard tunnels on a 4-host testbed (source, gw1, gw2, drain).",
        subcommands: [RunCommand.self, PlanCommand.self, ReportCommand.self, CompareCommand.self, HistoryCommand.self, TestbedCommand.self,
                      BenchCommand.self]
    )
}

/// The testbed file argument shared by commands.
/// The testbed, named the same way in every subcommand.
struct TestbedOptions: ParsableArguments {
    @Option(help: "The testbed file (YAML).")
    var testbed = "testbeds/local.yaml"
}
