import Foundation
import XCTest
import PreflightShell

/// The report in a real browser: headless Chromium (Debian package `chromium`, installed by scripts/setup).
final class ReportBrowserTests: XCTestCase {
    func chromium() throws -> String {
        for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        where FileManager.default.isExecutableFile(atPath: p) { return p }
        throw XCTSkip("chromium not installed (scripts/setup installs Debian's chromium)")
    }

    func browse(_ exe: String, _ args: [String], home: URL) throws -> (Int32, String, String) {
        try runProcess(exe, ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             "--user-data-dir=\(home.appendingPathComponent("profile").path)"] + args,
                       env: ["HOME": home.path], timeout: 90)
    }

    func testReportRendersInHeadlessChromium() throws {
        let exe = try chromium()
        let p = PicsSession.twoRuns(epochs: 3)
        let file = p.path("report.html")
        p.run("report \(file)")
        let url = URL(fileURLWithPath: file).absoluteString

        let (status, dom, err) = try browse(exe, ["--dump-dom", url], home: p.dir)
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(dom.contains("<title>Preflight report</title>"), String(dom.prefix(500)))
        XCTAssertEqual(occurrences(of: "<svg ", in: dom), 4, "four inline charts in the DOM")
        XCTAssertTrue(dom.contains("<h1>Preflight report</h1>"))
        XCTAssertEqual(occurrences(of: "<polyline ", in: dom), occurrences(of: "<polyline ", in: try String(contentsOfFile: file, encoding: .utf8)))
        XCTAssertGreaterThan(occurrences(of: "<polyline ", in: dom), 8, "the charts have lines")
        XCTAssertTrue(dom.contains("Run good") && dom.contains("Run bad"))

        let shot = p.path("report.png")
        let (s2, _, e2) = try browse(exe, ["--screenshot=\(shot)", "--window-size=1200,2000", "--hide-scrollbars", url], home: p.dir)
        XCTAssertEqual(s2, 0, e2)
        let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: shot)))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertGreaterThan(png.count, 20_000, "a page with content, not a blank screenshot")
        if let keep = ProcessInfo.processInfo.environment["PREFLIGHT_KEEP_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: shot, toPath: keep)
        }
    }
}
