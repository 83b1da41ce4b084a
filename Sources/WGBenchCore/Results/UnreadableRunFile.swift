import Foundation

/// A file of a run directory that is there but could not be read or decoded. A file that is not
/// there means "not measured" (or "not recorded"); one that is there and unreadable is this
/// error, so that no reader takes a damaged result for a missing one.
public struct UnreadableRunFile: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file, as the reader names it (an absolute path for a run directory on disk).
    public let path: String
    /// Why: the read's or the decoder's error.
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path) cannot be read: \(reason)" }
}

extension UnreadableRunFile {
    /// The error of reading or decoding `path`, said as a person fixing the file needs it (where in
    /// the JSON it went wrong, not the decoder's whole context).
    public init(path: String, error: any Error) {
        self.init(path: path, reason: Self.reason(error))
    }

    static func reason(_ error: any Error) -> String {
        // Foundation's read errors say "could not be completed"; the system's reason is underneath.
        if let error = error as? CocoaError {
            if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
                return String(cString: strerror(Int32(underlying.code)))
            }
            return error.localizedDescription
        }
        if let error = error as? POSIXError { return String(cString: strerror(error.code.rawValue)) }
        guard let error = error as? DecodingError else { return "\(error)" }
        let at = { (context: DecodingError.Context) -> String in
            context.codingPath.isEmpty ? "" : " at " + context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .dataCorrupted(let context): return "not valid JSON\(at(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context): return "no \"\(key.stringValue)\"\(at(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "\(context.debugDescription)\(at(context))"
        @unknown default: return "\(error)"
        }
    }
}
