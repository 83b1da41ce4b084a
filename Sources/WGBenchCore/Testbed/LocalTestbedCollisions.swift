/// What `testbed up` must find free on this machine before it makes anything, besides its own
/// names (which `down` would remove): the management network, which another local testbed of
/// another prefix may use already (its bridge holds an address in it, in the root namespace:
/// two bridges in one network make every SSH address ambiguous), and the UAPI sockets its tunnels
/// will have (shared by every namespace).
extension LocalTestbedPlan {
    /// `ip -o -4 addr show` in the root namespace.
    public static let rootAddresses = Command("ip", "-o", "-4", "addr", "show")

    /// Interfaces of the root namespace, other than this testbed's bridge, with an address whose
    /// network meets the management network: `wgbx-mgmt (198.18.250.1/24)`.
    public func managementCollisions(_ ipOutput: String) -> [String] {
        let ours = settings.management.network
        return ipOutput.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 3, let inet = fields.firstIndex(of: "inet"), inet + 1 < fields.count,
                  let address = IPv4Interface(specText: String(fields[inet + 1])) else { return nil }
            let device = String(fields[1]).split(separator: "@").first.map(String.init) ?? String(fields[1])
            guard device != bridge else { return nil }
            let theirs = address.network
            guard ours.contains(theirs) || theirs.contains(ours) else { return nil }
            return "\(device) (\(address))"
        }
    }
}
