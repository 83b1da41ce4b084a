import WGBenchCore

/// Why `--resume` would not start: the run directory holds a file of a measured repetition (or
/// the run's CPU-cost context) that is there but cannot be read. Measuring again would overwrite
/// data it could not read, and skipping it would leave a hole nobody was told about, so the run
/// stops before it touches a host and names the file.
public struct ResumeRefused: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: UnreadableRunFile

    public init(_ file: UnreadableRunFile) { self.file = file }

    public var description: String {
        "cannot resume: \(file); its repetition is not measured again and the file is not overwritten: restore it, "
            + "or move it away for the repetition to be measured anew"
    }
}
