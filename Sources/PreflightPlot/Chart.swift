// Chart model shared by the terminal, SVG and PNG renderers.

import Foundation

/// One line on a chart. Points whose `x` or `y` is NaN/±Inf are skipped and
/// leave a gap (the line is broken there instead of being joined across).
public struct Series: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    /// Drawn dashed. When any series of a chart is dashed, dashes carry meaning (e.g. test vs train) and
    /// every renderer draws exactly the series marked dashed that way.
    public var dashed: Bool
    /// Series with the same group share one colour (e.g. one run's train and test lines); nil: a colour of its own.
    public var group: Int?

    public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false, group: Int? = nil) {
        self.name = name
        self.points = points
        self.dashed = dashed
        self.group = group
    }
}

/// A line chart: several series over a common x axis (usually epochs).
public struct Chart: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Logarithmic y axis (gradient norms). Non-positive values are skipped.
    public var logY: Bool
    /// Fixed y range (e.g. `0...1` for accuracy); values outside are clipped.
    public var yRange: ClosedRange<Double>?

    public init(title: String, xLabel: String = "", yLabel: String = "", series: [Series],
                logY: Bool = false, yRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logY = logY
        self.yRange = yRange
    }
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
    var dashed: Bool
}

extension Chart {
    /// Each series' look. Series of one `group` share a palette slot; every other series gets the next free one.
    /// When some series are dashed, exactly those are drawn dashed (the dashes mean something, e.g. test
    /// against train, and a caption says so). Otherwise, past the first cycle of colours, slots alternate
    /// solid/dashed so the 9th series differs from the 1st.
    var looks: [SeriesLook] {
        let meaningfulDashes = series.contains { $0.dashed }
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
            let dashed = meaningfulDashes ? s.dashed : (slot / Palette.colors.count) % 2 == 1
            return SeriesLook(slot: slot, dashed: dashed)
        }
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

    func transform(_ y: Double) -> Double { logY ? log10(y) : y }
    /// 0 at the left edge, 1 at the right edge.
    func fx(_ x: Double) -> Double { (x - x0) / (x1 - x0) }
    /// 0 at the bottom edge, 1 at the top edge.
    func ft(_ t: Double) -> Double { (t - t0) / (t1 - t0) }

    init(chart: Chart, xTickCount: Int, yTickCount: Int) {
        logY = chart.logY
        let log = chart.logY
        func valid(_ p: (x: Double, y: Double)) -> Bool {
            p.x.isFinite && p.y.isFinite && (!log || p.y > 0)
        }
        var runs: [[[(x: Double, t: Double)]]] = []
        var counts: [Int] = []
        var xmin = Double.infinity, xmax = -Double.infinity
        var tmin = Double.infinity, tmax = -Double.infinity
        var allIntegerX = true
        for s in chart.series {
            var seriesRuns: [[(x: Double, t: Double)]] = []
            var current: [(x: Double, t: Double)] = []
            var n = 0
            for p in s.points {
                if valid(p) {
                    let t = log ? log10(p.y) : p.y
                    current.append((p.x, t))
                    n += 1
                    xmin = Swift.min(xmin, p.x); xmax = Swift.max(xmax, p.x)
                    tmin = Swift.min(tmin, t); tmax = Swift.max(tmax, t)
                    if p.x != p.x.rounded() { allIntegerX = false }
                } else if !current.isEmpty {
                    seriesRuns.append(current)
                    current = []
                }
            }
            if !current.isEmpty { seriesRuns.append(current) }
            runs.append(seriesRuns)
            counts.append(n)
        }
        self.runs = runs
        self.validCounts = counts
        empty = counts.allSatisfy { $0 == 0 }

        // X domain: the data's own extent; integer epochs get integer ticks.
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
