import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import PreflightPlot
import XCTest

private func lossChart() -> Chart {
    let train = Series(name: "train loss", points: curve(20) { 2.3 * exp(-$0 / 6) + 0.1 })
    let val = Series(name: "val loss", points: curve(20) { 2.3 * exp(-$0 / 7) + 0.25 }, dashed: true)
    return Chart(title: "Loss", xLabel: "epoch", yLabel: "loss", series: [train, val])
}

private func rising() -> Chart {
    Chart(title: "Rising", xLabel: "epoch", yLabel: "y", series: [Series(name: "up", points: curve(10) { $0 })])
}

/// Charts that have broken plotting code before: they must all render.
private func awkwardCharts() -> [Chart] {
    var many: [Series] = []
    for k in 0..<12 { many.append(Series(name: "run \(k)", points: curve(6) { Double(k) + $0 })) }
    return [
        Chart(title: "empty", series: []),
        Chart(title: "empty series", series: [Series(name: "nothing", points: [])]),
        Chart(title: "one point", series: [Series(name: "p", points: [(x: 3, y: 0.5)])]),
        Chart(title: "constant", series: [Series(name: "c", points: curve(5) { _ in 2 })]),
        Chart(title: "zero constant", series: [Series(name: "z", points: curve(5) { _ in 0 })]),
        Chart(title: "all nan", series: [Series(name: "n", points: curve(5) { _ in .nan })]),
        Chart(title: "nan gaps", series: [Series(name: "g", points: curve(9) { $0.truncatingRemainder(dividingBy: 3) == 0 ? .nan : $0 })]),
        Chart(title: "infinities", series: [Series(name: "i", points: curve(5) { $0 == 2 ? .infinity : -$0 })]),
        Chart(title: "log zeros", series: [Series(name: "l", points: curve(8) { $0 < 3 ? 0 : ($0 == 4 ? -1 : pow(10, -$0)) })], logY: true),
        Chart(title: "log all zero", series: [Series(name: "l", points: curve(4) { _ in 0 })], logY: true),
        Chart(title: "log one", series: [Series(name: "l", points: [(x: 1, y: 1e-3)])], logY: true),
        Chart(title: "many", series: many),
        Chart(title: "clipped", series: [Series(name: "c", points: curve(5) { $0 == 3 ? 1e12 : 0.5 })], yRange: 0...1),
        Chart(title: "huge", series: [Series(name: "h", points: [(x: -1e300, y: 1e300), (x: 1e300, y: -1e300)])]),
        Chart(title: "fractional x", series: [Series(name: "f", points: [(x: 0.1, y: 1), (x: 0.35, y: 2)])]),
        Chart(title: "", xLabel: "", yLabel: "", series: [Series(name: "", points: curve(3) { $0 })]),
    ]
}

final class NiceTicksTests: XCTestCase {
    func testTicksCoverTheRangeWithOneTwoFiveSteps() {
        let ranges: [(Double, Double)] = [(0, 1), (0.1, 2.4), (-3, 1000), (1e-5, 3e-5), (17, 93), (-5, -1), (0.0021, 0.0089), (1, 20)]
        for (lo, hi) in ranges {
            for count in [4, 5, 6] {
                let t = NiceTicks.ticks(min: lo, max: hi, count: count)
                XCTAssertGreaterThanOrEqual(t.count, 3, "\(lo)...\(hi)")
                XCTAssertLessThanOrEqual(t.count, count + 2, "\(lo)...\(hi)")
                XCTAssertLessThanOrEqual(t.first!, lo + 1e-12 * abs(lo), "\(lo)...\(hi): \(t)")
                XCTAssertGreaterThanOrEqual(t.last!, hi - 1e-12 * abs(hi), "\(lo)...\(hi): \(t)")
                let step = t[1] - t[0]
                for k in 1..<t.count {
                    XCTAssertEqual(t[k] - t[k - 1], step, accuracy: step * 1e-9)
                }
                let mantissa = step / pow(10, log10(step).rounded(.down))
                XCTAssertTrue([1.0, 2.0, 5.0].contains { abs($0 - mantissa) < 1e-6 }, "step \(step)")
                for v in t {  // ticks are multiples of the step
                    XCTAssertEqual((v / step).rounded(), v / step, accuracy: 1e-6)
                }
            }
        }
    }

    func testUnitRangeGivesTenthsOrFifths() {
        XCTAssertEqual(NiceTicks.ticks(min: 0, max: 1, count: 5), [0, 0.2, 0.4, 0.6, 0.8, 1])
    }

    func testDegenerateInput() {
        XCTAssertEqual(NiceTicks.ticks(min: .nan, max: 1, count: 5), [])
        XCTAssertEqual(NiceTicks.ticks(min: 0, max: .infinity, count: 5), [])
        let same = NiceTicks.ticks(min: 3, max: 3, count: 5)
        XCTAssertGreaterThan(same.count, 1)
        XCTAssertLessThanOrEqual(same.first!, 3)
        XCTAssertGreaterThanOrEqual(same.last!, 3)
        let swapped = NiceTicks.ticks(min: 10, max: 0, count: 5)
        XCTAssertEqual(swapped.first, 0)
        XCTAssertEqual(swapped.last, 10)
    }

    func testFormatTick() {
        XCTAssertEqual(formatTick(0), "0")
        XCTAssertEqual(formatTick(0.5), "0.5")
        XCTAssertEqual(formatTick(0.30000000000000004), "0.3")
        XCTAssertEqual(formatTick(12.5), "12.5")
        XCTAssertEqual(formatTick(-0.2), "-0.2")
        XCTAssertEqual(formatTick(0.001), "1e-3")
        XCTAssertEqual(formatTick(0.00025), "2.5e-4")
        XCTAssertEqual(formatTick(2500), "2.5k")
        XCTAssertEqual(formatTick(1_000_000), "1M")
        XCTAssertEqual(formatTick(999_999), "1M")
        XCTAssertEqual(formatTick(20), "20")
        for v in [1e-9, 3.14159, 123456.0, -7.5e-7, 42e9] {
            XCTAssertLessThanOrEqual(formatTick(v).count, 8, "\(v) -> \(formatTick(v))")
        }
    }
}

final class TerminalTests: XCTestCase {
    let styles: [TerminalStyle] = [
        TerminalStyle(width: 80, height: 20, unicode: true, color: true),
        TerminalStyle(width: 60, height: 14, unicode: true, color: false),
        TerminalStyle(width: 50, height: 12, unicode: false, color: true),
        TerminalStyle(width: 40, height: 10, unicode: false, color: false),
    ]

    func testWidthTitleAndLegend() {
        for style in styles {
            let text = lossChart().renderTerminal(style)
            let lines = stripANSI(text).split(separator: "\n", omittingEmptySubsequences: false)
            for line in lines {
                XCTAssertLessThanOrEqual(line.count, style.width, "line too wide: \(line)")
            }
            XCTAssertTrue(lines.first!.contains("Loss"))
            XCTAssertTrue(text.contains("train loss"))
            XCTAssertTrue(text.contains("val loss"))
        }
    }

    func testColourOnlyWhenAsked() {
        let colored = lossChart().renderTerminal(TerminalStyle(width: 70, height: 16, unicode: true, color: true))
        XCTAssertTrue(colored.contains("\u{1B}["))
        let plain = lossChart().renderTerminal(TerminalStyle(width: 70, height: 16, unicode: true, color: false))
        XCTAssertFalse(plain.contains("\u{1B}"))
    }

    func testASCIIModeIsPureASCII() {
        for chart in [lossChart(), rising()] + awkwardCharts() {
            let text = chart.renderTerminal(TerminalStyle(width: 60, height: 15, unicode: false, color: false))
            XCTAssertTrue(text.utf8.allSatisfy { $0 < 0x80 }, "non-ASCII in \(chart.title)")
            XCTAssertFalse(text.utf8.contains(0x1B))
        }
        // Non-ASCII names are replaced, not passed through.
        let odd = Chart(title: "Verlust — Lauf 1", series: [Series(name: "größe", points: curve(3) { $0 })])
        XCTAssertTrue(odd.renderTerminal(TerminalStyle(width: 40, height: 10, unicode: false, color: false))
            .utf8.allSatisfy { $0 < 0x80 })
    }

    func testASCIIMarkersPerSeries() {
        let text = lossChart().renderTerminal(TerminalStyle(width: 60, height: 16, unicode: false, color: false))
        XCTAssertTrue(text.contains("*"))
        XCTAssertTrue(text.contains("+"))
    }

    /// The plot rows of a unicode, colourless render: for each row, the text
    /// after the y axis.
    private func plotRows(_ text: String) -> [[Character]] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let axisIndex = lines.firstIndex { $0.contains("└") }!
        return lines[1..<axisIndex].map { line in
            let chars = Array(line)
            let axis = chars.firstIndex { $0 == "│" || $0 == "┤" }!
            return Array(chars[(axis + 1)...])
        }
    }

    func testBrailleRisingLineMarksCorners() {
        let text = rising().renderTerminal(TerminalStyle(width: 60, height: 20, unicode: true, color: false))
        let rows = plotRows(text)
        XCTAssertGreaterThanOrEqual(rows.count, 10)
        let cols = 60 - 6
        func marked(rows r: Range<Int>, cols c: Range<Int>) -> Bool {
            r.contains { i in c.contains { j in j < rows[i].count && isBraille(rows[i][j]) } }
        }
        let n = rows.count
        XCTAssertTrue(marked(rows: (n - n / 4)..<n, cols: 0..<(cols / 4)), "no mark bottom-left:\n\(text)")
        XCTAssertTrue(marked(rows: 0..<(n / 4), cols: (cols - cols / 4)..<cols), "no mark top-right:\n\(text)")
        XCTAssertFalse(marked(rows: 0..<(n / 4), cols: 0..<(cols / 4)), "mark top-left:\n\(text)")
        XCTAssertFalse(marked(rows: (n - n / 4)..<n, cols: (cols - cols / 4)..<cols), "mark bottom-right:\n\(text)")
    }

    func testIntegerEpochTicks() {
        let text = rising().renderTerminal(TerminalStyle(width: 70, height: 16, unicode: false, color: false))
        let lines = text.split(separator: "\n").map(String.init)
        let axis = lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix("+-") }!
        let labels = lines[axis + 1].split(separator: " ").filter { $0 != "epoch" }
        XCTAssertGreaterThanOrEqual(labels.count, 2)
        for l in labels { XCTAssertNotNil(Int(l), "non-integer epoch tick \(l)") }
    }

    func testNoDataAndAwkwardCharts() {
        for chart in awkwardCharts() {
            for style in styles + [TerminalStyle(width: 5, height: 1, unicode: true, color: true)] {
                let text = chart.renderTerminal(style)
                XCTAssertFalse(text.isEmpty)
                if style.width >= 16 {
                    for line in stripANSI(text).split(separator: "\n") {
                        XCTAssertLessThanOrEqual(line.count, style.width, "\(chart.title): \(line)")
                    }
                }
            }
        }
        let empty = Chart(title: "Nothing", series: []).renderTerminal(TerminalStyle(width: 40, height: 10, unicode: true, color: false))
        XCTAssertTrue(empty.contains("no data"))
    }

    func testManySeriesGetDistinctColours() {
        var many: [Series] = []
        for k in 0..<8 { many.append(Series(name: "s\(k)", points: curve(5) { Double(k) * 10 + $0 })) }
        let text = Chart(title: "many", series: many).renderTerminal(TerminalStyle(width: 80, height: 24, unicode: true, color: true))
        let codes = terminalColourCodes(text)
        XCTAssertGreaterThanOrEqual(codes.count, 7)
    }
}

#if canImport(FoundationXML) || os(macOS)
/// An attribute's value. (swift-corelibs' `attribute(forName:)` misses
/// attributes of elements in a default namespace, so look them up by hand.)
private func attr(_ e: XMLElement, _ name: String) -> String? {
    e.attributes?.first { $0.name == name || $0.localName == name }?.stringValue
}
#endif

final class SVGTests: XCTestCase {
    func testStructureAndPolylines() throws {
        var chart = lossChart()
        chart.title = "Loss <run & \"1\">"
        chart.series[1].name = "val <loss> & 'more'"
        let svg = chart.renderSVG(width: 640, height: 400)
        XCTAssertTrue(svg.contains("Loss &lt;run &amp; &quot;1&quot;&gt;"))
        XCTAssertTrue(svg.contains("val &lt;loss&gt; &amp; &apos;more&apos;"))
        XCTAssertFalse(svg.contains("<run"))

        #if canImport(FoundationXML) || os(macOS)
        let doc = try XMLDocument(xmlString: svg, options: [])
        let root = try XCTUnwrap(doc.rootElement())
        XCTAssertEqual(root.name, "svg")
        XCTAssertEqual(attr(root, "width"), "640")
        XCTAssertEqual(attr(root, "height"), "400")
        XCTAssertEqual(attr(root, "viewBox"), "0 0 640 400")
        XCTAssertEqual(root.uri ?? attr(root, "xmlns"), "http://www.w3.org/2000/svg")
        let polylines = try root.nodes(forXPath: "//*[local-name()='polyline']").compactMap { $0 as? XMLElement }
        XCTAssertEqual(polylines.count, 2)
        for p in polylines {
            let pts = try XCTUnwrap(attr(p, "points")).split(separator: " ")
            XCTAssertEqual(pts.count, 20)
            for pt in pts {
                let xy = pt.split(separator: ",").compactMap { Double($0) }
                XCTAssertEqual(xy.count, 2)
                XCTAssertTrue((0...640).contains(xy[0]) && (0...400).contains(xy[1]), "point \(pt)")
            }
        }
        let texts = try root.nodes(forXPath: "//*[local-name()='text']").compactMap { $0.stringValue }
        XCTAssertTrue(texts.contains("Loss <run & \"1\">"))
        XCTAssertTrue(texts.contains("val <loss> & 'more'"))
        #else
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"400\" viewBox=\"0 0 640 400\""))
        XCTAssertTrue(svg.hasSuffix("</svg>\n"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline ").count - 1, 2)
        #endif
    }

    func testSeriesColoursComeFromThePalette() {
        let svg = lossChart().renderSVG()
        XCTAssertTrue(svg.contains("stroke=\"\(Palette.color(0).hex)\""))
        XCTAssertTrue(svg.contains("stroke=\"\(Palette.color(1).hex)\""))
        XCTAssertTrue(svg.contains("stroke-dasharray"))  // val loss is dashed
    }

    func testGapsSplitPolylines() {
        let s = Series(name: "g", points: curve(10) { $0 == 5 ? .nan : $0 })
        let svg = Chart(title: "gap", series: [s]).renderSVG()
        XCTAssertEqual(svg.components(separatedBy: "<polyline ").count - 1, 2)
    }

    func testDeterministic() throws {
        XCTAssertEqual(lossChart().renderSVG(), lossChart().renderSVG())
        XCTAssertEqual(try lossChart().renderPNG(), try lossChart().renderPNG())
    }

    func testAwkwardChartsAreWellFormed() throws {
        for chart in awkwardCharts() {
            let svg = chart.renderSVG(width: 300, height: 200)
            #if canImport(FoundationXML) || os(macOS)
            let doc = try XMLDocument(xmlString: svg, options: [])
            // Every coordinate is a finite number.
            let shapes = try doc.nodes(forXPath: "//*[local-name()='polyline' or local-name()='circle' or local-name()='line']")
            for case let e as XMLElement in shapes {
                for a in e.attributes ?? [] where ["points", "cx", "cy", "x1", "x2", "y1", "y2"].contains(a.name ?? "") {
                    for number in (a.stringValue ?? "").split(whereSeparator: { $0 == " " || $0 == "," }) {
                        let v = try XCTUnwrap(Double(number), "\(chart.title): \(a)")
                        XCTAssertTrue(v.isFinite, chart.title)
                    }
                }
            }
            #else
            XCTAssertFalse(svg.contains("NaN"), chart.title)
            #endif
        }
        XCTAssertTrue(Chart(title: "x", series: []).renderSVG().contains("no data"))
    }
}

/// The numbers of the root element's `width` and `height` attributes.
private func svgSize(_ svg: String) -> (width: Int, height: Int)? {
    func value(_ name: String) -> Int? {
        guard let r = svg.range(of: " \(name)=\"") else { return nil }
        return Int(svg[r.upperBound...].prefix { $0 != "\"" })
    }
    guard let w = value("width"), let h = value("height") else { return nil }
    return (w, h)
}

final class PNGTests: XCTestCase {
    func testFileIsThePNGOfTheSVG() throws {
        let chart = lossChart()
        let png = try chart.renderPNG(width: 320, height: 200)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let chunks = try pngChunks(png)
        XCTAssertEqual(chunks.first?.type, "IHDR")
        XCTAssertEqual(chunks.last?.type, "IEND")
        XCTAssertTrue(chunks.allSatisfy(\.crcOK))
        // IHDR's width and height are the SVG's.
        let size = try XCTUnwrap(svgSize(chart.renderSVG(width: 320, height: 200)))
        let ihdr = chunks[0].data
        XCTAssertEqual(Int(be32(ihdr, 0)), size.width)
        XCTAssertEqual(Int(be32(ihdr, 4)), size.height)
        XCTAssertEqual(ihdr[8], 8)  // bit depth
        // Preflight's signature, which lets `plot --out` overwrite its own file.
        XCTAssertTrue(chunks.contains { $0.type == "tEXt" && $0.data == Array("Software".utf8) + [0] + Array("preflight".utf8) })
        // Cairo reads it back: white background at the corners, both series' colours drawn.
        let image = try CairoImage(png)
        XCTAssertEqual(image.width, size.width)
        XCTAssertEqual(image.height, size.height)
        for (x, y) in [(0, 0), (319, 0), (0, 199), (319, 199)] { XCTAssertEqual(image.rgb(x, y), RGB(255, 255, 255)) }
        XCTAssertFalse(image.positions(of: Palette.color(0)).isEmpty)
        XCTAssertFalse(image.positions(of: Palette.color(1)).isEmpty)
    }

    func testSeriesColourAlongARisingLine() throws {
        let image = try CairoImage(try rising().renderPNG(width: 400, height: 300))
        var hits = image.positions(of: Palette.color(0))
        // Leave out the legend's sample line: the topmost hits near the left.
        let x0 = hits.map(\.x).min()!
        let legendY = hits.filter { $0.x < x0 + 40 }.map(\.y).min()!
        hits.removeAll { abs($0.y - legendY) <= 3 }
        XCTAssertGreaterThan(hits.count, 100)
        // Rising: where the line is further right, it is higher (smaller y).
        let minX = hits.map(\.x).min()!, maxX = hits.map(\.x).max()!
        XCTAssertGreaterThan(maxX - minX, 200)
        let leftYs = hits.filter { $0.x < minX + 20 }.map(\.y)
        let rightYs = hits.filter { $0.x > maxX - 20 }.map(\.y)
        XCTAssertGreaterThan(leftYs.min()!, rightYs.max()!)
        // Colour also lives mid-way, on the line from one end to the other.
        let midX = (minX + maxX) / 2
        let expectedY = Double(leftYs.max()! + rightYs.min()!) / 2
        XCTAssertTrue(hits.contains { abs($0.x - midX) <= 2 && abs(Double($0.y) - expectedY) < 8 })
    }

    func testLinesAndTextAreAntiAliased() throws {
        // A diagonal line drawn by librsvg leaves blends of its colour and white along its edges, and the
        // title's glyphs have grey edges: far more distinct colours than the chart's few flat ones.
        let image = try CairoImage(try rising().renderPNG(width: 400, height: 300))
        var colours = Set<RGB>()
        for y in 0..<image.height { for x in 0..<image.width { colours.insert(image.rgb(x, y)) } }
        XCTAssertGreaterThan(colours.count, 50)
        // The title (bold, near-black) is drawn at the top left.
        let dark = image.positions(of: RGB(0x11, 0x11, 0x11), tolerance: 40).filter { $0.y < 30 }
        XCTAssertGreaterThan(dark.count, 20)
    }

    func testEverySeriesColourIsDrawn() throws {
        var many: [Series] = []
        for k in 0..<12 { many.append(Series(name: "s\(k)", points: curve(10) { Double(k) * 3 + $0 })) }
        let image = try CairoImage(try Chart(title: "many", series: many).renderPNG())
        for k in 0..<12 {
            XCTAssertFalse(image.positions(of: Palette.color(k)).isEmpty, "colour \(k) missing")
        }
    }

    func testAwkwardChartsAndSizes() throws {
        for chart in awkwardCharts() {
            for (w, h) in [(640, 400), (120, 90), (1, 1)] {
                let png = try chart.renderPNG(width: w, height: h)
                XCTAssertTrue(try pngChunks(png).allSatisfy(\.crcOK), chart.title)
                let image = try CairoImage(png)
                let size = try XCTUnwrap(svgSize(chart.renderSVG(width: w, height: h)))
                XCTAssertEqual(image.width, size.width, chart.title)
                XCTAssertEqual(image.height, size.height, chart.title)
            }
        }
    }

    func testTooLargeIsAnError() {
        XCTAssertThrowsError(try rising().renderPNG(width: 100_000, height: 100)) { e in
            XCTAssertTrue("\(e)".contains("100000x100"), "\(e)")
        }
    }

    func testWritesDemoFiles() throws {
        let train = Series(name: "train loss", points: curve(20) { 2.3 * exp(-$0 / 6) + 0.1 })
        let val = Series(name: "val loss", points: curve(20) { $0 == 12 ? .nan : 2.3 * exp(-$0 / 7) + 0.25 }, dashed: true)
        let acc = Series(name: "val accuracy x2", points: curve(20) { 2 * (0.95 - 0.85 * exp(-$0 / 5)) })
        let chart = Chart(title: "Loss - run 1 (lr=0.01, batch 64)", xLabel: "epoch", yLabel: "loss",
                          series: [train, val, acc])
        let png = try chart.renderPNG()
        // For a person to look at: $TMPDIR/plot-demo.png and .svg (scripts/test removes its TMPDIR afterwards).
        try Data(png).write(to: URL(fileURLWithPath: NSTemporaryDirectory() + "plot-demo.png"))
        try chart.renderSVG().write(toFile: NSTemporaryDirectory() + "plot-demo.svg", atomically: true, encoding: .utf8)
        XCTAssertEqual(try CairoImage(png).width, 640)
    }
}
