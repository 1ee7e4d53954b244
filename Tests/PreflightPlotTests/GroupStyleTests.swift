import Foundation
import PreflightPlot
import XCTest

/// Runs drawn as train (solid) and test (dashed) pairs: each pair shares a colour, the dashes follow the series,
/// in every renderer, however many runs there are (issue 19: from the 5th run the styles swapped).
final class GroupStyleTests: XCTestCase {
    private func pairs(_ runs: Int) -> Chart {
        var series: [Series] = []
        for k in 0..<runs {
            series.append(Series(name: "r\(k) train", points: curve(6) { Double(k) + 1 / $0 }, group: k))
            series.append(Series(name: "r\(k) test", points: curve(6) { Double(k) + 1.2 / $0 }, dashed: true, group: k))
        }
        return Chart(title: "Loss", xLabel: "epoch", yLabel: "loss", series: series)
    }

    func testSVGPairsShareAColourAndKeepTheirDashes() {
        let svg = pairs(13).renderSVG(width: 800, height: 500)
        var colours: [String] = []
        for k in 0..<13 {
            let train = tag(svg, "r\(k) train"), test = tag(svg, "r\(k) test")
            XCTAssertFalse(train.contains("stroke-dasharray"), train)
            XCTAssertTrue(test.contains("stroke-dasharray"), test)
            XCTAssertEqual(stroke(train), stroke(test), "run \(k)")
            colours.append(stroke(train))
        }
        XCTAssertEqual(Set(colours.prefix(12)).count, 12)
        XCTAssertEqual(colours[12], colours[0], "colours repeat after the palette's 12")
    }

    func testTerminalPairsShareAColour() {
        let text = pairs(6).renderTerminal(TerminalStyle(width: 100, height: 30, unicode: true, color: true))
        // The legend: each entry is a coloured sample followed by the series' name.
        for k in 0..<6 {
            XCTAssertEqual(legendColour(text, "r\(k) train"), legendColour(text, "r\(k) test"), "run \(k)")
            XCTAssertNotNil(legendColour(text, "r\(k) train"))
        }
        XCTAssertNotEqual(legendColour(text, "r0 train"), legendColour(text, "r1 train"))
    }

    func testPNGDrawsOneColourPerPair() throws {
        // With groups, 5 pairs use 5 palette colours, not 10.
        let image = try CairoImage(try pairs(5).renderPNG(width: 640, height: 400))
        for k in 0..<5 { XCTAssertFalse(image.positions(of: Palette.color(k)).isEmpty, "colour \(k) drawn") }
        // (The grey slot is left out: the text's anti-aliased edges hold greys too.)
        for k in 5..<Palette.colors.count where Palette.color(k).r != Palette.color(k).g {
            XCTAssertTrue(image.positions(of: Palette.color(k)).isEmpty, "colour \(k) unused")
        }
    }

    /// Charts without groups or meaningful dashes keep their old styles: one colour per series.
    func testUngroupedSeriesKeepTheirOwnColours() {
        let chart = Chart(title: "h", series: (0..<3).map { k in Series(name: "s\(k)", points: curve(4) { Double(k) * $0 }) })
        let svg = chart.renderSVG()
        XCTAssertEqual(Set((0..<3).map { stroke(tag(svg, "s\($0)")) }).count, 3)
        XCTAssertFalse(svg.contains("stroke-dasharray"))
    }

    private func tag(_ svg: String, _ name: String) -> String {
        guard let r = svg.range(of: "<g class=\"line\" data-name=\"\(name)\"") else { return "" }
        return String(svg[r.lowerBound..<(svg[r.upperBound...].firstIndex(of: ">") ?? svg.endIndex)])
    }

    private func stroke(_ tag: String) -> String {
        guard let r = tag.range(of: " stroke=\"") else { return "" }
        return String(tag[r.upperBound...].prefix { $0 != "\"" })
    }

    /// The ANSI colour code just before a legend entry's sample.
    private func legendColour(_ text: String, _ name: String) -> String? {
        for line in text.split(separator: "\n") {
            var rest = Substring(line)
            while let r = rest.range(of: "\u{1B}[38;5;") {
                let code = rest[r.upperBound...].prefix { $0 != "m" }
                let after = rest[r.upperBound...]
                if let reset = after.range(of: "\u{1B}[0m") {
                    let following = after[reset.upperBound...]
                    if following.hasPrefix(" " + name) { return String(code) }
                    rest = following
                } else { break }
            }
        }
        return nil
    }
}
