import CPUSets
import Foundation

/// Parses and prints Linux CPU lists such as `0-3,8,10-11` (sysfs cpulist, lscpu, taskset -c).
public enum CPUList {
    /// The CPUs of a list such as `0-3,8`; nil if it is not one. The rules are `LinuxCPUList`'s,
    /// shared with the daemon's flags.
    public static func parse(_ text: String) -> [Int]? { LinuxCPUList.parse(text) }

    /// The shortest form: consecutive CPUs become ranges.
    public static func format(_ cpus: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        let sorted = Array(Set(cpus)).sorted()
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count, sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts.append(end == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    /// A hex CPU mask as sysfs writes it: 32-bit groups, most significant first, separated by commas
    /// (`4` for CPU 2, `1,00000000` for CPU 32).
    public static func hexMask(_ cpus: [Int]) -> String {
        guard let highest = cpus.max() else { return "0" }
        var groups = [UInt32](repeating: 0, count: highest / 32 + 1)
        for cpu in cpus where cpu >= 0 { groups[cpu / 32] |= 1 << UInt32(cpu % 32) }
        let reversed = groups.reversed().map { String($0, radix: 16) }
        return ([reversed[0]] + reversed.dropFirst().map { String(repeating: "0", count: 8 - $0.count) + $0 }).joined(separator: ",")
    }

    /// Reads `hexMask`'s form back, as sysfs prints it (`0000ffff`, `ffffffff,00000000`); nil if it is not one.
    public static func parseHexMask(_ text: String) -> [Int]? {
        let groups = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",", omittingEmptySubsequences: false)
        guard !groups.isEmpty else { return nil }
        var cpus: [Int] = []
        for (index, group) in groups.reversed().enumerated() {
            guard !group.isEmpty, group.count <= 8, let bits = UInt32(group, radix: 16) else { return nil }
            for bit in 0..<32 where bits & (1 << UInt32(bit)) != 0 { cpus.append(index * 32 + bit) }
        }
        return cpus
    }
}
