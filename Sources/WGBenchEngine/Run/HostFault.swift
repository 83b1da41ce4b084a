import Foundation
import WGBenchCore
import WGBenchRemote

/// A host the run can no longer reach (its sshd gone, the machine down, the network cut): the
/// circuit breaker. Retrying repetitions against it would only record them all as failed, and
/// resume would then count them as done; the run stops instead, at the first such host.
public struct HostLost: Error, CustomStringConvertible, Sendable {
    public let host: HostRole
    /// The error that lost it, after the reconnect attempts.
    public let reason: String

    public var description: String { "lost host \(host): \(reason)" }
}

enum HostFault {
    /// How often, and how far apart, a host that broke a session is tried again before it counts as lost.
    static let reconnectAttempts = 3
    static let reconnectPause: useconds_t = 1_000_000

    /// The host whose connection failed, if `error` is one: not a command that failed or timed
    /// out (the host answered), but one that could not be reached or whose session broke.
    static func host(of error: Error) -> HostRole? {
        guard let remote = error as? RemoteError else { return nil }
        switch remote {
        case .unreachable(let host, _, _, _), .hostKeyRejected(let host, _, _), .authenticationFailed(let host, _, _, _),
             .sessionFailed(let host, _, _):
            return HostRole(rawValue: host)
        case .commandFailed, .timedOut, .unreadableAnswer:
            return nil
        }
    }

    /// After a transport error: tries the host again (each try opens a new session) and returns
    /// `HostLost` if it stays away, nil if it answers again.
    static func confirmLost(_ role: HostRole, host: RemoteHost, error: Error, pause: useconds_t = reconnectPause,
                            log: (String) -> Void) -> HostLost? {
        var last = "\(error)"
        for attempt in 1...reconnectAttempts {
            usleep(pause)
            do {
                try host.check(.nothing)
                log("\(role) answers again (reconnect \(attempt) of \(reconnectAttempts))")
                return nil
            } catch {
                guard Self.host(of: error) != nil else { return nil }  // it answered, with a failure
                last = "\(error)"
            }
        }
        return HostLost(host: role, reason: last + " (and \(reconnectAttempts) reconnect attempts)")
    }
}
