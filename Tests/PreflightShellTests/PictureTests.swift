import Foundation
import XCTest
import PreflightShell
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A session with captured output, for the picture/report/save tests.
final class PicsSession {
    final class Box { var out = ""; var err = "" }
    let box = Box()
    let session: Session
    let dir: URL

    init(width: Int = 80, unicode: Bool = true) {
        dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("preflight-pics-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var o = SessionOptions(dataDir: nil, cacheDir: dir.appendingPathComponent("cache").path)
        o.allowDownload = false
        let b = box
        session = Session(console: Console(out: { b.out += $0 }, err: { b.err += $0 }, color: false, interactive: false,
                                           unicode: unicode, width: width), options: o)
    }
    deinit { try? FileManager.default.removeItem(at: dir) }

    var output: String { box.out }
    var errors: String { box.err }
    func clear() { box.out = ""; box.err = "" }
    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Runs `;`-separated commands that must succeed.
    func run(_ commands: String, file: StaticString = #filePath, line: UInt = #line) {
        for c in commands.split(separator: ";") {
            do { try session.execute(c.trimmingCharacters(in: .whitespaces)) }
            catch { XCTFail("`\(c)` failed: \(error)", file: file, line: line) }
        }
    }

    /// Runs one command that must fail; returns its error.
    func fails(_ command: String, file: StaticString = #filePath, line: UInt = #line) -> CommandError? {
        do { try session.execute(command) } catch let e as CommandError { return e } catch {
            XCTFail("`\(command)` threw \(error), not a CommandError", file: file, line: line); return nil
        }
        XCTFail("`\(command)` succeeded but should have failed", file: file, line: line)
        return nil
    }

    /// Two small runs on synthetic data: `good` (glorot) and `bad` (truncated normal 0.5).
    static func twoRuns(epochs: Int = 2) -> PicsSession {
        let p = PicsSession()
        p.run("data synthetic 600; layers 784 24 16 10; run good; train \(epochs); init truncnormal 0.5; run bad; train \(epochs)")
        p.clear()
        return p
    }
}

func occurrences(of needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

final class PictureTests: XCTestCase {
    func testPlotLossInTerminalHasTitleAxesAndLegend() {
        let p = PicsSession.twoRuns()
        p.run("plot loss good bad")
        let out = p.output
        XCTAssertTrue(out.contains("Loss per epoch"), out)
        for name in ["good train", "good test", "bad train", "bad test"] { XCTAssertTrue(out.contains(name), "legend \(name)\n\(out)") }
        XCTAssertTrue(out.contains("epoch"), out)
        XCTAssertFalse(out.contains("\u{1B}["), "no colour codes when colour is off")
        for line in out.split(separator: "\n") { XCTAssertLessThanOrEqual(line.count, 80, String(line)) }
        XCTAssertGreaterThanOrEqual(out.split(separator: "\n").count, 15)
    }

    func testPlotDefaultsToTheCurrentRun() {
        let p = PicsSession.twoRuns()
        p.run("plot accuracy")
        XCTAssertTrue(p.output.contains("Accuracy per epoch: bad"), p.output)
        XCTAssertFalse(p.output.contains("good train"), p.output)
        p.clear()
        p.run("use good; plot accuracy")
        XCTAssertTrue(p.output.contains("good train"), p.output)
    }

    func testPlotHiddenSaturationAndGradsSeries() {
        let p = PicsSession.twoRuns()
        p.run("plot hidden good bad")
        for name in ["good/h1", "good/h2", "bad/h1", "bad/h2"] { XCTAssertTrue(p.output.contains(name), "\(name)\n\(p.output)") }
        XCTAssertTrue(p.output.contains("Hidden-layer mean activation"))
        p.clear()
        p.run("plot saturation good bad")
        XCTAssertTrue(p.output.contains("First-batch softmax saturation"), p.output)
        XCTAssertTrue(p.output.contains("1 good") && p.output.contains("2 bad"), p.output)
        XCTAssertTrue(p.output.contains("1 good: 0.0%"), p.output)
        p.clear()
        p.run("plot grads bad")
        for name in ["bad/W1", "bad/W2", "bad/W3"] { XCTAssertTrue(p.output.contains(name), "\(name)\n\(p.output)") }
        XCTAssertTrue(p.output.contains("log scale"), p.output)
    }

    func testPlotASCIIFallback() {
        let p = PicsSession(width: 60, unicode: false)
        p.run("data synthetic 300; layers 784 16 10; train 2")
        p.clear()
        p.run("plot loss")
        XCTAssertTrue(p.output.unicodeScalars.allSatisfy { $0.isASCII }, p.output)
        for line in p.output.split(separator: "\n") { XCTAssertLessThanOrEqual(line.count, 60) }
    }

    func testPlotOutWritesSVGAndPNG() throws {
        let p = PicsSession.twoRuns()
        let svg = p.path("charts/loss.svg"), png = p.path("hidden.PNG")
        p.run("plot loss good bad --out \(svg); plot hidden good bad --out \(png)")
        XCTAssertTrue(p.output.contains(svg), p.output)
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""), String(text.prefix(100)))
        XCTAssertTrue(text.contains("</svg>"))
        XCTAssertTrue(text.contains("Loss per epoch") && text.contains("bad test"))
        XCTAssertNotNil(try XMLDocument(xmlString: text, options: []).rootElement(), "well-formed XML")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertGreaterThan(bytes.count, 2000)
        // No temporary file left behind by the atomic write.
        let left = try FileManager.default.contentsOfDirectory(atPath: p.path("charts"))
        XCTAssertEqual(left, ["loss.svg"])
    }

    func testPlotErrors() {
        let p = PicsSession()
        XCTAssertTrue(p.fails("plot loss")?.message.contains("no runs yet") ?? false)
        p.run("data synthetic 300; layers 784 16 10; train 1")
        let none = p.fails("plot")
        XCTAssertNotNil(none?.usage)
        let bogus = p.fails("plot bogus")
        XCTAssertTrue(bogus?.message.contains("unknown chart `bogus`") ?? false, "\(String(describing: bogus))")
        XCTAssertTrue(bogus?.usage?.hasPrefix("plot loss|accuracy|hidden|saturation|grads") ?? false)
        let run = p.fails("plot loss nosuch")
        XCTAssertTrue(run?.message.contains("nosuch") ?? false, "\(String(describing: run))")
        XCTAssertTrue(run?.message.contains("run1") ?? false, "lists the runs: \(String(describing: run))")
        XCTAssertNotNil(run?.usage)
        let ext = p.fails("plot loss --out \(p.path("x.txt"))")
        XCTAssertTrue(ext?.message.contains("x.txt") ?? false)
        XCTAssertTrue(ext?.message.contains(".svg or .png") ?? false)
        XCTAssertNotNil(p.fails("plot loss --out"))
        XCTAssertNotNil(p.fails("plot loss --wide"))
        // A place that cannot be written: the error names the path.
        let blocker = p.path("file")
        _ = FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8))
        let bad = p.fails("plot loss --out \(blocker)/sub/c.svg")
        XCTAssertTrue(bad?.message.contains(blocker) ?? false, "\(String(describing: bad))")
    }

    func testPlotIsListedInHelp() throws {
        let p = PicsSession()
        for c in ["plot", "report", "save", "load", "export"] {
            p.clear()
            p.run("help \(c)")
            XCTAssertTrue(p.output.contains(c), p.output)
        }
    }

    func testReportStructure() throws {
        let p = PicsSession.twoRuns()
        let file = p.path("out/report.html")
        p.run("report \(file)")
        let html = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("<title>Preflight report</title>"))
        XCTAssertEqual(occurrences(of: "<svg ", in: html), 4)
        for t in ["Loss per epoch", "Accuracy per epoch", "Hidden-layer mean activation", "First-batch softmax saturation"] {
            XCTAssertTrue(html.contains(t), t)
        }
        XCTAssertTrue(html.contains("Run good") && html.contains("Run bad"))
        XCTAssertEqual(occurrences(of: "<table class=\"checks\">", in: html), 2)
        XCTAssertEqual(occurrences(of: "<table class=\"config\">", in: html), 2)
        XCTAssertEqual(occurrences(of: "<table class=\"first-batch\">", in: html), 2)
        XCTAssertTrue(html.contains("saturation (fail)"), "the bad run's saturation check fails")
        XCTAssertTrue(html.contains("truncnormal 0.5"))
        // Self-contained: no scripts, no links or sources outside the page.
        XCTAssertFalse(html.lowercased().contains("<script"))
        XCTAssertFalse(html.contains("src="))
        XCTAssertFalse(html.contains("url(http"))
        let urls = html.replacingOccurrences(of: "http-equiv", with: "").components(separatedBy: "http").dropFirst().map { String($0.prefix(30)) }
        XCTAssertTrue(urls.allSatisfy { $0.hasPrefix("://www.w3.org/2000/svg") }, "\(urls)")
    }

    func testReportErrors() {
        let p = PicsSession()
        XCTAssertTrue(p.fails("report \(p.path("r.html"))")?.message.contains("no runs") ?? false)
        p.run("data synthetic 300; layers 784 16 10; train 1")
        XCTAssertNotNil(p.fails("report \(p.path("r.pdf"))")?.usage)
        XCTAssertNotNil(p.fails("report"))
    }
}
