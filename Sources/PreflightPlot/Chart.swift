// Chart model shared by the terminal, SVG and PNG renderers.

import Foundation

/// How a line is stroked. Every renderer draws each style its own way: SVG/PNG with dash patterns, the terminal
/// with dot patterns (braille) along the line.
public enum LineStyle: Int, Sendable, CaseIterable {
    case solid, dashed, dotted, dashDot, longDash, dashDotDot

    /// The SVG `stroke-dasharray` for a 2-px line with round caps (each dash grows by the line's width), nil
    /// for a solid line.
    var svgDashArray: String? {
        switch self {
        case .solid: return nil
        case .dashed: return "7 5"
        case .dotted: return "0.5 4.5"
        case .dashDot: return "9 4.5 0.5 4.5"
        case .longDash: return "16 6"
        case .dashDotDot: return "9 4.5 0.5 4.5 0.5 4.5"
        }
    }
}

/// One line on a chart. Points whose `x` or `y` is NaN/±Inf are skipped and
/// leave a gap (the line is broken there instead of being joined across).
public struct Series: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    /// How the line is stroked. When any series of a chart is not solid, the styles carry meaning (test against
    /// train, or one run against another) and every renderer draws each series in its own style.
    public var style: LineStyle
    /// Series with the same group share one colour (e.g. one run's train and test lines); nil: a colour of its own.
    public var group: Int?

    /// Drawn dashed (`style` `.dashed`).
    public var dashed: Bool {
        get { style != .solid }
        set { style = newValue ? .dashed : .solid }
    }

    /// `style` wins over `dashed` when both are given.
    public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false, style: LineStyle? = nil,
                group: Int? = nil) {
        self.name = name
        self.points = points
        self.style = style ?? (dashed ? .dashed : .solid)
        self.group = group
    }
}

/// One bar of a bar chart: a named value. A NaN value is a bar not drawn (nothing recorded), labelled `n/a`.
public struct Bar: Sendable {
    public var name: String
    public var value: Double
    /// The text written over the bar (e.g. `83.1%`); nil: the value as an axis tick would show it.
    public var label: String?

    public init(name: String, value: Double, label: String? = nil) {
        self.name = name
        self.value = value
        self.label = label
    }
}

/// A line chart (several series over a common x axis, usually epochs) or, when `bars` is not empty, a bar chart:
/// one bar per entry, side by side, each in its own palette colour.
public struct Chart: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// The bars of a bar chart (then `series` is not drawn).
    public var bars: [Bar]
    /// Logarithmic y axis: ticks at powers of ten (with 2 and 5 between them over at most two decades).
    /// Values that are zero or negative cannot be shown: they are left out and a note under the legend says
    /// how many.
    public var logY: Bool
    /// Fixed y range (e.g. `0...1` for accuracy); values outside are clipped.
    public var yRange: ClosedRange<Double>?

    public init(title: String, xLabel: String = "", yLabel: String = "", series: [Series],
                logY: Bool = false, yRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.bars = []
        self.logY = logY
        self.yRange = yRange
    }

    /// A bar chart. Bars grow from zero on a linear axis, from the bottom edge on a log axis.
    public init(title: String, xLabel: String = "", yLabel: String = "", bars: [Bar],
                logY: Bool = false, yRange: ClosedRange<Double>? = nil) {
        self.init(title: title, xLabel: xLabel, yLabel: yLabel, series: [], logY: logY, yRange: yRange)
        self.bars = bars
    }

    public var isBarChart: Bool { !bars.isEmpty }
}

/// Options for `Chart.renderTerminal`. `width` is the maximum number of
/// columns of every line; `height` is the total number of lines wanted
/// (title, plot, axis, labels and legend included; the plot keeps at least
/// 3 rows, so a tiny height may be exceeded).
public struct TerminalStyle: Sendable {
    public var width: Int
    public var height: Int
    public var unicode: Bool
    public var color: Bool

    public init(width: Int = 80, height: Int = 20, unicode: Bool = true, color: Bool = true) {
        self.width = width
        self.height = height
        self.unicode = unicode
        self.color = color
    }
}

/// An sRGB colour.
public struct RGB: Sendable, Equatable, Hashable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }

    /// `#rrggbb`, lower case.
    public var hex: String {
        let digits = Array("0123456789abcdef")
        var s = "#"
        for v in [r, g, b] {
            s.append(digits[Int(v >> 4)])
            s.append(digits[Int(v & 15)])
        }
        return s
    }
}

/// The fixed series palette: twelve colours, told apart also by readers with a colour-vision deficiency as far as
/// twelve can be. The first six are Okabe and Ito's (the set made for that), then five of Paul Tol's "muted" and
/// "dark" colours that differ from those six in lightness as well as hue, and a mid grey. Series `i` gets colour
/// `i % count` in every renderer, so one run has one colour in the terminal, SVG and PNG.
public enum Palette {
    public static let colors: [RGB] = [
        RGB(0x00, 0x72, 0xB2),  // blue
        RGB(0xD5, 0x5E, 0x00),  // vermillion
        RGB(0x00, 0x9E, 0x73),  // bluish green
        RGB(0xE6, 0x9F, 0x00),  // orange
        RGB(0xCC, 0x79, 0xA7),  // reddish purple
        RGB(0x56, 0xB4, 0xE9),  // sky blue
        RGB(0x33, 0x22, 0x88),  // indigo
        RGB(0x88, 0x22, 0x55),  // wine
        RGB(0x99, 0x99, 0x33),  // olive
        RGB(0x11, 0x77, 0x33),  // dark green
        RGB(0x8C, 0x51, 0x0A),  // brown
        RGB(0x77, 0x77, 0x77),  // grey
    ]
    /// xterm-256 approximations of `colors` (the indigo is lightened one step so it stays visible on dark terminals).
    static let ansi256: [Int] = [32, 166, 36, 178, 175, 74, 61, 89, 101, 29, 94, 243]
    /// ASCII markers, one per series.
    static let asciiMarkers: [Character] = ["*", "+", "o", "x", "#", "@", "%", "&", "=", "$", "^", "v"]

    public static func color(_ index: Int) -> RGB { colors[index % colors.count] }
    static func ansiStart(_ index: Int) -> String { "\u{1B}[38;5;\(ansi256[index % ansi256.count])m" }
    static let ansiReset = "\u{1B}[0m"
    static func marker(_ index: Int) -> Character { asciiMarkers[index % asciiMarkers.count] }
}

/// How one series is drawn; decided once per chart so that every renderer agrees.
struct SeriesLook: Equatable {
    /// Palette slot: colour, ANSI colour and ASCII marker.
    var slot: Int
    var style: LineStyle
    var dashed: Bool { style != .solid }
}

extension Chart {
    /// Each series' look. Series of one `group` share a palette slot; every other series gets the next free one.
    /// When some series are not solid, each is drawn in its own style (the styles mean something: test against
    /// train, or one run against another, and a caption or the legend says so). Otherwise, past the first cycle
    /// of colours, slots alternate solid/dashed so the 13th series differs from the 1st.
    var looks: [SeriesLook] {
        let meaningfulStyles = series.contains { $0.style != .solid }
        var slotOfGroup: [Int: Int] = [:]
        var next = 0
        return series.map { s in
            let slot: Int
            if let g = s.group, let k = slotOfGroup[g] {
                slot = k
            } else {
                slot = next
                next += 1
                if let g = s.group { slotOfGroup[g] = slot }
            }
            let style = meaningfulStyles ? s.style : ((slot / Palette.colors.count) % 2 == 1 ? .dashed : .solid)
            return SeriesLook(slot: slot, style: style)
        }
    }

    /// What the legend lists: each series' name, or for a bar chart each bar's number and name.
    var legendNames: [String] {
        if isBarChart { return bars.enumerated().map { "\($0.offset + 1) \($0.element.name)" } }
        return series.enumerated().map { $0.element.name.isEmpty ? "series \($0.offset + 1)" : $0.element.name }
    }
}

// MARK: - Prepared geometry shared by the renderers

/// The chart reduced to numbers: domains, ticks and the drawable runs of
/// every series in (x, transformed y) space.
struct PlotGeometry {
    var empty: Bool
    var logY: Bool
    var x0: Double, x1: Double
    /// Transformed y domain (log10 when `logY`).
    var t0: Double, t1: Double
    var xTicks: [Double]
    /// Tick values in data space (not transformed).
    var yTicks: [Double]
    /// Per series: runs of consecutive valid points (x, t).
    var runs: [[[(x: Double, t: Double)]]]
    /// Per series: number of valid points.
    var validCounts: [Int]
    /// Per bar of a bar chart: its centre x (1, 2, …) and transformed value, nil when it cannot be drawn.
    var bars: [(x: Double, t: Double)?]
    /// Finite values left out because a log axis cannot show them (zero or negative).
    var nonPositive: Int

    func transform(_ y: Double) -> Double { logY ? log10(y) : y }
    /// 0 at the left edge, 1 at the right edge.
    func fx(_ x: Double) -> Double { (x - x0) / (x1 - x0) }
    /// 0 at the bottom edge, 1 at the top edge.
    func ft(_ t: Double) -> Double { (t - t0) / (t1 - t0) }
    /// Where bars grow from: zero on a linear axis (kept inside the domain), the bottom edge on a log axis.
    var barBase: Double { logY ? t0 : Swift.min(Swift.max(0, t0), t1) }

    /// The note a renderer shows when values were left out, nil when none were.
    var nonPositiveNote: String? {
        guard nonPositive > 0 else { return nil }
        let values = nonPositive == 1 ? "1 value" : "\(nonPositive) values"
        return "log scale: \(values) <= 0 not shown"
    }

    init(chart: Chart, xTickCount: Int, yTickCount: Int) {
        logY = chart.logY
        let log = chart.logY
        func valid(_ p: (x: Double, y: Double)) -> Bool {
            p.x.isFinite && p.y.isFinite && (!log || p.y > 0)
        }
        // A bar chart's bars are one-point series at x = 1, 2, …
        let sources: [[(x: Double, y: Double)]] = chart.isBarChart
            ? chart.bars.enumerated().map { [(x: Double($0.offset + 1), y: $0.element.value)] }
            : chart.series.map(\.points)
        var runs: [[[(x: Double, t: Double)]]] = []
        var counts: [Int] = []
        var dropped = 0
        var xmin = Double.infinity, xmax = -Double.infinity
        var tmin = Double.infinity, tmax = -Double.infinity
        var allIntegerX = true
        for points in sources {
            var seriesRuns: [[(x: Double, t: Double)]] = []
            var current: [(x: Double, t: Double)] = []
            var n = 0
            for p in points {
                if valid(p) {
                    let t = log ? log10(p.y) : p.y
                    current.append((p.x, t))
                    n += 1
                    xmin = Swift.min(xmin, p.x); xmax = Swift.max(xmax, p.x)
                    tmin = Swift.min(tmin, t); tmax = Swift.max(tmax, t)
                    if p.x != p.x.rounded() { allIntegerX = false }
                } else {
                    if log && p.x.isFinite && p.y.isFinite { dropped += 1 }
                    if !current.isEmpty {
                        seriesRuns.append(current)
                        current = []
                    }
                }
            }
            if !current.isEmpty { seriesRuns.append(current) }
            runs.append(seriesRuns)
            counts.append(n)
        }
        nonPositive = dropped
        empty = counts.allSatisfy { $0 == 0 }
        if chart.isBarChart {
            bars = runs.map { $0.first?.first }
            self.runs = chart.series.map { _ in [] }
            validCounts = chart.series.map { _ in 0 }
        } else {
            bars = []
            self.runs = runs
            validCounts = counts
        }

        // X domain: the data's own extent; integer epochs get integer ticks. Bars: one slot each, ticks at their centres.
        if chart.isBarChart {
            x0 = 0.5; x1 = Double(chart.bars.count) + 0.5
            xTicks = (1...chart.bars.count).map(Double.init)
            if !empty && !log { tmin = Swift.min(tmin, 0); tmax = Swift.max(tmax, 0) }
        } else {
            if empty {
                x0 = 0; x1 = 1
                allIntegerX = false
            } else if xmin == xmax {
                let d = allIntegerX ? 1.0 : Swift.max(abs(xmin) * 0.1, 0.5)
                x0 = xmin - d; x1 = xmax + d
            } else {
                x0 = xmin; x1 = xmax
            }
            let (xa, xb) = (x0, x1)
            let xt = NiceTicks.ticks(min: xa, max: xb, count: xTickCount, minStep: allIntegerX ? 1 : 0)
            xTicks = xt.filter { $0 >= xa - 1e-9 * (xb - xa) && $0 <= xb + 1e-9 * (xb - xa) }
        }

        // Y domain.
        if empty {
            t0 = 0; t1 = 1; yTicks = []
            return
        }
        if let r = chart.yRange, r.upperBound > r.lowerBound, r.lowerBound.isFinite, r.upperBound.isFinite,
           !log || r.lowerBound > 0 {
            let a = log ? log10(r.lowerBound) : r.lowerBound
            let b = log ? log10(r.upperBound) : r.upperBound
            t0 = a; t1 = b
            let ticks = log ? NiceTicks.logTicks(min: a, max: b) : NiceTicks.ticks(min: a, max: b, count: yTickCount)
            let eps = 1e-9 * (b - a)
            yTicks = ticks.filter {
                let t = log ? log10($0) : $0
                return t >= a - eps && t <= b + eps
            }
            return
        }
        if log {
            var lo = (tmin + 1e-12).rounded(.down), hi = (tmax - 1e-12).rounded(.up)
            if hi <= lo { lo = tmin.rounded(.down); hi = lo + 1 }
            t0 = lo; t1 = hi
            yTicks = NiceTicks.logTicks(min: lo, max: hi)
        } else {
            var a = tmin, b = tmax
            if a == b {
                let d = a == 0 ? 1 : abs(a) * 0.5
                a -= d; b += d
            }
            let ticks = NiceTicks.ticks(min: a, max: b, count: yTickCount)
            t0 = Swift.min(a, ticks.first ?? a)
            t1 = Swift.max(b, ticks.last ?? b)
            yTicks = ticks
        }
    }
}

/// Deterministic 32-bit FNV-1a, used for ids that must differ between charts
/// embedded in one page but stay stable for identical input.
func fnv1a(_ s: String) -> UInt32 {
    var h: UInt32 = 0x811C_9DC5
    for b in s.utf8 { h = (h ^ UInt32(b)) &* 0x0100_0193 }
    return h
}
