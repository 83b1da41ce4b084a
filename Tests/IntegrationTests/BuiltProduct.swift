import Foundation

/// The path of a product this package builds (`wgbench`, `wireguard-swift`): beside the test bundle
/// when the tests run from the build folder, else in the debug build of the repository.
func builtProduct(_ name: String) -> String {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    if FileManager.default.isExecutableFile(atPath: beside) { return beside }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug/\(name)").path
}
