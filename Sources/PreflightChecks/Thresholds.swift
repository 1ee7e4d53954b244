import PreflightEngine

/// A rejected `set check.…` — its description is one line that says what was wrong.
public struct ThresholdError: Error, CustomStringConvertible, Equatable, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The checks' settings: `check.RULE` (on/off) and `check.RULE.NAME` (a number, or off for warn/fail levels).
public struct Thresholds: Sendable, Equatable {
    /// "rule.name" → value; a level that is off has no entry.
    private var numbers: [String: Double]
    private var disabled: Set<String>

    public static let defaults: Thresholds = {
        var n: [String: Double] = [:]
        for r in Rules.all { for p in r.settings { if let v = p.value { n["\(r.id).\(p.name)"] = v } } }
        return Thresholds(numbers: n, disabled: [])
    }()

    private init(numbers: [String: Double], disabled: Set<String>) {
        self.numbers = numbers; self.disabled = disabled
    }

    /// Strips an optional "check." prefix and splits "rule.name".
    private static func parse(_ key: String) -> (rule: String, name: String?) {
        var k = key.trimmingWhitespace().lowercased()
        if k.hasPrefix("check.") { k.removeFirst(6) }
        if let dot = k.firstIndex(of: ".") {
            return (String(k[..<dot]), String(k[k.index(after: dot)...]))
        }
        return (k, nil)
    }

    /// The number in force for "rule.name" (with or without the "check." prefix); nil when off or unknown.
    public func value(_ key: String) -> Double? {
        let (rule, name) = Self.parse(key)
        guard let name else { return nil }
        return numbers["\(rule).\(name)"]
    }

    /// Whether the rule runs (`set check.RULE off` turns it off).
    public func isEnabled(_ rule: String) -> Bool { !disabled.contains(Self.parse(rule).rule) }

    /// Sets `check.RULE` to on/off or `check.RULE.NAME` to a number (or off, for warn/fail levels).
    public mutating func set(_ key: String, _ text: String) throws {
        let (rule, name) = Self.parse(key)
        let full = "check." + rule + (name.map { "." + $0 } ?? "")
        guard let spec = Rules.all.first(where: { $0.id == rule }) else {
            let ids = Rules.all.map(\.id)
            var msg = "unknown check rule '\(rule.prefix(40))'" + (name == nil ? "" : " in \(full.prefix(60))")
            if let best = ids.min(by: { editDistance($0, rule) < editDistance($1, rule) }), editDistance(best, rule) <= min(3, max(1, rule.count / 3)) {
                msg += ": did you mean '\(best)'?"
            } else {
                msg += "; rules: \(ids.joined(separator: ", "))"
            }
            throw ThresholdError(msg)
        }
        let word = text.trimmingWhitespace().lowercased()
        guard let name else {
            switch word {
            case "on", "true", "yes": disabled.remove(rule)
            case "off", "false", "no": disabled.insert(rule)
            default: throw ThresholdError("\(full) takes on or off, not '\(text)'")
            }
            return
        }
        guard let p = spec.settings.first(where: { $0.name == name }) else {
            if spec.settings.isEmpty {
                throw ThresholdError("\(full): rule \(rule) has no thresholds, only check.\(rule) on|off")
            }
            let known = spec.settings.map { "check.\(rule).\($0.name)" }.joined(separator: ", ")
            throw ThresholdError("unknown setting \(full); \(rule) has: \(known)")
        }
        if word == "off" || word == "none" {
            guard p.canBeOff else { throw ThresholdError("\(full) cannot be off; give a number") }
            numbers["\(rule).\(name)"] = nil
            return
        }
        guard let v = Double(word) else {
            throw ThresholdError("\(full) needs a number\(p.canBeOff ? " or off" : ""), not '\(text)'")
        }
        guard v.isFinite else { throw ThresholdError("\(full) must be a finite number, not '\(text)'") }
        if let r = p.range, !r.contains(v) {
            let hi = r.upperBound >= 1e9 ? "" : " and \(formatParam(r.upperBound))"
            throw ThresholdError(hi.isEmpty ? "\(full) must be at least \(formatParam(r.lowerBound)), not '\(text)'"
                                            : "\(full) must be between \(formatParam(r.lowerBound))\(hi), not '\(text)'")
        }
        numbers["\(rule).\(name)"] = v
    }

    /// Every settable key, sorted: "check.dead-units", "check.dead-units.fail", …
    public var keys: [String] {
        var k: [String] = []
        for r in Rules.all {
            k.append("check.\(r.id)")
            for p in r.settings { k.append("check.\(r.id).\(p.name)") }
        }
        return k.sorted()
    }

    /// The current value of a key as text: "0.01", "off", "on"; "" for an unknown key.
    public func describe(_ key: String) -> String {
        let (rule, name) = Self.parse(key)
        guard let spec = Rules.all.first(where: { $0.id == rule }) else { return "" }
        guard let name else { return disabled.contains(rule) ? "off" : "on" }
        guard spec.settings.contains(where: { $0.name == name }) else { return "" }
        return numbers["\(rule).\(name)"].map(formatParam) ?? "off"
    }

    /// Settings that differ from the defaults, in key order (for `save` and `history save`).
    public var changed: [(key: String, value: String)] {
        let d = Thresholds.defaults
        return keys.compactMap { k in
            let v = describe(k)
            return v == d.describe(k) ? nil : (key: k, value: v)
        }
    }
}

extension String {
    /// The string without leading and trailing whitespace (Unicode's), without Foundation. The shell uses it too.
    public func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a), y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count), cur = prev
    for i in 1...x.count {
        cur[0] = i
        for j in 1...y.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[y.count]
}
