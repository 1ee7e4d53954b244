import Foundation

/// "Nice" axis ticks: steps of 1, 2 or 5 times a power of ten.
public enum NiceTicks {
    /// Evenly spaced ticks whose step is 1, 2 or 5 × 10^k and that cover the
    /// range: the first tick is <= `min`, the last is >= `max`. The number of
    /// ticks is as close to `count` as those steps allow. Returns `[]` for
    /// non-finite input; `min == max` is widened around the value.
    public static func ticks(min: Double, max: Double, count: Int) -> [Double] {
        ticks(min: min, max: max, count: count, minStep: 0)
    }

    /// As `ticks(min:max:count:)`, with the step at least `minStep` (1 gives
    /// integer ticks for epoch axes).
    static func ticks(min lo: Double, max hi: Double, count: Int, minStep: Double) -> [Double] {
        guard lo.isFinite, hi.isFinite else { return [] }
        var a = Swift.min(lo, hi), b = Swift.max(lo, hi)
        if a == b {
            let d = a == 0 ? 1 : abs(a) * 0.1
            a -= d; b += d
        }
        let target = Swift.max(count, 2)
        let raw = (b - a) / Double(target - 1)
        let e = Int(log10(raw).rounded(.down))
        var best: (step: Step, n: Int, first: Int)? = nil
        var bestScore = Double.infinity
        for k in (e - 1)...(e + 1) {
            for m in [1, 2, 5] {
                let step = Step(mantissa: m, exponent: k)
                let s = step.value
                if s < minStep { continue }
                let first = Int((a / s + 1e-9).rounded(.down))
                let last = Int((b / s - 1e-9).rounded(.up))
                let n = last - first + 1
                // Prefer counts near the target, then little empty space
                // between the data and the outer ticks.
                let covered = Double(last - first) * s
                let waste = covered > 0 ? 1 - (b - a) / covered : 1
                let score = Double(abs(n - target)) + 2 * waste
                if score < bestScore { bestScore = score; best = (step, n, first) }
            }
        }
        if best == nil {  // minStep larger than every candidate
            var k = 0, m = 1
            while Step(mantissa: m, exponent: k).value < minStep {
                if m == 1 { m = 2 } else if m == 2 { m = 5 } else { m = 1; k += 1 }
            }
            let step = Step(mantissa: m, exponent: k)
            let first = Int((a / step.value + 1e-9).rounded(.down))
            let last = Int((b / step.value - 1e-9).rounded(.up))
            best = (step, last - first + 1, first)
        }
        let (step, n, first) = best!
        return (0..<n).map { step.times(first + $0) }
    }

    /// Ticks for a log axis whose transformed (log10) domain is `min...max`,
    /// returned in data space: powers of ten, with 2 and 5 in between when
    /// the domain spans at most two decades, thinned when it spans many.
    static func logTicks(min a: Double, max b: Double) -> [Double] {
        guard a.isFinite, b.isFinite, b > a else { return [] }
        let lo = Int(a.rounded(.down)), hi = Int(b.rounded(.up))
        let decades = hi - lo
        var out: [Double] = []
        let eps = 1e-9
        if decades <= 2 {
            for k in lo...hi {
                for m in [1, 2, 5] {
                    let v = Step(mantissa: m, exponent: k).value
                    let t = log10(v)
                    if t >= a - eps && t <= b + eps { out.append(v) }
                }
            }
        } else {
            let stride = Swift.max(1, Int((Double(decades) / 6).rounded(.up)))
            var k = lo
            while k <= hi {
                let t = Double(k)
                if t >= a - eps && t <= b + eps { out.append(Step(mantissa: 1, exponent: k).value) }
                k += stride
            }
        }
        return out
    }

    /// m × 10^k, computed so that multiples are as exact as doubles allow.
    struct Step {
        var mantissa: Int, exponent: Int
        var value: Double { times(1) }
        func times(_ i: Int) -> Double {
            let v = Double(i * mantissa)
            if exponent >= 0 { return v * pow(10, Double(exponent)) }
            return v / pow(10, Double(-exponent))
        }
    }
}

/// Short axis label: `0`, `0.5`, `12.5`, `1e-3`, `2.5e-4`, `2.5k`, `1.2M`.
/// Up to three significant digits; never longer than about 7 characters.
public func formatTick(_ v: Double) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    let a = abs(v)
    if a < 1e-12 { return "0" }
    let sign = v < 0 ? "-" : ""
    if a >= 0.01 && a < 1000 {
        let mag = Int(log10(a).rounded(.down))
        let decimals = Swift.max(0, 2 - mag)
        let s = fixed(a, decimals: decimals)
        return s == "1000" ? sign + "1k" : sign + s
    }
    if a >= 1000 && a < 1e15 {
        let suffixes: [(Double, String)] = [(1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T")]
        for (scale, suffix) in suffixes {
            let m = a / scale
            let s = fixed(m, decimals: m < 10 ? 2 : (m < 100 ? 1 : 0))
            if (Double(s) ?? 0) < 1000 { return sign + s + suffix }
        }
    }
    var e = Int(log10(a).rounded(.down))
    var m = a / pow(10, Double(e))
    if m >= 9.995 { m /= 10; e += 1 }
    if m < 1 { m *= 10; e -= 1 }
    return sign + fixed(m, decimals: 2) + "e" + String(e)
}

/// `v` with at most `decimals` digits after the point, trailing zeros
/// removed. Pure integer arithmetic after one rounding: deterministic.
func fixed(_ v: Double, decimals: Int) -> String {
    let d = Swift.max(0, Swift.min(decimals, 12))
    let scale = pow(10, Double(d))
    let scaled = (abs(v) * scale).rounded()
    guard scaled < 9e15 else { return String(format: "%.0f", v) }
    let n = Int64(scaled)
    if n == 0 { return "0" }
    let sign = v < 0 ? "-" : ""
    var digits = String(n)
    if d == 0 { return sign + digits }
    if digits.count <= d { digits = String(repeating: "0", count: d - digits.count + 1) + digits }
    var intPart = String(digits.prefix(digits.count - d))
    var frac = String(digits.suffix(d))
    while frac.hasSuffix("0") { frac.removeLast() }
    if intPart.isEmpty { intPart = "0" }
    return sign + (frac.isEmpty ? intPart : intPart + "." + frac)
}
