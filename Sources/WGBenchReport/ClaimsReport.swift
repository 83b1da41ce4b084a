import Foundation
import WGBenchCore

/// The paper's claims as checked against a run (`Claims.evaluate`), for the terminal and for
/// the HTML report: "improved / vanilla throughput: paper about 1.45, measured 1.38 ± 0.04, holds".
public enum ClaimsReport {
    /// How the report reads its numbers, said once under the table.
    static let method = "Measured values are means over the successful repetitions with Student's t 95% confidence intervals; "
        + "a ratio is the ratio of the two means, its interval by the delta method, r·√((ci_a/a)² + (ci_b/b)²) (the two sides taken as independent); "
        + "a black-hole share is the fraction of repetitions with a black hole on the host, with a 95% Wilson score interval. "
        + "The verdict compares the measured value with the paper's (about: within the tolerance, 20% unless the claim says otherwise); "
        + "the interval shows how firm that is."

    /// "1.38 ± 0.04", "99.2 ± 0.6% busy", "0.70 (95% CI 0.40-0.89) of repetitions"; "-" when nothing was measured.
    public static func measured(_ result: ClaimResult) -> String {
        guard let value = result.value else { return "-" }
        let unit = result.claim.measure.unit
        let digits = unit == "% busy" ? "%.1f" : "%.2f"
        let number = { (value: Double) in String(format: digits, value) }
        if case .blackHole = result.claim.measure, let low = result.low, let high = result.high {
            return "\(number(value)) (95% CI \(number(low))-\(number(high))) \(unit)"
        }
        return with(unit, number(value) + (result.halfWidth.map { " ± \(number($0))" } ?? ""))
    }

    /// "about 1.45 (±10%)", with the unit: "above 7 Gbit/s", "above 90% busy".
    public static func expected(_ claim: ClaimSpec) -> String {
        with(claim.measure.unit, claim.expectation.description)
    }

    /// A percentage sign follows its number; other units stand apart.
    static func with(_ unit: String, _ text: String) -> String {
        unit.isEmpty ? text : text + (unit.hasPrefix("%") ? "" : " ") + unit
    }

    /// A numbered table, then the paper's words by number, then the method.
    public static func text(_ results: [ClaimResult]) -> String {
        guard !results.isEmpty else { return "" }
        let rows = results.enumerated().map { index, result in
            [String(index + 1), result.label, expected(result.claim), measured(result), result.verdict.rawValue, result.note]
        }
        let words = results.enumerated().map { "  \($0.offset + 1). \($0.element.claim.paper)" }.joined(separator: "\n")
        let tally = [ClaimResult.Verdict.holds, .doesNotHold, .notMeasured].map { verdict in
            "\(results.filter { $0.verdict == verdict }.count) \(verdict.rawValue)"
        }.joined(separator: ", ")
        return TextTable.render([["#", "claim", "paper", "measured", "verdict", "from"]] + rows, rightAligned: [0])
            + "\nThe paper's words:\n\(words)\n\(results.count) claims: \(tally).\n"
    }

    public static func html(_ results: [ClaimResult]) -> String {
        guard !results.isEmpty else { return "" }
        var html = "<h2>The paper's claims</h2>\n<table class=\"claims\">\n"
            + "<tr><th>the paper says</th><th>measured as</th><th>paper</th><th>measured (95% CI)</th><th>verdict</th><th>from</th></tr>\n"
        for result in results {
            let style: String
            switch result.verdict {
            case .holds: style = "ok"
            case .doesNotHold: style = "failed"
            case .notMeasured: style = "unsupported"
            }
            html += "<tr><td>\(esc(result.claim.paper))</td><td>\(esc(result.label))</td><td>\(esc(expected(result.claim)))</td>"
                + "<td class=\"num\" title=\"\(esc(result.method))\">\(esc(measured(result)))</td>"
                + "<td class=\"\(style)\">\(esc(result.verdict.rawValue))</td><td>\(esc(result.note))</td></tr>\n"
        }
        return html + "</table>\n<p><small>\(esc(method))</small></p>\n"
    }

    static func esc(_ text: String) -> String { SVG.escape(text) }
}
