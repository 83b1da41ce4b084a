import Foundation

/// Claims whose points are chosen along a swept variable (`ClaimAcross`): a series' peak, every
/// point, the interpolated point where a series reaches another's peak, and crossovers. Each is
/// resolved into measures at concrete points of the sweep, which `Measuring.measure(_:)` reads.
extension Measuring {
    /// Measures a claim, resolving its subjects' `across` first.
    func measure(_ measure: ClaimMeasure, expecting expectation: ClaimExpectation) throws(Unmeasured) -> Measured {
        if case .crossover = measure { return try self.measure(measure) }
        if let variable = measure.subjects.lazy.compactMap({ subject -> String? in
            if case .every(let variable) = subject.across { return variable }
            return nil
        }).first {
            return try every(measure, variable: variable, expecting: expectation)
        }
        // Each (measure at concrete points, weight): one, or two for an interpolated point.
        var parts: [(ClaimMeasure, Double)] = [(measure, 1)]
        var notes: [String] = []
        for (index, subject) in measure.subjects.enumerated() {
            switch subject.across {
            case nil, .every: continue
            case .peak(let variable):
                let peak = try self.peak(subject, along: variable)
                parts = parts.map { (Self.replacing(index, in: $0.0, with: subject.at(variable, peak.value)), $0.1) }
                notes.append("\(subject.series)'s peak is at \(variable)=\(peak.value) (\(ClaimExpectation.format(peak.gbps)) Gbit/s)")
            case .reaching(let variable, let target):
                let point = try reaching(subject, along: variable, peakOf: target)
                parts = parts.flatMap { part in [
                    (Self.replacing(index, in: part.0, with: subject.at(variable, point.below)), part.1 * (1 - point.weight)),
                    (Self.replacing(index, in: part.0, with: subject.at(variable, point.above)), part.1 * point.weight),
                ].filter { $0.1 > 0 } }
                notes.append(point.note)
            }
        }
        let measured = try parts.map { part throws(Unmeasured) in (try self.measure(part.0), part.1) }
        guard measured.count > 1 || !notes.isEmpty else { return measured[0].0 }
        let sum = { (field: (Measured) -> Double) in measured.map { field($0.0) * $0.1 }.reduce(0, +) }
        return Measured(value: sum(\.value), low: sum(\.low), high: sum(\.high),
                        method: measured[0].0.method + (measured.count > 1 ? "; linearly interpolated between the two points around it" : ""),
                        note: (notes + measured.map(\.0.note)).joined(separator: "; "))
    }

    /// The measure with its `index`-th subject replaced.
    static func replacing(_ index: Int, in measure: ClaimMeasure, with subject: ClaimSubject) -> ClaimMeasure {
        var seen = -1
        return measure.mapSubjects { old in
            seen += 1
            return seen == index ? subject : old
        }
    }

    /// The numeric values of a swept variable, ascending, as written.
    func values(of variable: String) -> [String] {
        (spec.sweep.first { $0.name == variable }?.values ?? []).sorted { (Double($0) ?? 0) < (Double($1) ?? 0) }
    }

    /// Mean throughput (Gbit/s) of a subject's series at each value of `variable` that has one.
    func throughputs(_ subject: ClaimSubject, along variable: String) -> [(value: String, gbps: Double)] {
        values(of: variable).compactMap { value in
            (try? mean(subject.at(variable, value)) { $0.throughput.map { $0 / 1e9 } }).map { (value, $0.value) }
        }
    }

    func peak(_ subject: ClaimSubject, along variable: String) throws(Unmeasured) -> (value: String, gbps: Double) {
        guard let best = throughputs(subject, along: variable).max(by: { $0.gbps < $1.gbps }) else {
            throw Unmeasured(text: "no throughput of \(subject.series) at any \(variable)")
        }
        return best
    }

    /// The first point where the subject's mean throughput reaches `target`'s peak: the values
    /// below and above it and the weight of the one above.
    func reaching(_ subject: ClaimSubject, along variable: String, peakOf target: String) throws(Unmeasured)
        -> (below: String, above: String, weight: Double, note: String) {
        let goal = try peak(ClaimSubject(series: target, point: subject.point), along: variable)
        let curve = throughputs(subject, along: variable)
        guard let index = curve.firstIndex(where: { $0.gbps >= goal.gbps }) else {
            let own = curve.max { $0.gbps < $1.gbps }
            throw Unmeasured(text: "\(subject.series) never reaches \(target)'s peak of \(ClaimExpectation.format(goal.gbps)) Gbit/s"
                             + (own.map { " (its own peak: \(ClaimExpectation.format($0.gbps)) Gbit/s at \(variable)=\($0.value))" } ?? ""))
        }
        let note = "\(target)'s peak: \(ClaimExpectation.format(goal.gbps)) Gbit/s at \(variable)=\(goal.value)"
        guard index > 0 else { return (curve[0].value, curve[0].value, 0, note + "; \(subject.series) reaches it at \(variable)=\(curve[0].value)") }
        let (low, high) = (curve[index - 1], curve[index])
        let weight = (goal.gbps - low.gbps) / (high.gbps - low.gbps)
        let x = (Double(low.value) ?? 0) + weight * ((Double(high.value) ?? 0) - (Double(low.value) ?? 0))
        return (low.value, high.value, weight, note + "; \(subject.series) reaches it at \(variable)≈\(ClaimExpectation.format(x))")
    }

    /// The claim at each value of `variable`; the value shown is the point closest to failing
    /// (or failing most), so the verdict holds only where it holds at every point measured.
    func every(_ measure: ClaimMeasure, variable: String, expecting expectation: ClaimExpectation) throws(Unmeasured) -> Measured {
        var measured: [(value: String, result: Measured)] = []
        var missing: [String] = []
        for value in values(of: variable) {
            let concrete = measure.mapSubjects { subject in
                if case .every = subject.across { return subject.at(variable, value) }
                return subject
            }
            do { measured.append((value, try self.measure(concrete, expecting: expectation))) } catch { missing.append(value) }
        }
        guard let worst = measured.min(by: { expectation.margin($0.result.value) < expectation.margin($1.result.value) }) else {
            throw Unmeasured(text: "not measured at any \(variable)")
        }
        let failing = measured.filter { !expectation.holds($0.result.value) }.map(\.value)
        var result = worst.result
        result.note = (failing.isEmpty ? "holds at all \(measured.count) \(variable) measured" : "fails at \(variable) \(failing.joined(separator: ", "))")
            + "; shown: the closest to failing, at \(variable)=\(worst.value) (\(worst.result.note))"
            + (missing.isEmpty ? "" : "; not measured at \(variable) \(missing.joined(separator: ", "))")
        return result
    }

    /// Where `of`'s mean throughput first crosses `over`'s along the variable: the first change
    /// of sign of their difference, linearly interpolated. With no crossing, the last value
    /// measured (the one series stays ahead throughout), which no "between" expectation meets.
    func crossover(_ of: ClaimSubject, over: ClaimSubject) throws(Unmeasured) -> Measured {
        guard let variable = of.across?.variable else { throw Unmeasured(text: "a crossover needs a swept variable") }
        let a = Dictionary(throughputs(of, along: variable).map { ($0.value, $0.gbps) }, uniquingKeysWith: { x, _ in x })
        let b = Dictionary(throughputs(over, along: variable).map { ($0.value, $0.gbps) }, uniquingKeysWith: { x, _ in x })
        let common = values(of: variable).filter { a[$0] != nil && b[$0] != nil }
        let differences = common.map { (x: Double($0) ?? 0, d: a[$0]! - b[$0]!) }
        guard let first = differences.first(where: { $0.d != 0 }) else {
            throw Unmeasured(text: "\(of.series) and \(over.series) are not both measured (and different) at any \(variable)")
        }
        let ahead = first.d > 0 ? "above" : "below"
        let method = "linear interpolation of the mean throughputs between the two \(variable) around the change of sign; no interval"
        guard let index = differences.firstIndex(where: { ($0.d > 0) != (first.d > 0) && $0.d != 0 }) else {
            let last = differences.last!.x
            return Measured(value: last, low: last, high: last, method: method,
                            note: "no crossing: \(of.series) stays \(ahead) \(over.series) at every \(variable) measured (shown: the last, \(ClaimExpectation.format(last)))")
        }
        let (low, high) = (differences[index - 1], differences[index])
        let x = low.x + (high.x - low.x) * low.d / (low.d - high.d)
        return Measured(value: x, low: x, high: x, method: method,
                        note: "\(of.series) \(ahead) \(over.series) up to \(variable)=\(ClaimExpectation.format(low.x)), "
                            + "\(ahead == "above" ? "below" : "above") from \(ClaimExpectation.format(high.x))")
    }
}

extension ClaimExpectation {
    /// How far a value is inside the expectation (negative: outside), in the value's units.
    func margin(_ value: Double) -> Double {
        switch self {
        case .about(let target, let tolerance): return tolerance * abs(target) - abs(value - target)
        case .above(let bound): return value - bound
        case .below(let bound): return bound - value
        case .between(let low, let high): return min(value - low, high - value)
        }
    }
}
