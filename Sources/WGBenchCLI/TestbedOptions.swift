import ArgumentParser
import WGBenchCore
import WGBenchEngine

/// `--testbed`, named, defaulted and loaded the same way by every command that takes one.
public struct TestbedOptions: ParsableArguments {
    @Option(help: "The testbed file (YAML).")
    public var testbed = "testbeds/local.yaml"

    public init() {}

    /// The testbed file, read and checked.
    func load() throws -> Testbed { try TestbedLoader.load(path: testbed) }

    /// The testbed file, which must describe a local testbed (one wgbench creates itself).
    func loadLocal() throws -> Testbed {
        let testbed = try load()
        guard testbed.local != nil else {
            throw BadInput("\(self.testbed) describes real machines (no 'local' section): wgbench creates only local testbeds")
        }
        return testbed
    }
}
