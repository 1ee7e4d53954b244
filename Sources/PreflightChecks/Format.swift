import Foundation
import PreflightEngine

/// Three significant digits: 2.3, 0.0123, 1.2e-05, 4321.
func num(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    if abs(x) >= 1000 && abs(x) < 1e7 { return String(format: "%.0f", x) }
    return String(format: "%.3g", x)
}

/// A share as a percentage: 94.1%, 0.5%, 100%, 0%, <0.1%.
func pct(_ x: Double) -> String {
    if !x.isFinite { return num(x) }
    let v = x * 100
    if v == 0 { return "0%" }
    if abs(v) < 0.1 { return v > 0 ? "<0.1%" : "-<0.1%" }
    if abs(v) >= 100 { return String(format: "%.0f%%", v) }
    var s = String(format: "%.1f", v)
    if s.hasSuffix(".0") { s.removeLast(2) }
    return s + "%"
}

/// Signed percentage: +27%, -84%.
func signedPct(_ x: Double) -> String { (x > 0 ? "+" : "") + pct(x) }

/// A learning rate or other parameter as a user would type it: 0.0001, 1e-05.
func param(_ x: Double) -> String { String(format: "%g", x) }

/// The optimiser command with the learning rate multiplied by `factor`: "optimizer adam 0.0001".
func optimizerCommand(_ o: OptimizerKind, lrTimes factor: Double) -> String {
    let lr = param(o.learningRate * factor)
    switch o {
    case .sgd(_, let m): return m == 0 ? "optimizer sgd \(lr)" : "optimizer sgd \(lr) momentum \(param(m))"
    case .adam: return "optimizer adam \(lr)"
    case .rmsprop: return "optimizer rmsprop \(lr)"
    case .adamw(_, let wd): return "optimizer adamw \(lr) \(param(wd))"
    }
}

func list(_ xs: [Double], _ f: (Double) -> String = num) -> String { xs.map(f).joined(separator: ", ") }

/// "1 epoch", "2 epochs", "0 epochs": a count and its noun (`plural` when the noun does not just take an s).
func plural(_ n: Int, _ noun: String, _ plural: String? = nil) -> String {
    "\(n) " + (n == 1 ? noun : plural ?? noun + "s")
}
