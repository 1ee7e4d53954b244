import Foundation

/// Fixed-point with `digits` decimals; "nan"/"inf" spelled out.
func fmt(_ v: Double, _ digits: Int) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    return String(format: "%.\(digits)f", v)
}

/// Percentage with `digits` decimals: 0.9612 → "96.12%".
func pct(_ v: Double, _ digits: Int = 2) -> String { v.isFinite ? fmt(v * 100, digits) + "%" : fmt(v, 0) }

/// Short general number: 4 significant digits, scientific when tiny or huge.
func num(_ v: Double) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    if v == 0 { return "0" }
    let a = abs(v)
    if a >= 1e5 || a < 1e-3 { return String(format: "%.3g", v) }
    var s = String(format: "%.4g", v)
    if s.contains("e") { return s }
    if s.contains(".") { while s.hasSuffix("0") { s.removeLast() }; if s.hasSuffix(".") { s.removeLast() } }
    return s
}

/// 148321 → "148.3k".
func rate(_ v: Double) -> String {
    if !v.isFinite { return "-" }
    if v >= 1e6 { return fmt(v / 1e6, 2) + "M" }
    if v >= 1e3 { return fmt(v / 1e3, 1) + "k" }
    return fmt(v, 0)
}

/// An aligned text table. The first row is the header; columns are left-aligned unless numeric.
struct Table {
    var rows: [[String]]
    var rightAligned: Set<Int> = []

    /// With a console on a terminal, the last column is cut (with "…") so that no line wraps.
    func render(indent: String = "", console: Console? = nil) -> String {
        guard let first = rows.first else { return "" }
        var widths = Array(repeating: 0, count: first.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], visibleWidth(c)) } }
        var out = ""
        for (ri, r) in rows.enumerated() {
            var line = indent
            for (i, c) in r.enumerated() where i < widths.count {
                let pad = String(repeating: " ", count: widths[i] - visibleWidth(c))
                let cell = rightAligned.contains(i) ? pad + c : (i == r.count - 1 ? c : c + pad)
                line += (i > 0 ? "  " : "") + cell
            }
            while line.hasSuffix(" ") { line.removeLast() }
            if let console, console.interactive, visibleWidth(line) > console.width {
                line = truncateVisible(line, to: max(console.width - 1, 10)) + "…"
            }
            if ri == 0, let console { line = console.style(line, .bold) }
            out += line + "\n"
        }
        return out
    }
}

/// Width on screen, ignoring ANSI escape sequences.
public func visibleWidth(_ s: String) -> Int {
    var n = 0, esc = false
    for u in s.unicodeScalars {
        if esc { if u == "m" { esc = false }; continue }
        if u == "\u{1B}" { esc = true; continue }
        n += 1
    }
    return n
}

/// The first `width` visible characters of `s`, keeping ANSI escape sequences (and closing any style).
func truncateVisible(_ s: String, to width: Int) -> String {
    var out = String.UnicodeScalarView(), n = 0, esc = false, styled = false
    for u in s.unicodeScalars {
        if esc { out.append(u); if u == "m" { esc = false }; continue }
        if u == "\u{1B}" { esc = true; styled = true; out.append(u); continue }
        if n == width { break }
        out.append(u); n += 1
    }
    return String(out) + (styled ? "\u{1B}[0m" : "")
}

/// "1 epoch", "2 epochs", "0 epochs": a count and its noun (`plural` when the noun does not just take an s).
func plural(_ n: Int, _ noun: String, _ plural: String? = nil) -> String {
    "\(n) " + (n == 1 ? noun : plural ?? noun + "s")
}

/// 42 → "42s", 150 → "2m30s", 7300 → "2h01m".
func formatDuration(_ s: Double) -> String {
    guard s.isFinite, s >= 0 else { return "?" }
    let t = Int(s.rounded())
    if t < 60 { return "\(t)s" }
    if t < 3600 { return "\(t / 60)m\(String(format: "%02d", t % 60))s" }
    return "\(t / 3600)h\(String(format: "%02d", (t % 3600) / 60))m"
}

/// `text` broken into lines of at most `width` visible columns at spaces, never inside a word: the first line
/// starts with `first`, the others with `rest` (a hanging indent). A word longer than a whole line gets a line
/// of its own, uncut (the terminal folds it). `width` nil: one line, unwrapped (scripts and pipes).
func wrapWords(_ text: String, width: Int?, first: String = "", rest: String = "") -> [String] {
    guard let width else { return [first + text] }
    var lines: [String] = []
    var line = first, lineHasWord = false
    for word in text.split(separator: " ", omittingEmptySubsequences: true) {
        let w = String(word)
        if lineHasWord && visibleWidth(line) + 1 + visibleWidth(w) > width {
            lines.append(line)
            line = rest; lineHasWord = false
        }
        line += (lineHasWord ? " " : "") + w
        lineHasWord = true
    }
    lines.append(line)
    return lines
}

extension Console {
    /// The width to wrap prose to: the terminal's, or nil when the output is not a terminal (scripts get
    /// whole lines).
    var wrapWidth: Int? { interactive ? max(width, 20) : nil }
}
