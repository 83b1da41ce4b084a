import Foundation

/// The crypto-only floor of a tunnel's CPU cost, measured on a gateway: OpenSSL's
/// ChaCha20-Poly1305 (the library wireguard-swift's datapath seals with) sealing, then opening,
/// packets of the tunnel's size on one core, for a second each. `openssl speed -aead` runs the
/// TLS-like sequence (a fresh nonce, additional data and the tag per packet), which is a data
/// message's work; with `-decrypt` it checks the tag too. `-mr` makes the output machine-readable
/// (`+F:<n>:<cipher>:<bytes per second>`), and OpenSSL divides by the user CPU time it used, so
/// a busy machine yields CPU-seconds per GB, not wall time.
///
/// Measured on the gateway, not the controller: a laptop's floor next to a server's cost misleads.
public enum CryptoFloorCommands {
    public static let cipher = "chacha20-poly1305"

    /// The machine's name, OpenSSL's version, then both measurements, each under an `@section`
    /// line (`ShellScripts.cryptoFloor`). It succeeds whatever happens; `parse` tells a floor from its absence.
    public static func measure(packetBytes: Int = 1420, seconds: Int = 1) -> HostOperation {
        .read(.cryptoFloor(packetBytes: packetBytes, seconds: seconds))
    }

    /// What one gateway's run of `measure` found.
    public enum Outcome: Sendable, Equatable {
        case measured(CPUCostContext.Floor)
        case unavailable(CPUCostContext.UnavailableFloor)
    }

    /// Reads `measure`'s output from the machine standing for `roles`; the host is `fallbackHost`
    /// where the output does not name it.
    public static func parse(_ output: String, roles: [String], packetBytes: Int = 1420, fallbackHost: String) -> Outcome {
        var sections: [String: [Substring]] = [:]
        var current = ""
        var host = fallbackHost, tool: String?
        for line in output.split(separator: "\n") {
            if line.hasPrefix("@host ") {
                let name = line.dropFirst(6).trimmingCharacters(in: .whitespaces)
                if !name.isEmpty { host = name }
            } else if line.hasPrefix("@tool ") {
                tool = String(line.dropFirst(6))
            } else if line.hasPrefix("@unavailable ") {
                return .unavailable(.init(host: host, roles: roles, reason: String(line.dropFirst(13))))
            } else if line == "@seal" || line == "@open" {
                current = String(line.dropFirst())
            } else if !current.isEmpty {
                sections[current, default: []].append(line)
            }
        }
        let unavailable = { (reason: String) in Outcome.unavailable(.init(host: host, roles: roles, reason: reason)) }
        var rates: [String: Double] = [:]
        for what in ["seal", "open"] {
            switch rate(sections[what] ?? [], packetBytes: packetBytes) {
            case .success(let bytesPerSecond): rates[what] = bytesPerSecond
            case .failure(let reason): return unavailable("openssl speed (\(what == "seal" ? "sealing" : "opening")): \(reason.description)")
            }
        }
        return .measured(.init(host: host, roles: roles, tool: tool, packetBytes: packetBytes,
                               sealSecondsPerGB: 1e9 / rates["seal"]!, openSecondsPerGB: 1e9 / rates["open"]!, output: output))
    }

    struct Unreadable: Error, CustomStringConvertible {
        let description: String
    }

    /// Bytes per CPU-second from one `openssl speed -mr` run: `+H:<sizes>` and `+F:<n>:<name>:<rates>`.
    static func rate(_ lines: [Substring], packetBytes: Int) -> Result<Double, Unreadable> {
        let messages = lines.filter { !$0.hasPrefix("+") && !$0.hasPrefix("@failed") }
        if let failed = lines.first(where: { $0.hasPrefix("@failed") }) {
            let tail = messages.prefix(2).joined(separator: "; ")
            return .failure(Unreadable(description: "exited \(failed.dropFirst(8))" + (tail.isEmpty ? "" : ": \(tail)")))
        }
        guard let sizes = lines.first(where: { $0.hasPrefix("+H:") })?.dropFirst(3).split(separator: ":").map({ Int($0) }),
              let rates = lines.first(where: { $0.hasPrefix("+F:") })?.split(separator: ":", omittingEmptySubsequences: false).dropFirst(3),
              sizes.count == rates.count, let index = sizes.firstIndex(of: packetBytes) else {
            return .failure(Unreadable(description: "no +H/+F lines for \(packetBytes)-byte packets in its output"))
        }
        guard let bytesPerSecond = Double(rates[rates.startIndex + index]), bytesPerSecond > 0, bytesPerSecond.isFinite else {
            return .failure(Unreadable(description: "no positive rate in '+F:...:\(rates[rates.startIndex + index])'"))
        }
        return .success(bytesPerSecond)
    }
}
