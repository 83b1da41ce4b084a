import Foundation

/// A progress or warning line to standard error, prefixed, so standard output stays the result.
@Sendable func say(_ line: String) {
    FileHandle.standardError.write(Data("wgbench: \(line)\n".utf8))
}
