import Glibc

/// A system call that failed: which call, and its errno.
public struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    public let call: String
    public let code: Int32

    public init(call: String, code: Int32) {
        self.call = call
        self.code = code
    }

    public var description: String { "\(call): \(String(cString: strerror(code)))" }
}
