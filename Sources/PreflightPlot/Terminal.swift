import Foundation

extension Chart {
    /// The chart as text for a terminal.
    ///
    /// With `unicode`, lines are drawn with braille dots (2×4 per cell) and
    /// the axes with box-drawing characters; otherwise everything is ASCII
    /// and each series has its own marker (`*`, `+`, `o`, `x`, ...). With
    /// `color`, each series is drawn in its palette colour (xterm-256 escape
    /// codes); without it no escape sequence is emitted and, in unicode mode,
    /// series are told apart by dot patterns (solid, dashed, dotted, ...).
    /// Every line is at most `style.width` columns wide.
    public func renderTerminal(_ style: TerminalStyle) -> String {
        TerminalRenderer(chart: self, style: style).render()
    }
}

/// A line style as braille dots (or ASCII markers) along the line: which steps are drawn.
private enum DotPattern {
    case solid, dashed, dotted, dashDot, longDash, dashDotDot

    init(_ style: LineStyle) {
        switch style {
        case .solid: self = .solid
        case .dashed: self = .dashed
        case .dotted: self = .dotted
        case .dashDot: self = .dashDot
        case .longDash: self = .longDash
        case .dashDotDot: self = .dashDotDot
        }
    }

    func on(_ step: Int, ascii: Bool) -> Bool {
        switch self {
        case .solid: return true
        case .dashed: return ascii ? step % 3 < 2 : step % 6 < 4
        case .dotted: return step % 2 == 0
        case .dashDot: return ascii ? step % 4 != 3 : [0, 1, 2, 3, 5].contains(step % 8)
        case .longDash: return ascii ? step % 5 < 4 : step % 10 < 8
        case .dashDotDot: return ascii ? [0, 1, 3, 5].contains(step % 7) : [0, 1, 2, 3, 5, 7].contains(step % 10)
        }
    }
}

private struct TerminalRenderer {
    let chart: Chart
    let style: TerminalStyle
    let width: Int
    var unicode: Bool { style.unicode }

    let looks: [SeriesLook]

    init(chart: Chart, style: TerminalStyle) {
        self.chart = chart
        self.style = style
        self.width = Swift.max(style.width, 16)
        self.looks = chart.looks
    }

    /// With colour (or ASCII markers) a series has the line style the chart gives it; braille without colour
    /// has nothing else to tell lines apart, so each line gets its own dot pattern (shown in the legend).
    func pattern(_ i: Int) -> DotPattern {
        if style.color || !unicode || chart.series.count == 1 {
            return DotPattern(looks[i].style)
        }
        return DotPattern(LineStyle.allCases[i % LineStyle.allCases.count])
    }

    /// `text` in the colour of series (or bar) `series`.
    func paint(_ text: String, _ series: Int?) -> String {
        guard style.color, let s = series, !text.isEmpty else { return text }
        return Palette.ansiStart(chart.isBarChart ? s : looks[s].slot) + text + Palette.ansiReset
    }

    /// Keep at most `n` characters (terminal columns; text is assumed to be
    /// single-width), marking a cut with an ellipsis.
    func clip(_ s: String, _ n: Int) -> String {
        let clean = String(s.map { $0.isASCII || unicode ? ($0 == "\n" || $0 == "\t" || $0 == "\u{1B}" ? " " : $0) : "?" })
        if clean.count <= n { return clean }
        if n <= 1 { return String(clean.prefix(n)) }
        return String(clean.prefix(n - 1)) + (unicode ? "…" : "~")
    }

    func legendSample(_ i: Int) -> String {
        if chart.isBarChart { return unicode ? "██" : "##" }
        if !unicode {
            let m = Palette.marker(i)
            return String([m, m])
        }
        // Three braille cells holding a horizontal line in this series' pattern.
        let p = pattern(i)
        var out = ""
        for cell in 0..<3 {
            var bits: UInt32 = 0
            if p.on(cell * 2, ascii: false) { bits |= 0x02 }
            if p.on(cell * 2 + 1, ascii: false) { bits |= 0x10 }
            out.append(bits == 0 ? " " : Character(Unicode.Scalar(0x2800 + bits)!))
        }
        return out
    }

    func legendLines() -> [String] {
        var lines: [String] = []
        var line = "", visible = 0
        for (i, entryName) in chart.legendNames.enumerated() {
            let sample = legendSample(i)
            let name = clip(entryName, Swift.max(4, width - sample.count - 1))
            let entryWidth = sample.count + 1 + name.count
            let entry = paint(sample, i) + " " + name
            if visible > 0 && visible + 3 + entryWidth > width {
                lines.append(line)
                line = ""; visible = 0
            }
            if visible > 0 { line += "   "; visible += 3 }
            line += entry
            visible += entryWidth
        }
        if visible > 0 { lines.append(line) }
        return lines
    }

    func render() -> String {
        let cellW = unicode ? 2 : 1, cellH = unicode ? 4 : 1
        let legend = legendLines()
        let noteLines = chart.logY && PlotGeometry(chart: chart, xTickCount: 2, yTickCount: 2).nonPositive > 0 ? 1 : 0
        let rows = Swift.max(3, style.height - 3 - legend.count - noteLines)
        let yTickCount = Swift.min(5, Swift.max(2, rows / 2 + 1))
        let geo = PlotGeometry(chart: chart, xTickCount: Swift.max(2, (width - 8) / 10), yTickCount: yTickCount)

        var yLabels = geo.yTicks.map(formatTick)
        if geo.empty { yLabels = [] }
        let labelW = Swift.max(1, yLabels.map(\.count).max() ?? 1)
        let prefix = labelW + 2  // label, space, axis character
        let cols = Swift.max(4, width - prefix - 1)
        let W = cols * cellW, H = rows * cellH

        func dotX(_ x: Double) -> Double { geo.fx(x) * Double(W - 1) }
        func dotY(_ t: Double) -> Double { (1 - geo.ft(t)) * Double(H - 1) }

        // Rasterise every series into the dot grid; each cell remembers the
        // last series that touched it (its colour).
        var bits = [UInt32](repeating: 0, count: rows * cols)
        var owner = [Int](repeating: -1, count: rows * cols)
        var asciiChar = [Character](repeating: " ", count: rows * cols)
        for (si, runs) in geo.runs.enumerated() {
            let pat = pattern(si)
            for run in runs {
                var step = 0
                func plot(_ x: Int, _ y: Int) {
                    defer { step += 1 }
                    guard x >= 0, x < W, y >= 0, y < H, pat.on(step, ascii: !unicode) else { return }
                    let c = (y / cellH) * cols + x / cellW
                    if unicode {
                        let dx = x % 2, dy = y % 4
                        let bit: UInt32 = dy == 3 ? (dx == 0 ? 0x40 : 0x80)
                                                  : (dx == 0 ? [0x01, 0x02, 0x04][dy] : [0x08, 0x10, 0x20][dy])
                        bits[c] |= bit
                    } else {
                        asciiChar[c] = Palette.marker(si)
                    }
                    owner[c] = si
                }
                if run.count == 1 {
                    let x = Int(tame(dotX(run[0].x)).rounded()), y = Int(tame(dotY(run[0].t)).rounded())
                    plot(x, y)
                    if unicode { plot(x + (x + 1 < W ? 1 : -1), y) }  // a lone point: two dots, visible
                    continue
                }
                for k in 1..<run.count {
                    guard let (ax, ay, bx, by) = clipSegment(
                        tame(dotX(run[k - 1].x)), tame(dotY(run[k - 1].t)),
                        tame(dotX(run[k].x)), tame(dotY(run[k].t)),
                        minX: -0.49, minY: -0.49, maxX: Double(W) - 0.51, maxY: Double(H) - 0.51) else { continue }
                    var x0 = Int(ax.rounded()), y0 = Int(ay.rounded())
                    let x1 = Int(bx.rounded()), y1 = Int(by.rounded())
                    let dx = abs(x1 - x0), dy = -abs(y1 - y0)
                    let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
                    var err = dx + dy
                    if k > 1 { step -= 1 }  // the joint was plotted by the previous segment
                    while true {
                        plot(x0, y0)
                        if x0 == x1 && y0 == y1 { break }
                        let e2 = 2 * err
                        if e2 >= dy { err += dy; x0 += sx }
                        if e2 <= dx { err += dx; y0 += sy }
                    }
                }
            }
        }

        // Bars: a column of full blocks per bar, the top cell filled to the nearest quarter (braille rows hold
        // four dots) with a lower block; ASCII fills whole rows with `#`.
        var barCell = [Character?](repeating: nil, count: rows * cols)
        if chart.isBarChart {
            let slot = Double(cols) / Double(chart.bars.count)
            let barCols = Swift.max(1, Swift.min(8, Int(slot * 0.6)))
            // In dot rows, with dot k covering [k, k + 1): the bar runs from its value's level down to the
            // bottom of the baseline's dot.
            let base = dotY(geo.barBase) + 1
            for (i, b) in geo.bars.enumerated() {
                guard let b else { continue }
                let top = Swift.max(0, Swift.min(Double(H), dotY(b.t) + 0.5))
                let centre = Int((dotX(Double(i + 1)) / Double(cellW)).rounded(.down))
                let first = Swift.max(0, centre - barCols / 2)
                for r in 0..<rows {
                    let lo = Double(r * cellH), hi = Double((r + 1) * cellH)
                    let covered = Swift.min(hi, base) - Swift.max(lo, top)
                    guard covered > 0 else { continue }
                    let quarters = Int((covered / Double(cellH) * 4).rounded())
                    guard quarters > 0 else { continue }
                    let ch: Character = !unicode ? "#" : (quarters >= 4 ? "█" : ["▂", "▄", "▆"][quarters - 1])
                    for c in first..<Swift.min(cols, first + barCols) {
                        barCell[r * cols + c] = ch
                        owner[r * cols + c] = i
                    }
                }
            }
        }

        // Which rows carry a y tick label.
        var rowLabel = [String?](repeating: nil, count: rows)
        for (v, label) in zip(geo.yTicks, yLabels) {
            let r = Int(dotY(geo.transform(v)).rounded()) / cellH
            if r >= 0, r < rows, rowLabel[r] == nil { rowLabel[r] = label }
        }

        let vbar = unicode ? "│" : "|", ytick = unicode ? "┤" : "+"
        var out: [String] = []

        // Title line.
        var title = chart.title
        if !chart.yLabel.isEmpty && !title.lowercased().contains(chart.yLabel.lowercased()) {
            title += title.isEmpty ? chart.yLabel : " (\(chart.yLabel))"
        }
        if chart.logY { title += title.isEmpty ? "log scale" : ", log scale" }
        out.append(clip(title, width))

        // Plot rows.
        let noData = geo.empty ? "no data" : nil
        for r in 0..<rows {
            var line = ""
            if let l = rowLabel[r] {
                line += String(repeating: " ", count: labelW - l.count) + l + " " + ytick
            } else {
                line += String(repeating: " ", count: labelW + 1) + vbar
            }
            if let msg = noData, r == rows / 2 {
                let m = clip(msg, cols)
                let left = (cols - m.count) / 2
                line += String(repeating: " ", count: left) + m
                out.append(line)
                continue
            }
            var runOwner: Int? = nil, runText = ""
            var body = ""
            for c in 0..<cols {
                let idx = r * cols + c
                let ch: Character
                if let bar = barCell[idx] {
                    ch = bar
                } else if unicode {
                    ch = bits[idx] == 0 ? " " : Character(Unicode.Scalar(0x2800 + bits[idx])!)
                } else {
                    ch = asciiChar[idx]
                }
                let o: Int? = ch == " " ? nil : owner[idx]
                if o != runOwner {
                    body += paint(runText, runOwner)
                    runText = ""; runOwner = o
                }
                runText.append(ch)
            }
            body += paint(runText, runOwner)
            // Trailing blanks carry no information.
            while body.hasSuffix(" ") { body.removeLast() }
            out.append(line + body)
        }

        // X axis and its labels.
        var tickCols: [(col: Int, label: String)] = []
        if !geo.empty || chart.isBarChart {
            for v in geo.xTicks {
                let c = Int(dotX(v).rounded()) / cellW
                if c >= 0 && c < cols { tickCols.append((c, formatTick(v))) }
            }
        }
        var axis = String(repeating: " ", count: labelW + 1) + (unicode ? "└" : "+")
        let tickSet = Set(tickCols.map(\.col))
        for c in 0..<cols { axis += tickSet.contains(c) ? (unicode ? "┬" : "+") : (unicode ? "─" : "-") }
        out.append(axis)

        var labelLine = [Character](repeating: " ", count: width)
        var lastEnd = -1
        for (c, label) in tickCols {
            let center = prefix + c
            var start = center - label.count / 2
            start = Swift.min(start, width - label.count)
            if start <= lastEnd + 1 || start < 0 { continue }
            for (k, ch) in label.enumerated() { labelLine[start + k] = ch }
            lastEnd = start + label.count - 1
        }
        if !chart.xLabel.isEmpty {
            let xl = clip(chart.xLabel, width)
            let start = width - xl.count
            if start > lastEnd + 2 {
                for (k, ch) in xl.enumerated() { labelLine[start + k] = ch }
            }
        }
        var labels = String(labelLine)
        while labels.hasSuffix(" ") { labels.removeLast() }
        out.append(labels)

        out.append(contentsOf: legend)
        if let note = geo.nonPositiveNote { out.append(clip(note, width)) }
        return out.joined(separator: "\n") + "\n"
    }
}
