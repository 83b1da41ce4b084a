import ArgumentParser
import WGBenchCore

/// A comma-separated list of testbed roles (`source,gw1`), parsed once, where ArgumentParser
/// reads it: an unknown, empty or repeated role is a usage error (exit 2) before the command runs.
public struct HostRoleList: ExpressibleByArgument, Sendable, Equatable, CustomStringConvertible {
    public let roles: [HostRole]

    public init(_ roles: [HostRole]) { self.roles = roles }

    public init?(argument: String) {
        var roles: [HostRole] = []
        for name in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let role = HostRole(rawValue: String(name)), !roles.contains(role) else { return nil }
            roles.append(role)
        }
        self.roles = roles
    }

    public var description: String { roles.map(\.rawValue).joined(separator: ",") }

    public var defaultValueDescription: String { description }
}
