import Foundation

/// `ethtool -i <nic>`: the driver behind an interface.
public struct DriverInfo: Codable, Hashable, Sendable {
    public var driver: String
    public var version: String
    public var firmware: String
    public var busInfo: String
}

/// Whether a NIC can steer flows to queues (`ntuple-filters` in `ethtool -k`).
public enum NtupleSupport: String, Codable, Sendable {
    /// Supported and switched on.
    case enabled
    /// Supported, currently off (`ethtool -K <nic> ntuple on` switches it on).
    case disabled
    /// `[fixed]` off: the driver cannot do it (veth, for one).
    case unsupported
    /// The feature is not listed at all.
    case unknown
}

public struct Feature: Hashable, Sendable {
    public var on: Bool
    public var fixed: Bool
}

public enum EthtoolParser {
    public static func driverInfo(_ text: String) -> DriverInfo? {
        let fields = keyValues(text)
        guard let driver = fields["driver"], !driver.isEmpty else { return nil }
        return DriverInfo(driver: driver, version: fields["version"] ?? "",
                          firmware: fields["firmware-version"] ?? "", busInfo: fields["bus-info"] ?? "")
    }

    /// `ethtool -k <nic>`: every feature with its state; `[fixed]` means it cannot be changed.
    public static func features(_ text: String) -> [String: Feature] {
        var features: [String: Feature] = [:]
        for (key, value) in keyValues(text) {
            let words = value.split(separator: " ")
            guard let state = words.first, state == "on" || state == "off" else { continue }
            features[key] = Feature(on: state == "on", fixed: value.contains("[fixed]"))
        }
        return features
    }

    public static func ntuple(_ features: [String: Feature]) -> NtupleSupport {
        guard let feature = features["ntuple-filters"] else { return .unknown }
        if feature.on { return .enabled }
        return feature.fixed ? .unsupported : .disabled
    }

    /// `ls /sys/class/net/<nic>/queues`: the numbers of rx and tx queues.
    public static func queueCounts(_ listing: String) -> (rx: Int, tx: Int) {
        let names = listing.split(whereSeparator: \.isWhitespace)
        return (names.filter { $0.hasPrefix("rx-") }.count, names.filter { $0.hasPrefix("tx-") }.count)
    }

    static func keyValues(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil {
                fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return fields
    }
}

/// Tool versions from the first line of `--version`.
public enum VersionParser {
    /// `iperf 3.12 (cJSON 1.7.15)` -> `3.12`; `wireguard-tools v1.0.20210914 - https://...` -> `v1.0.20210914`;
    /// `wireguard-go v0.0.20220316` -> `v0.0.20220316`; `ethtool version 6.1` -> `6.1`;
    /// `ip utility, iproute2-6.1.0, libbpf 1.1.2` -> `6.1.0`.
    public static func version(_ text: String) -> String? {
        guard let line = text.split(separator: "\n").first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
        else { return nil }
        for rawWord in line.split(separator: " ") {
            let word = rawWord.trimmingCharacters(in: CharacterSet(charactersIn: ",;()"))
            // `name-1.2.3`: the version follows the last dash.
            let tail = word.split(separator: "-").last.map(String.init) ?? word
            for candidate in [word, tail] where candidate.utf8.allSatisfy(isVersionCharacter) {
                let digits = candidate.hasPrefix("v") ? candidate.dropFirst() : candidate[...]
                if let first = digits.first, first.isNumber, digits.contains(".") { return candidate }
            }
        }
        return nil
    }

    /// What a version is made of (`1.0.20210914`, `6.1.0-rc1`, `2.1+git~3`): anything else is not a version.
    static func isVersionCharacter(_ c: UInt8) -> Bool { isAlphanumeric(c) || Array(".-+~_:".utf8).contains(c) }
}
