import Foundation

/// What wgbench takes from one iperf3 JSON result; the JSON itself is kept raw.
public struct Iperf3Result: Codable, Sendable, Equatable {
    /// Goodput at the receiver, bits/s (TCP: end.sum_received; UDP: end.sum).
    public var bitsPerSecond: Double?
    /// What the sender sent, bits/s.
    public var sentBitsPerSecond: Double?
    public var retransmits: Int?
    /// UDP only.
    public var lostPercent: Double?
    /// iperf3's own error, e.g. "unable to connect to server: Connection refused".
    public var error: String?
    /// The measured seconds (without the omitted warm-up).
    public var seconds: Double?

    public init(bitsPerSecond: Double? = nil, sentBitsPerSecond: Double? = nil, retransmits: Int? = nil,
                lostPercent: Double? = nil, error: String? = nil, seconds: Double? = nil) {
        self.bitsPerSecond = bitsPerSecond
        self.sentBitsPerSecond = sentBitsPerSecond
        self.retransmits = retransmits
        self.lostPercent = lostPercent
        self.error = error
        self.seconds = seconds
    }
}

public enum Iperf3Parser {
    public static func parse(_ text: String) -> Iperf3Result? {
        guard let data = text.data(using: .utf8),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        var result = Iperf3Result()
        result.error = root["error"] as? String
        guard let end = root["end"] as? [String: Any] else { return result }
        let received = end["sum_received"] as? [String: Any]
        let sent = end["sum_sent"] as? [String: Any]
        let sum = end["sum"] as? [String: Any]
        let isUDP = ((root["start"] as? [String: Any])?["test_start"] as? [String: Any])?["protocol"] as? String == "UDP"
        if isUDP, let sum {
            result.bitsPerSecond = number(sum["bits_per_second"])
            result.lostPercent = number(sum["lost_percent"])
            result.seconds = number(sum["seconds"])
        } else {
            result.bitsPerSecond = number(received?["bits_per_second"])
            result.seconds = number(received?["seconds"])
        }
        result.sentBitsPerSecond = number(sent?["bits_per_second"])
        result.retransmits = (sent?["retransmits"] as? NSNumber)?.intValue
        return result
    }

    private static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }
}
