import CPUSets
import Testing

/// The one CPU-list rule set, as a table of numbered cases (input, CPUs or nil for refused).
struct LinuxCPUListTests {
    static let cases: [(Int, String, [Int]?)] = [
        (1, "0", [0]),
        (2, "0-3,8", [0, 1, 2, 3, 8]),
        (3, "10-11,2", [10, 11, 2]),  // the order written
        (4, "3-3", [3]),
        (5, "0-1\n", [0, 1]),  // sysfs's trailing newline
        (6, "  5 ", [5]),
        (7, "", []),  // a node without CPUs
        (8, "\n", []),
        (9, "4095", [4095]),
        (10, "4096", nil),  // past maxCPU
        (11, "0-4096", nil),
        (12, "3-1", nil),
        (13, "1,,2", nil),
        (14, "1,", nil),
        (15, "-1", nil),
        (16, "1-2-3", nil),
        (17, "+3", nil),
        (18, "a", nil),
        (19, "1, 2", nil),  // whitespace inside the list
        (20, "0-7:2", nil),
        (21, "99999999999999999999", nil),
    ]

    @Test func numberedCases() {
        for (number, text, expected) in Self.cases {
            #expect(LinuxCPUList.parse(text) == expected, "case \(number): \(text.debugDescription)")
        }
    }
}
