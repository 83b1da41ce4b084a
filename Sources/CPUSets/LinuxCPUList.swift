/// Linux CPU lists such as `0-3,8,10-11`, as sysfs `cpulist` files, lscpu and `taskset -c` write
/// them: the one parser of both the harness (topology read from hosts, placement) and the daemon
/// (`--encrypt-cpus` and friends), so that a list means the same on both sides.
///
/// The rules, chosen once:
/// - Whitespace around the whole list is ignored (sysfs ends its files with a newline); inside
///   it, none is allowed.
/// - An empty list is the empty set: sysfs writes one for a node without CPUs. A caller for which
///   no CPU makes no sense (a daemon flag) refuses it itself.
/// - Each part is `N` or `L-H` with L <= H; no empty parts, no signs, no stride (`0-7:2`).
/// - CPU numbers are 0 to `maxCPU` (4095): the kernel's largest NR_CPUS is 8192, but no host
///   of ours comes near, and a typo such as `0-40000` must not become 40 000 threads.
public enum LinuxCPUList {
    /// The highest CPU number accepted.
    public static let maxCPU = 4095

    /// The CPUs of `text`, in the order written (duplicates kept); nil if it is not a CPU list.
    public static func parse(_ text: String) -> [Int]? {
        let trimmed = trimmingWhitespace(text)
        if trimmed.isEmpty { return [] }
        var cpus: [Int] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let low = cpu(bounds[0]), let high = cpu(bounds[bounds.count - 1]),
                  low <= high else { return nil }
            cpus.append(contentsOf: low...high)
        }
        return cpus
    }

    /// One CPU number: decimal digits only (Int() alone would take `+3`), at most `maxCPU`.
    private static func cpu(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 4, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
              let value = Int(text), value <= maxCPU else { return nil }
        return value
    }

    private static func trimmingWhitespace(_ text: String) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
        return text[first...last]
    }
}
