/// One diagnostic rule, declared once: what `explain` says about it, the settings it reads
/// (`check.ID.NAME`, with their defaults and ranges) and the function that judges a run.
/// `Rules.all` lists every rule; the check table, `check RULE`, `explain`, `set check.…`, the
/// export and `preflight check FILE` all work from that list.
public struct Rule: Sendable {
    public let id: String
    /// A short name, e.g. "softmax saturation at the start".
    public let title: String
    /// What the rule measures.
    public let measures: String
    /// Why it matters.
    public let why: String
    /// Where the idea and the default numbers come from.
    public let source: String
    /// What to try when it fires.
    public let tryThis: String
    /// The numbers the rule reads (`check.ID.NAME`); a rule without any has only `check.ID on|off`.
    let settings: [Setting]
    /// Judges one run. Called only when the rule is enabled; `Rules.evaluate` tidies the finding
    /// (no hint when ok, no reason unless not run, non-finite numbers dropped).
    let evaluate: @Sendable (RuleContext) -> Finding

    init(id: String, title: String, measures: String, why: String, source: String, tryThis: String,
         settings: [Setting], evaluate: @escaping @Sendable (RuleContext) -> Finding) {
        self.id = id; self.title = title; self.measures = measures; self.why = why; self.source = source
        self.tryThis = tryThis; self.settings = settings; self.evaluate = evaluate
    }

    func setting(_ name: String) -> Setting? { settings.first { $0.name == name } }

    /// One numeric setting of a rule: `check.RULE.NAME`.
    struct Setting: Sendable {
        var name: String
        /// nil: off by default (that level never fires until set).
        var value: Double?
        /// What the number means, for `explain`.
        var doc: String
        /// Whether `off` is accepted (warn/fail levels only).
        var canBeOff: Bool
        var range: ClosedRange<Double>?

        /// A warn or fail level: a number, or off (nil: off by default).
        static func level(_ name: String, _ value: Double?, _ doc: String, _ range: ClosedRange<Double>? = nil) -> Setting {
            Setting(name: name, value: value, doc: doc, canBeOff: true, range: range)
        }
        /// A number the rule always needs (it cannot be off).
        static func knob(_ name: String, _ value: Double, _ doc: String, _ range: ClosedRange<Double>? = nil) -> Setting {
            Setting(name: name, value: value, doc: doc, canBeOff: false, range: range)
        }
    }
}

extension ClosedRange where Bound == Double {
    /// A share: 0 to 1.
    static var share: ClosedRange<Double> { 0...1 }
    /// Any number from 0 up.
    static var positive: ClosedRange<Double> { 0...Double.greatestFiniteMagnitude }
}
