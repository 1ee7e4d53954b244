import Foundation

extension Chart {
    /// A standalone SVG document (UTF-8 text, no XML declaration so it can
    /// also be inlined in HTML as is) with axes, grid, ticks,
    /// labels, title, legend and one `<polyline>` per unbroken run of each
    /// series. Output is deterministic: the same chart gives the same bytes.
    /// Element ids are derived from the content, so several charts can be
    /// inlined in one HTML page.
    public func renderSVG(width: Int = 640, height: Int = 400) -> String {
        SVGRenderer(chart: self, width: width, height: height).render()
    }
}

/// Escape text for XML (and HTML) content and attribute values; characters XML 1.0
/// cannot hold are replaced.
public func xmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for u in s.unicodeScalars {
        switch u {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        case "\t", "\n", "\r": out += " "
        default:
            let v = u.value
            if v < 0x20 || v == 0xFFFE || v == 0xFFFF || (0xD800...0xDFFF).contains(v) {
                out += "\u{FFFD}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out
}

/// The SVG writer; `renderPNG` draws the same document.
struct SVGRenderer {
    let chart: Chart
    let layout: FrameLayout
    static let fontSize: [FrameLayout.Role: Double] = [.title: 15, .tick: 11, .label: 12, .legend: 12]

    init(chart: Chart, width: Int, height: Int) {
        self.chart = chart
        layout = FrameLayout(
            chart: chart, width: width, height: height,
            textWidth: { s, role in Double(s.count) * SVGRenderer.fontSize[role]! * 0.6 },
            lineHeight: { role in SVGRenderer.fontSize[role]! * 1.2 })
    }

    /// The document's size in pixels (the layout's, which keeps a minimum size).
    var pixelWidth: Int { Int(layout.width) }
    var pixelHeight: Int { Int(layout.height) }

    func n(_ v: Double) -> String { fixed(v, decimals: 2) }

    func render() -> String {
        let L = layout, geo = L.geo
        let W = Int(L.width), H = Int(L.height)
        var id = "\(chart.title)|\(chart.xLabel)|\(chart.yLabel)|\(chart.logY)|\(W)x\(H)"
        for s in chart.series {
            id += "|\(s.name):\(s.points.count)"
            for p in s.points.prefix(64) { id += ",\(p.x):\(p.y)" }
        }
        for b in chart.bars { id += "|\(b.name):\(b.value)" }
        let clipId = "pf-clip-" + String(fnv1a(id), radix: 16)

        var o = ""
        o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(W)\" height=\"\(H)\" viewBox=\"0 0 \(W) \(H)\""
        o += " font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n<!-- preflight -->\n"
        if !chart.title.isEmpty { o += "<title>\(xmlEscape(chart.title))</title>\n" }
        o += "<defs><clipPath id=\"\(clipId)\"><rect x=\"\(n(L.plotLeft - 2))\" y=\"\(n(L.plotTop - 2))\""
        o += " width=\"\(n(L.plotWidth + 4))\" height=\"\(n(L.plotHeight + 4))\"/></clipPath></defs>\n"
        o += "<rect width=\"\(W)\" height=\"\(H)\" fill=\"#ffffff\"/>\n"

        // Grid.
        o += "<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n"
        for v in geo.yTicks {
            let y = crisp(L.py(geo.transform(v)))
            o += "<line x1=\"\(n(L.plotLeft))\" y1=\"\(n(y))\" x2=\"\(n(L.plotRight))\" y2=\"\(n(y))\"/>\n"
        }
        for v in geo.xTicks where !geo.empty && !chart.isBarChart {
            let x = crisp(L.px(v))
            o += "<line x1=\"\(n(x))\" y1=\"\(n(L.plotTop))\" x2=\"\(n(x))\" y2=\"\(n(L.plotBottom))\"/>\n"
        }
        o += "</g>\n"

        // Frame, axes and tick marks.
        o += "<rect class=\"frame\" x=\"\(n(crisp(L.plotLeft)))\" y=\"\(n(crisp(L.plotTop)))\" width=\"\(n(L.plotWidth))\""
        o += " height=\"\(n(L.plotHeight))\" fill=\"none\" stroke=\"#c8c8c8\" stroke-width=\"1\"/>\n"
        o += "<g class=\"axes\" stroke=\"#333333\" stroke-width=\"1\">\n"
        let bx = crisp(L.plotLeft), by = crisp(L.plotBottom)
        o += "<line x1=\"\(n(bx))\" y1=\"\(n(crisp(L.plotTop)))\" x2=\"\(n(bx))\" y2=\"\(n(by))\"/>\n"
        o += "<line x1=\"\(n(bx))\" y1=\"\(n(by))\" x2=\"\(n(L.plotRight))\" y2=\"\(n(by))\"/>\n"
        for v in geo.yTicks {
            let y = crisp(L.py(geo.transform(v)))
            o += "<line x1=\"\(n(bx - L.tickLength))\" y1=\"\(n(y))\" x2=\"\(n(bx))\" y2=\"\(n(y))\"/>\n"
        }
        for v in geo.xTicks where !geo.empty || chart.isBarChart {
            let x = crisp(L.px(v))
            o += "<line x1=\"\(n(x))\" y1=\"\(n(by))\" x2=\"\(n(x))\" y2=\"\(n(by + L.tickLength))\"/>\n"
        }
        o += "</g>\n"

        // Tick labels.
        let tickSize = Self.fontSize[.tick]!
        o += "<g class=\"tick-labels\" font-size=\"\(n(tickSize))\" fill=\"#444444\">\n"
        for (v, label) in zip(geo.yTicks, L.yLabels) {
            let y = L.py(geo.transform(v)) + tickSize * 0.35
            o += "<text x=\"\(n(bx - L.tickLength - 3))\" y=\"\(n(y))\" text-anchor=\"end\">\(xmlEscape(label))</text>\n"
        }
        for (v, label) in zip(geo.xTicks, L.xLabels) {
            let y = by + L.tickLength + 3 + tickSize
            o += "<text x=\"\(n(L.px(v)))\" y=\"\(n(y))\" text-anchor=\"middle\">\(xmlEscape(label))</text>\n"
        }
        o += "</g>\n"

        // Title and axis labels.
        if !chart.title.isEmpty {
            let fs = Self.fontSize[.title]!
            o += "<text class=\"title\" x=\"\(n(L.plotLeft))\" y=\"\(n(L.titleY + fs))\" font-size=\"\(n(fs))\""
            o += " font-weight=\"bold\" fill=\"#111111\">\(xmlEscape(chart.title))</text>\n"
        }
        let labelSize = Self.fontSize[.label]!
        if !chart.xLabel.isEmpty {
            let y = by + L.tickLength + 3 + tickSize * 1.2 + 6 + labelSize
            o += "<text class=\"x-label\" x=\"\(n(L.plotLeft + L.plotWidth / 2))\" y=\"\(n(y))\" font-size=\"\(n(labelSize))\""
            o += " text-anchor=\"middle\" fill=\"#222222\">\(xmlEscape(chart.xLabel))</text>\n"
        }
        let yLabel = chart.logY ? (chart.yLabel.isEmpty ? "log scale" : chart.yLabel + " (log scale)") : chart.yLabel
        if !yLabel.isEmpty {
            let x = 10 + labelSize
            let y = L.plotTop + L.plotHeight / 2
            o += "<text class=\"y-label\" x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(labelSize))\" text-anchor=\"middle\""
            o += " fill=\"#222222\" transform=\"rotate(-90 \(n(x)) \(n(y)))\">\(xmlEscape(yLabel))</text>\n"
        }

        if geo.empty {
            o += "<text class=\"no-data\" x=\"\(n(L.plotLeft + L.plotWidth / 2))\" y=\"\(n(L.plotTop + L.plotHeight / 2))\""
            o += " font-size=\"14\" text-anchor=\"middle\" fill=\"#888888\">no data</text>\n"
        }

        // Series.
        o += "<g class=\"series\" clip-path=\"url(#\(clipId))\" fill=\"none\" stroke-width=\"2\""
        o += " stroke-linejoin=\"round\" stroke-linecap=\"round\">\n"
        let looks = chart.looks
        for (i, runs) in geo.runs.enumerated() {
            let color = Palette.color(looks[i].slot).hex
            let dash = looks[i].style.svgDashArray.map { " stroke-dasharray=\"\($0)\"" } ?? ""
            o += "<g class=\"line\" data-name=\"\(xmlEscape(chart.series[i].name))\" stroke=\"\(color)\"\(dash)>\n"
            for run in runs where run.count > 1 {
                let pts = run.map { "\(n(L.px($0.x))),\(n(L.py($0.t)))" }.joined(separator: " ")
                o += "<polyline points=\"\(pts)\"/>\n"
            }
            o += "</g>\n"
            let lone = runs.contains { $0.count == 1 }
            if L.wantsMarkers(series: i) || lone {
                o += "<g class=\"markers\" fill=\"\(color)\" stroke=\"none\">\n"
                for run in runs where L.wantsMarkers(series: i) || run.count == 1 {
                    for p in run {
                        o += "<circle cx=\"\(n(L.px(p.x)))\" cy=\"\(n(L.py(p.t)))\" r=\"3\"/>\n"
                    }
                }
                o += "</g>\n"
            }
        }
        o += "</g>\n"

        // Bars, each with its value written over it.
        if chart.isBarChart {
            let slot = L.plotWidth / Double(chart.bars.count)
            let barWidth = Swift.min(80, slot * 0.6)
            let base = L.py(geo.barBase)
            let fs = Self.fontSize[.tick]!
            o += "<g class=\"bars\" clip-path=\"url(#\(clipId))\">\n"
            for (i, bar) in chart.bars.enumerated() {
                let cx = L.px(Double(i + 1))
                guard let b = geo.bars[i] else {
                    o += "<text class=\"bar-value\" x=\"\(n(cx))\" y=\"\(n(base - 4))\" font-size=\"\(n(fs))\""
                    o += " text-anchor=\"middle\" fill=\"#888888\">n/a</text>\n"
                    continue
                }
                // Clipped to the plot (a value beyond a fixed range reaches the edge).
                let top = Swift.min(Swift.max(L.py(b.t), L.plotTop), L.plotBottom)
                let y = Swift.min(top, base), h = abs(base - top)
                o += "<rect class=\"bar\" data-name=\"\(xmlEscape(bar.name))\" x=\"\(n(cx - barWidth / 2))\" y=\"\(n(y))\""
                o += " width=\"\(n(barWidth))\" height=\"\(n(h))\" fill=\"\(Palette.color(i).hex)\"/>\n"
                // The value over the bar; a bar reaching the top of the plot has it inside, in a colour that
                // stands out against the bar's.
                let label = bar.label ?? formatTick(bar.value)
                let inside = y - 4 - fs < L.plotTop && h > fs + 4
                let c = Palette.color(i)
                let light = 0.299 * Double(c.r) + 0.587 * Double(c.g) + 0.114 * Double(c.b) > 140
                let labelY = inside ? y + fs + 2 : Swift.max(L.plotTop + fs, y - 4)
                let ink = inside && !light ? "#ffffff" : "#222222"
                o += "<text class=\"bar-value\" x=\"\(n(cx))\" y=\"\(n(labelY))\" font-size=\"\(n(fs))\""
                o += " text-anchor=\"middle\" fill=\"\(ink)\">\(xmlEscape(label))</text>\n"
            }
            o += "</g>\n"
        }

        // Legend.
        if !L.legend.isEmpty {
            let fs = Self.fontSize[.legend]!
            o += "<g class=\"legend\" font-size=\"\(n(fs))\" fill=\"#222222\">\n"
            for e in L.legend {
                if e.series < 0 {
                    // "… and N more": no sample.
                } else if chart.isBarChart {
                    let side = L.legendSampleWidth
                    o += "<rect x=\"\(n(e.x))\" y=\"\(n(e.y - side / 2))\" width=\"\(n(side))\" height=\"\(n(side))\""
                    o += " fill=\"\(Palette.color(e.series).hex)\"/>\n"
                } else {
                    let color = Palette.color(looks[e.series].slot).hex
                    let dash = looks[e.series].style.svgDashArray.map { " stroke-dasharray=\"\($0)\"" } ?? ""
                    o += "<line x1=\"\(n(e.x + 1))\" y1=\"\(n(e.y))\" x2=\"\(n(e.x + L.legendSampleWidth - 1))\" y2=\"\(n(e.y))\""
                    o += " stroke=\"\(color)\" stroke-width=\"2.5\" stroke-linecap=\"round\"\(dash)/>\n"
                }
                o += "<text x=\"\(n(e.x + L.legendSampleWidth + 6))\" y=\"\(n(e.y + fs * 0.35))\">\(xmlEscape(e.name))</text>\n"
            }
            o += "</g>\n"
        }
        if let note = L.note {
            let fs = Self.fontSize[.tick]!
            o += "<text class=\"note\" x=\"\(n(L.plotLeft))\" y=\"\(n(L.noteY + fs * 0.35))\" font-size=\"\(n(fs))\""
            o += " fill=\"#666666\">\(xmlEscape(note))</text>\n"
        }
        o += "</svg>\n"
        return o
    }

    /// Centre a 1px line on a pixel so it renders sharp.
    func crisp(_ v: Double) -> Double { v.rounded(.down) + 0.5 }
}
