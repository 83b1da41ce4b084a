/// A run.json that `--resume` must not trust: its id ends up in `rm -rf /run/wgbench/runs/<id>` on
/// every host, and series and point names in paths here and there, so anything that could climb
/// out of its directory (`../../..`) or is not what wgbench itself writes is refused.
public struct RunRecordError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let field: String
    public let value: String
    public let expectation: String
    /// What was refused: `resume it` (`wgbench run --resume`), `read it` (report, compare, history).
    public let action: String

    public init(file: String, field: String, value: String, expectation: String, action: String = "resume it") {
        self.file = file
        self.field = field
        self.value = value
        self.expectation = expectation
        self.action = action
    }

    public var description: String {
        "\(file): \(field) '\(value)' is not \(expectation); wgbench did not write this run.json, refusing to \(action)"
    }
}

extension RunRecord {
    /// The characters of a run id: what `ExperimentRunner.newRecord` makes (`<name>-<UTC time>`).
    public static func isValidID(_ id: String) -> Bool {
        guard (1...100).contains(id.utf8.count), let first = id.utf8.first, isAlphanumeric(first) else { return false }
        return id.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
            && !id.contains("..")
    }

    /// Checks every value of the record that becomes part of a path or a remote command line;
    /// `action` says in the refusal what the caller was about to do with it.
    public func validate(file: String, action: String = "resume it") throws(RunRecordError) {
        func refuse(_ field: String, _ value: String, _ expectation: String) -> RunRecordError {
            RunRecordError(file: file, field: field, value: value, expectation: expectation, action: action)
        }
        guard Self.isValidID(id) else { throw refuse("id", id, "a run id (1-100 of A-Z a-z 0-9 _ - ., starting with a letter or digit, no ..)") }
        guard order.count <= InputLimits.maxRepetitions else {
            throw refuse("order", "\(order.count) repetitions", "at most \(InputLimits.maxRepetitions) repetitions")
        }
        for series in spec.series where Identifier(specText: series.name) == nil {
            throw refuse("spec.series.name", series.name, Identifier.expectation)
        }
        // The report names plots and CSV columns after the sweep's variables.
        for variable in spec.sweep {
            guard Self.isSweepVariableName(variable.name) else { throw refuse("spec.sweep", variable.name, "a sweep variable name (a-z 0-9 _)") }
            for value in variable.values {
                if let expectation = Self.sweepValueProblem(name: variable.name, value: value) {
                    throw refuse("spec.sweep.\(variable.name)", value, expectation)
                }
            }
        }
        for (index, key) in order.enumerated() {
            guard Identifier(specText: key.series) != nil else { throw refuse("order[\(index)].series", key.series, Identifier.expectation) }
            guard key.repetition >= 1 else { throw refuse("order[\(index)].repetition", String(key.repetition), "a repetition from 1") }
            for assignment in key.point.assignments {
                guard Self.isSweepVariableName(assignment.name) else { throw refuse("order[\(index)].point", assignment.name, "a sweep variable name (a-z 0-9 _)") }
                // A value becomes a folder name only encoded (`Point.directoryName`), so a path is
                // fine here; what is checked is that it is a value the experiment file could give.
                if let expectation = Self.sweepValueProblem(name: assignment.name, value: assignment.value) {
                    throw refuse("order[\(index)].point.\(assignment.name)", assignment.value, expectation)
                }
            }
            guard PathPartEncoding.isSafe(key.point.directoryName) else {
                throw refuse("order[\(index)].point", key.point.id, "a point whose folder name stays one folder")
            }
        }
    }

    static func isSweepVariableName(_ name: String) -> Bool {
        isSafePathPart(name) && name.utf8.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "_") }
    }

    /// What is wrong with a swept value, as the experiment decoder would have said; nil if nothing.
    static func sweepValueProblem(name: String, value: String) -> String? {
        guard (1...maxSweepValueBytes).contains(value.utf8.count), !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else {
            return "a sweep value (1-\(maxSweepValueBytes) bytes, no control character)"
        }
        if ["tunnels", "flows", "flows_per_tunnel"].contains(name), (Int(value) ?? 0) < 1 { return "a count from 1" }
        if let knob = Knob(rawValue: name) {
            do { _ = try knob.parse(value) } catch { return "a value of knob \(name) (\(error.message))" }
        }
        return nil
    }

    /// A program path's limit (PATH_MAX) is the longest value a knob takes.
    static let maxSweepValueBytes = 4096

    /// Part of a file name: no separator, no control character, not `.` or `..`.
    static func isSafePathPart(_ text: String) -> Bool {
        (1...100).contains(text.utf8.count) && text != "." && text != ".."
            && !text.utf8.contains { $0 == UInt8(ascii: "/") || $0 < 0x20 || $0 == 0x7f }
    }
}
