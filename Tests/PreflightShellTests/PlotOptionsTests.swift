import Foundation
import XCTest
import PreflightShell

/// `plot --log`, the hidden chart's styles, the saturation bars and the PNG path, through the command.
final class PlotOptionsTests: XCTestCase {
    func testLogInTheTerminal() {
        let p = PicsSession.twoRuns()
        p.run("plot hidden good bad --log")
        let lines = p.output.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasSuffix("log scale") ?? false, p.output)
        // Every y label is a power of ten, or 2 or 5 times one (the ticks of a log axis).
        let labels = lines.compactMap { line -> String? in
            guard let i = line.firstIndex(of: "┤") else { return nil }
            return line[..<i].trimmingCharacters(in: .whitespaces)
        }
        XCTAssertGreaterThanOrEqual(labels.count, 2, p.output)
        for l in labels {
            let v = Double(l.replacingOccurrences(of: "k", with: "e3")) ?? .nan
            let mantissa = v / pow(10, log10(v).rounded(.down))
            XCTAssertTrue([1.0, 2.0, 5.0].contains { abs($0 - mantissa) < 1e-9 }, "tick \(l)\n\(p.output)")
        }
        p.clear()
        p.run("plot loss --log")  // the option may come anywhere after the chart's name
        XCTAssertTrue(p.output.contains("log scale"), p.output)
        XCTAssertNotNil(p.fails("plot loss --logg"))
    }

    func testLogInFiles() throws {
        let p = PicsSession.twoRuns()
        let svg = p.path("h.svg")
        p.run("plot hidden good bad --log --out \(svg)")
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertTrue(text.contains("mean activation (log scale)"), text)
        p.run("plot hidden good bad --out \(svg)")
        XCTAssertFalse(try String(contentsOfFile: svg, encoding: .utf8).contains("log scale"))
    }

    func testHiddenRunsByStyleLayersByColour() throws {
        let p = PicsSession.twoRuns()
        let svg = p.path("hidden.svg")
        p.run("plot hidden good bad --out \(svg)")
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        let g1 = tag(text, "good/h1"), g2 = tag(text, "good/h2"), b1 = tag(text, "bad/h1"), b2 = tag(text, "bad/h2")
        XCTAssertEqual(attr(g1, "stroke"), attr(b1, "stroke"), "layer 1: one colour")
        XCTAssertEqual(attr(g2, "stroke"), attr(b2, "stroke"), "layer 2: one colour")
        XCTAssertNotEqual(attr(g1, "stroke"), attr(g2, "stroke"))
        XCTAssertNil(attr(g1, "stroke-dasharray"), "the first run is solid")
        XCTAssertNil(attr(g2, "stroke-dasharray"))
        XCTAssertNotNil(attr(b1, "stroke-dasharray"), "the second run is not")
        XCTAssertEqual(attr(b1, "stroke-dasharray"), attr(b2, "stroke-dasharray"))
    }

    func testSaturationIsBars() throws {
        let p = PicsSession.twoRuns()
        p.run("plot saturation good bad")
        XCTAssertTrue(p.output.contains("█"), p.output)
        XCTAssertTrue(p.output.contains("██ 1 good") && p.output.contains("██ 2 bad"), p.output)
        let svg = p.path("sat.svg")
        p.run("plot saturation good bad --out \(svg)")
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertEqual(occurrences(of: "<rect class=\"bar\"", in: text), 2, text)
        XCTAssertTrue(text.contains("data-name=\"good\"") && text.contains("data-name=\"bad\""))
        XCTAssertFalse(text.contains("<polyline"))
    }

    func testPNGWritesAndOverwritesItsOwnFile() throws {
        let p = PicsSession.twoRuns()
        let png = p.path("loss.png")
        p.run("plot loss good bad --out \(png)")
        let first = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))
        XCTAssertEqual(Array(first.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // Width and height (IHDR) are the SVG's 800x500.
        XCTAssertEqual(Array(first[16..<24]), [0, 0, 3, 0x20, 0, 0, 1, 0xF4])
        // Preflight's signature lets a second plot replace it without --force.
        p.run("plot accuracy good bad --out \(png)")
        XCTAssertNotEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: png))), first)
    }

    func testPNGToAPlaceThatCannotBeWritten() {
        let p = PicsSession.twoRuns()
        let blocker = p.path("file")
        _ = FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8))
        let bad = p.fails("plot loss --out \(blocker)/sub/c.png")
        XCTAssertTrue(bad?.message.contains("\(blocker)/sub/c.png") ?? false, "\(String(describing: bad))")
        let dir = p.path("adir.png")
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let isDir = p.fails("plot loss --out \(dir)")
        XCTAssertTrue(isDir?.message.contains(dir) ?? false, "\(String(describing: isDir))")
    }

    private func tag(_ svg: String, _ name: String) -> String {
        guard let r = svg.range(of: "<g class=\"line\" data-name=\"\(name)\"") else { return "" }
        return String(svg[r.lowerBound..<(svg[r.upperBound...].firstIndex(of: ">") ?? svg.endIndex)])
    }

    private func attr(_ tag: String, _ name: String) -> String? {
        guard let r = tag.range(of: " \(name)=\"") else { return nil }
        return String(tag[r.upperBound...].prefix { $0 != "\"" })
    }
}
