import PreflightEngine

/// The registry of rules: running them and explaining them.
public enum Rules {
    /// Every rule, in the order `check` lists them within a verdict. The one list of rules: each is declared
    /// (texts, settings, evaluate function) in its own file under Rules/; adding a rule is declaring it and
    /// naming it here.
    public static let all: [Rule] = [
        .saturation, .hiddenScale, .initLoss, .deadUnits, .symmetry, .actSaturation, .gradVanish, .gradExplode,
        .updateRatio, .nonfinite, .inputRange, .outputUnits, .classBalance,
        .lossTrend, .divergence, .oscillation, .slow, .overfitting,
    ]

    private static let byID: [String: Rule] = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })

    /// The rule with this id (case-insensitive, `_` for `-`, an optional "check." prefix allowed).
    public static func named(_ id: String) -> Rule? { byID[normalize(id)] }

    static func normalize(_ id: String) -> String {
        var k = String(id.trimmingWhitespace().lowercased().map { $0 == "_" ? "-" : $0 })
        if k.hasPrefix("check.") { k.removeFirst(6) }
        return k
    }

    /// Runs the rules (all, or those in `only`; unknown ids are ignored) and ranks the findings:
    /// fail first, then warn, not-run, ok; within a verdict in the order of `all`.
    public static func evaluate(_ input: CheckInput, thresholds: Thresholds, only: [String]? = nil) -> [Finding] {
        let wanted = only.map { Set($0.map(normalize)) }
        var out: [Finding] = []
        for rule in all {
            if let wanted, !wanted.contains(rule.id) { continue }
            let c = RuleContext(input: input, t: thresholds, rule: rule)
            var f: Finding
            if !thresholds.isEnabled(rule.id) {
                f = c.notRun("disabled by set check.\(rule.id) off")
            } else {
                f = rule.evaluate(c)
            }
            if f.verdict == .ok { f.hint = "" }
            if f.verdict != .notRun { f.reason = "" }
            if let v = f.value, !v.isFinite { f.value = nil }
            if let v = f.threshold, !v.isFinite { f.threshold = nil }
            out.append(f)
        }
        return out.enumerated().sorted { a, b in
            a.element.verdict != b.element.verdict ? a.element.verdict > b.element.verdict : a.offset < b.offset
        }.map(\.element)
    }

    /// What the rule measures, why it matters, where its thresholds come from (with the values in
    /// force under the default settings), and what to try. nil for an unknown rule.
    public static func explain(_ id: String) -> String? { explain(id, thresholds: .defaults) }

    /// `explain` with the session's thresholds in force.
    public static func explain(_ id: String, thresholds: Thresholds) -> String? {
        guard let r = named(id) else { return nil }
        let d = Thresholds.defaults
        var lines: [String] = []
        lines.append("\(r.id) — \(r.title)" + (thresholds.isEnabled(r.id) ? "" : "  [off: set check.\(r.id) on]"))
        lines.append("Measures: \(r.measures)")
        lines.append("Why it matters: \(r.why)")
        lines.append("Source: \(r.source)")
        if r.settings.isEmpty {
            lines.append("Thresholds: none; the rule only has check.\(r.id) on|off (now \(thresholds.describe("check.\(r.id)"))).")
        } else {
            lines.append("Thresholds in force (set check.\(r.id).NAME VALUE):")
            let width = r.settings.map { "check.\(r.id).\($0.name) = \(thresholds.describe("check.\(r.id).\($0.name)"))".count }.max() ?? 0
            for p in r.settings {
                let key = "check.\(r.id).\(p.name)"
                let now = thresholds.describe(key), def = d.describe(key)
                var l = "\(key) = \(now)"
                l += String(repeating: " ", count: max(0, width - l.count)) + "  \(p.doc)"
                if now != def { l += " (default \(def))" }
                lines.append("  " + l)
            }
        }
        lines.append("Try: \(r.tryThis)")
        return lines.joined(separator: "\n")
    }
}
