import Foundation
import PreflightPlot
import XCTest

/// Issue 16's readable charts: twelve colours, line styles, a log axis, bars.
final class ChartStyleTests: XCTestCase {
    // MARK: colours

    func testTwelveSeriesGetTwelveDistinctStrokes() {
        let series = (0..<13).map { k in Series(name: "s\(k)", points: curve(5) { Double(k) + $0 }) }
        let svg = Chart(title: "many", series: series).renderSVG(width: 800, height: 500)
        let strokes = (0..<13).map { attribute(lineTag(svg, "s\($0)"), "stroke") }
        XCTAssertEqual(Set(strokes.prefix(12)).count, 12, "\(strokes)")
        XCTAssertTrue(strokes.prefix(12).allSatisfy { $0?.hasPrefix("#") ?? false }, "\(strokes)")
        // The 13th series takes the first colour again, told apart by its dashes.
        XCTAssertEqual(strokes[12], strokes[0])
        XCTAssertNil(attribute(lineTag(svg, "s0"), "stroke-dasharray"))
        XCTAssertNotNil(attribute(lineTag(svg, "s12"), "stroke-dasharray"))
    }

    func testPaletteColoursAreFarApart() {
        // Distinct is not enough: no two colours closer than a clear step in RGB.
        let c = Palette.colors
        XCTAssertEqual(c.count, 12)
        for i in 0..<c.count {
            for j in (i + 1)..<c.count {
                let d = [Int(c[i].r) - Int(c[j].r), Int(c[i].g) - Int(c[j].g), Int(c[i].b) - Int(c[j].b)]
                XCTAssertGreaterThan(d.map { $0 * $0 }.reduce(0, +), 60 * 60, "\(c[i].hex) and \(c[j].hex)")
            }
        }
    }

    func testTwelveSeriesGetTwelveTerminalColours() {
        let series = (0..<12).map { k in Series(name: "s\(k)", points: curve(5) { Double(k) * 10 + $0 }) }
        let text = Chart(title: "many", series: series).renderTerminal(TerminalStyle(width: 100, height: 30, unicode: true, color: true))
        let codes = terminalColourCodes(text)
        XCTAssertEqual(codes.count, 12, "\(codes)")
    }

    // MARK: line styles

    /// Three runs of two layers each, as `plot hidden` draws them: colour by layer (group), style by run.
    private func runsByLayers() -> Chart {
        var series: [Series] = []
        for run in 0..<3 {
            for layer in 0..<2 {
                series.append(Series(name: "r\(run)/h\(layer + 1)", points: curve(4) { Double(run * 2 + layer) + $0 },
                                     style: LineStyle.allCases[run], group: layer))
            }
        }
        return Chart(title: "Hidden", series: series)
    }

    func testStylesTellRunsApartAndColoursTellLayersApart() {
        let svg = runsByLayers().renderSVG()
        for run in 0..<3 {
            // One run: one style across its layers, and the layers in different colours.
            let h1 = lineTag(svg, "r\(run)/h1"), h2 = lineTag(svg, "r\(run)/h2")
            XCTAssertEqual(attribute(h1, "stroke-dasharray"), attribute(h2, "stroke-dasharray"))
            XCTAssertNotEqual(attribute(h1, "stroke"), attribute(h2, "stroke"))
        }
        for layer in 1...2 {
            let tags = (0..<3).map { lineTag(svg, "r\($0)/h\(layer)") }
            XCTAssertEqual(Set(tags.map { attribute($0, "stroke") }).count, 1, "layer \(layer): one colour")
            XCTAssertEqual(Set(tags.map { attribute($0, "stroke-dasharray") ?? "solid" }).count, 3, "layer \(layer): three styles")
        }
        XCTAssertNil(attribute(lineTag(svg, "r0/h1"), "stroke-dasharray"), "the first run is solid")
    }

    func testEveryLineStyleHasItsOwnDashesAndDots() {
        let series = LineStyle.allCases.enumerated().map { k, style in
            Series(name: "s\(k)", points: curve(30) { _ in Double(k) }, style: style, group: 0)
        }
        let chart = Chart(title: "styles", series: series)
        let svg = chart.renderSVG()
        let arrays = (0..<series.count).map { attribute(lineTag(svg, "s\($0)"), "stroke-dasharray") ?? "solid" }
        XCTAssertEqual(Set(arrays).count, LineStyle.allCases.count, "\(arrays)")
        // In the terminal (colour on, so the styles are the chart's): each row of a flat line shows its pattern.
        let text = stripANSI(chart.renderTerminal(TerminalStyle(width: 80, height: 30, unicode: true, color: true)))
        let legend = text.split(separator: "\n").filter { $0.contains(" s0") || $0.contains(" s1") }.joined()
        XCTAssertTrue(legend.contains("⠒⠒⠒ s0"), legend)  // solid
        XCTAssertFalse(legend.contains("⠒⠒⠒ s1"), legend)  // dashed has a gap
    }

    // MARK: log scale

    /// The y coordinate of each y tick label of an SVG, by label.
    private func yTickPositions(_ svg: String) -> [String: Double] {
        guard let start = svg.range(of: "<g class=\"tick-labels\""),
              let end = svg[start.upperBound...].range(of: "</g>") else { return [:] }
        var out: [String: Double] = [:]
        for line in svg[start.upperBound..<end.lowerBound].split(separator: "\n") where line.contains("text-anchor=\"end\"") {
            guard let y = attribute(String(line), "y").flatMap(Double.init),
                  let open = line.range(of: "\">"), let close = line.range(of: "</text>") else { continue }
            out[String(line[open.upperBound..<close.lowerBound])] = y
        }
        return out
    }

    func testLogTicksArePowersOfTenEquallySpaced() throws {
        let s = Series(name: "means", points: [(1, 0.02), (2, 0.5), (3, 7), (4, 60)])
        let chart = Chart(title: "log", series: [s], logY: true)
        let ticks = yTickPositions(chart.renderSVG(width: 640, height: 400))
        XCTAssertEqual(Set(ticks.keys), ["0.01", "0.1", "1", "10", "100"], "\(ticks)")
        let ys = try ["0.01", "0.1", "1", "10", "100"].map { try XCTUnwrap(ticks[$0]) }
        let step = ys[0] - ys[1]
        XCTAssertGreaterThan(step, 20)
        for k in 1..<ys.count { XCTAssertEqual(ys[k - 1] - ys[k], step, accuracy: 0.02) }
        // A point at 10^0.5 sits half-way between the ticks 1 and 10 (the marker's centre; labels sit 0.35 em lower).
        let half = Chart(title: "log", series: [Series(name: "m", points: [(1, 0.01), (2, pow(10, 0.5)), (3, 100)])], logY: true)
        let svg = half.renderSVG(width: 640, height: 400)
        let cys = circles(svg).map(\.cy)
        XCTAssertEqual(cys.count, 3)
        let t = yTickPositions(svg)
        let y1 = try XCTUnwrap(t["1"]), y10 = try XCTUnwrap(t["10"])
        XCTAssertEqual(cys[1] + 11 * 0.35, (y1 + y10) / 2, accuracy: 0.02)
    }

    func testLogTicksForNarrowAndWideRanges() {
        // Up to two decades: 1, 2 and 5 in each; more: powers of ten only.
        func labels(_ lo: Double, _ hi: Double) -> Set<String> {
            let chart = Chart(title: "log", series: [Series(name: "m", points: [(1, lo), (2, hi)])], logY: true)
            return Set(yTickPositions(chart.renderSVG(width: 640, height: 400)).keys)
        }
        XCTAssertEqual(labels(0.3, 7), ["0.1", "0.2", "0.5", "1", "2", "5", "10"])
        XCTAssertEqual(labels(1e-4, 50), ["1e-4", "1e-3", "0.01", "0.1", "1", "10", "100"])
    }

    func testLogLeavesOutNonPositiveValuesWithANote() {
        let s = Series(name: "tanh means", points: [(0, -0.2), (1, 0), (2, 0.3), (3, 3)])
        let chart = Chart(title: "Hidden", yLabel: "mean", series: [s], logY: true)
        let svg = chart.renderSVG()
        XCTAssertTrue(svg.contains("log scale: 2 values &lt;= 0 not shown"), svg)
        XCTAssertTrue(svg.contains("mean (log scale)"))
        // Only the two positive points are drawn (one polyline of 2 points).
        XCTAssertEqual(svg.components(separatedBy: "<polyline ").count - 1, 1)
        XCTAssertEqual(circles(svg).count, 2)
        // Without non-positive values, no note.
        let clean = Chart(title: "Hidden", series: [Series(name: "m", points: [(0, 0.5), (1, 3)])], logY: true)
        XCTAssertFalse(clean.renderSVG().contains("not shown"))
        XCTAssertFalse(clean.renderTerminal(TerminalStyle()).contains("not shown"))
    }

    func testTerminalLogScale() {
        let s = Series(name: "bad", points: [(0, 0.05), (1, 0), (2, 40), (3, 900)])
        let chart = Chart(title: "Hidden-layer mean activation", series: [s], logY: true)
        for style in [TerminalStyle(width: 60, height: 20, unicode: true, color: false),
                      TerminalStyle(width: 60, height: 20, unicode: false, color: false)] {
            let text = chart.renderTerminal(style)
            let lines = text.split(separator: "\n").map(String.init)
            XCTAssertTrue(lines[0].hasSuffix("log scale"), lines[0])
            XCTAssertEqual(lines.last, "log scale: 1 value <= 0 not shown")
            XCTAssertLessThanOrEqual(lines.count, 20)
            // The y labels (before the axis) are the powers of ten from 0.01 to 1000, top to bottom.
            let axisChar: Character = style.unicode ? "┤" : "+"
            let labels = lines.dropFirst().prefix { !$0.contains(style.unicode ? "└" : "+-") }
                .compactMap { line -> String? in
                    guard let i = line.firstIndex(of: axisChar) else { return nil }
                    return line[..<i].trimmingCharacters(in: .whitespaces)
                }
            XCTAssertEqual(labels, ["1k", "100", "10", "1", "0.1", "0.01"], text)
            // Equal steps: the label rows are evenly spaced.
            let axis = lines.firstIndex { $0.contains(style.unicode ? "└" : "+-") }!
            let rows = lines.prefix(axis).enumerated().filter { $0.element.contains(axisChar) }.map(\.offset)
            let gaps = Set(zip(rows.dropFirst(), rows).map { $0 - $1 })
            XCTAssertLessThanOrEqual(gaps.max()! - gaps.min()!, 1, text)
        }
    }

    // MARK: bars

    private func saturation() -> Chart {
        Chart(title: "First-batch softmax saturation", xLabel: "runs", yLabel: "share",
              bars: [Bar(name: "good", value: 0, label: "0.0%"), Bar(name: "bad", value: 0.85, label: "85.0%"),
                     Bar(name: "odd", value: 0.4), Bar(name: "never trained", value: .nan)],
              yRange: 0...1)
    }

    func testSVGBarsOnePerRunFromZero() throws {
        let svg = saturation().renderSVG(width: 800, height: 500)
        XCTAssertFalse(svg.contains("<polyline"))
        let bars = rects(svg, "bar")
        XCTAssertEqual(bars.map(\.name), ["good", "bad", "odd"], "the NaN bar is not drawn")
        XCTAssertEqual(Set(bars.map(\.fill)).count, 3)
        XCTAssertEqual(bars.map(\.fill), (0..<3).map { Palette.color($0).hex })
        // All stand on the same baseline (zero), heights in proportion to the values.
        let bottoms = bars.map { $0.y + $0.height }
        XCTAssertEqual(bottoms.max()! - bottoms.min()!, 0, accuracy: 0.02)
        XCTAssertEqual(bars[0].height, 0, accuracy: 0.02)
        XCTAssertEqual(bars[1].height / bars[2].height, 0.85 / 0.4, accuracy: 0.01)
        // Left to right, equal widths, labelled with their values; the missing one says n/a.
        XCTAssertTrue(zip(bars, bars.dropFirst()).allSatisfy { $0.x < $1.x })
        for label in ["0.0%", "85.0%", "0.4", "n/a"] { XCTAssertTrue(svg.contains(">\(label)</text>"), label) }
        // The names fit under the bars, so they are the x axis' labels.
        for name in ["good", "bad", "odd", "never trained"] {
            XCTAssertTrue(svg.contains("text-anchor=\"middle\">\(name)</text>"), name)
        }
    }

    func testAFullBarCarriesItsValueInside() {
        let chart = Chart(title: "sat", bars: [Bar(name: "all", value: 1, label: "100.0%"), Bar(name: "some", value: 0.3, label: "30.0%")],
                          yRange: 0...1)
        let svg = chart.renderSVG(width: 640, height: 400)
        let bars = rects(svg, "bar")
        func label(_ text: String) -> String {
            String(svg.split(separator: "\n").first { $0.hasPrefix("<text class=\"bar-value\"") && $0.hasSuffix(">\(text)</text>") } ?? "")
        }
        // The full bar's label is inside it, below its top, in white on the dark blue; the other's sits over its
        // bar in the text's colour.
        XCTAssertGreaterThan(attribute(label("100.0%"), "y").flatMap(Double.init) ?? 0, bars[0].y)
        XCTAssertEqual(attribute(label("100.0%"), "fill"), "#ffffff")
        XCTAssertLessThan(attribute(label("30.0%"), "y").flatMap(Double.init) ?? .infinity, bars[1].y)
        XCTAssertEqual(attribute(label("30.0%"), "fill"), "#222222")
    }

    func testLongBarNamesAreNumberedWithALegend() {
        let bars = (0..<6).map { Bar(name: "truncnormal:0.5-d\($0)-s0-and-more", value: Double($0) / 10) }
        let svg = Chart(title: "sat", bars: bars).renderSVG(width: 800, height: 500)
        XCTAssertTrue(svg.contains("<g class=\"legend\""))
        XCTAssertTrue(svg.contains(">1 truncnormal:0.5-d0-s0-and-more</text>"))
        XCTAssertTrue(svg.contains("text-anchor=\"middle\">6</text>"))
    }

    func testTerminalBars() {
        let text = saturation().renderTerminal(TerminalStyle(width: 60, height: 16, unicode: true, color: false))
        let lines = text.split(separator: "\n").map(String.init)
        let axis = lines.firstIndex { $0.contains("└") }!
        let rows = lines[1..<axis]
        let bad = rows.filter { $0.contains("█") }.count
        XCTAssertGreaterThanOrEqual(bad, Int(Double(rows.count) * 0.7), text)  // 85% of the height
        XCTAssertTrue(lines.contains { $0.contains("██ 1 good") && $0.contains("██ 2 bad") }, text)
        XCTAssertTrue(text.contains("4 never trained"), text)
        // ASCII: bars of #.
        let ascii = saturation().renderTerminal(TerminalStyle(width: 60, height: 16, unicode: false, color: false))
        XCTAssertTrue(ascii.contains("###"), ascii)
        XCTAssertTrue(ascii.utf8.allSatisfy { $0 < 0x80 })
    }

    func testTerminalBarsAreColoured() {
        let text = saturation().renderTerminal(TerminalStyle(width: 60, height: 16, unicode: true, color: true))
        for k in 1...2 { XCTAssertTrue(text.contains("\u{1B}[38;5;") && text.contains("█"), "bar \(k)") }
        XCTAssertGreaterThanOrEqual(terminalColourCodes(text).count, 3)
    }

    func testBarsOnALogAxis() {
        var chart = saturation()
        chart.logY = true
        let svg = chart.renderSVG()
        XCTAssertEqual(rects(svg, "bar").map(\.name), ["bad", "odd"], "zero cannot be drawn on a log axis")
        XCTAssertTrue(svg.contains("log scale: 1 value &lt;= 0 not shown"))
    }

    func testAwkwardBarCharts() throws {
        let charts = [
            Chart(title: "all missing", bars: [Bar(name: "a", value: .nan), Bar(name: "b", value: .nan)]),
            Chart(title: "one", bars: [Bar(name: "only", value: 0.5)]),
            Chart(title: "negative", bars: [Bar(name: "down", value: -2), Bar(name: "up", value: 3)]),
            Chart(title: "huge", bars: [Bar(name: "h", value: 1e300), Bar(name: "i", value: .infinity)]),
            Chart(title: "clipped", bars: [Bar(name: "c", value: 5)], yRange: 0...1),
            Chart(title: "log zeros", bars: [Bar(name: "z", value: 0), Bar(name: "n", value: -1)], logY: true),
            Chart(title: "many", bars: (0..<40).map { Bar(name: "run \($0)", value: Double($0)) }),
        ]
        for chart in charts {
            for style in [TerminalStyle(width: 50, height: 12, unicode: true, color: true),
                          TerminalStyle(width: 30, height: 8, unicode: false, color: false)] {
                for line in stripANSI(chart.renderTerminal(style)).split(separator: "\n") {
                    XCTAssertLessThanOrEqual(line.count, style.width, "\(chart.title): \(line)")
                }
            }
            let svg = chart.renderSVG(width: 400, height: 300)
            XCTAssertFalse(svg.contains("nan") || svg.contains("inf\""), chart.title)
            for bar in rects(svg, "bar") {
                XCTAssertTrue(bar.x.isFinite && bar.y.isFinite && bar.height >= 0, "\(chart.title): \(bar)")
                XCTAssertGreaterThanOrEqual(bar.y, 0, chart.title)
                XCTAssertLessThanOrEqual(bar.y + bar.height, 300, chart.title)
            }
            let image = try CairoImage(try chart.renderPNG(width: 400, height: 300))
            XCTAssertEqual(image.width, 400)
        }
    }

    // MARK: helpers

    private func lineTag(_ svg: String, _ name: String) -> String {
        guard let r = svg.range(of: "<g class=\"line\" data-name=\"\(name)\"") else { return "" }
        return String(svg[r.lowerBound..<(svg[r.upperBound...].firstIndex(of: ">") ?? svg.endIndex)])
    }

    private func attribute(_ tag: String, _ name: String) -> String? {
        guard let r = tag.range(of: " \(name)=\"") else { return nil }
        return String(tag[r.upperBound...].prefix { $0 != "\"" })
    }

    private func circles(_ svg: String) -> [(cx: Double, cy: Double)] {
        svg.split(separator: "\n").filter { $0.hasPrefix("<circle ") }.compactMap { line in
            guard let x = attribute(String(line), "cx").flatMap(Double.init),
                  let y = attribute(String(line), "cy").flatMap(Double.init) else { return nil }
            return (x, y)
        }
    }

    private func rects(_ svg: String, _ cls: String) -> [(name: String, x: Double, y: Double, height: Double, fill: String)] {
        svg.split(separator: "\n").filter { $0.hasPrefix("<rect class=\"\(cls)\"") }.compactMap { l in
            let line = String(l)
            guard let name = attribute(line, "data-name"), let x = attribute(line, "x").flatMap(Double.init),
                  let y = attribute(line, "y").flatMap(Double.init), let h = attribute(line, "height").flatMap(Double.init),
                  let fill = attribute(line, "fill") else { return nil }
            return (name, x, y, h, fill)
        }
    }
}

/// For a person to look at: $TMPDIR/plot-twelve.png, plot-styles.png and plot-bars.png.
final class ChartPicturesForPeople: XCTestCase {
    func testWritesPictures() throws {
        let twelve = Chart(title: "Twelve series", xLabel: "epoch", yLabel: "value",
                           series: (0..<12).map { k in Series(name: "run \(k + 1)", points: curve(10) { Double(k) + sin($0 / 2 + Double(k)) }) })
        var styles: [Series] = []
        for run in 0..<3 {
            for layer in 0..<3 {
                styles.append(Series(name: "r\(run + 1)/h\(layer + 1)", points: curve(10) { pow(3, Double(layer)) * (Double(run) + 1) * (1 + 1 / $0) },
                                     style: LineStyle.allCases[run], group: layer))
            }
        }
        let hidden = Chart(title: "Hidden-layer mean activation", xLabel: "epoch", yLabel: "mean activation", series: styles, logY: true)
        let bars = Chart(title: "First-batch softmax saturation", xLabel: "runs", yLabel: "share",
                         bars: [Bar(name: "good", value: 0, label: "0.0%"), Bar(name: "bad", value: 0.93, label: "93.0%"),
                                Bar(name: "sgd", value: 0.2, label: "20.0%"), Bar(name: "untrained", value: .nan)], yRange: 0...1)
        for (name, chart) in [("twelve", twelve), ("styles", hidden), ("bars", bars)] {
            let png = try chart.renderPNG(width: 800, height: 500)
            try Data(png).write(to: URL(fileURLWithPath: NSTemporaryDirectory() + "plot-\(name).png"))
            XCTAssertEqual(try CairoImage(png).width, 800)
        }
    }
}
