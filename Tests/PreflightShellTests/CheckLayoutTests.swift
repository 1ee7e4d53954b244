import Foundation
import XCTest
import PreflightShell
import PreflightChecks

/// How `check` and `help` lay out their text: on a terminal wrapped at spaces to its width, never cut;
/// elsewhere (scripts, pipes) whole lines.
final class CheckLayoutTests: XCTestCase {
    final class Box { var out = "" }

    func session(interactive: Bool, width: Int = 80) -> (Session, Box) {
        let box = Box()
        var o = SessionOptions(dataDir: nil, cacheDir: NSTemporaryDirectory() + "preflight-layout-cache")
        o.allowDownload = false
        let s = Session(console: Console(out: { box.out += $0 }, err: { box.out += $0 }, color: false,
                                         interactive: interactive, unicode: true, width: width), options: o)
        return (s, box)
    }

    /// A run that fails saturation and init-loss and warns or fails hidden-scale before training.
    func badRun(_ s: Session, _ box: Box) throws {
        for c in ["data synthetic 300", "layers 784 32 32 10", "init truncnormal 0.5"] { try s.execute(c) }
        box.out = ""
    }

    func words(_ s: String) -> [Substring] { s.split(separator: " ") }

    func testFailingRowsFirstWithWholeHintsThenOkThenOneNotRunLine() throws {
        let (s, box) = session(interactive: false)
        try badRun(s, box)
        try s.execute("check")
        let found = s.currentRun!.findings
        let bad = found.filter { $0.verdict == .fail || $0.verdict == .warn }
        let ok = found.filter { $0.verdict == .ok }, notRun = found.filter { $0.verdict == .notRun }
        XCTAssertGreaterThanOrEqual(bad.count, 2, "the case must have failing rows: \(found.map(\.rule))")
        XCTAssertFalse(ok.isEmpty); XCTAssertFalse(notRun.isEmpty)
        let lines = box.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines[1].split(separator: " "), ["rule", "phase", "measured", "threshold", "verdict"], box.out)
        // Row order: each failing/warning rule, its measured line and its hint whole on one line; then the ok rules.
        var i = 2
        for f in bad {
            XCTAssertEqual(lines[i].split(separator: " ").first.map(String.init), f.rule, box.out)
            XCTAssertTrue(lines[i].hasSuffix(f.verdict == .fail ? "FAIL" : "warn"), lines[i])
            XCTAssertEqual(lines[i + 1], "      " + f.measured)
            XCTAssertFalse(f.hint.isEmpty, f.rule)
            XCTAssertEqual(lines[i + 2], "      try: " + f.hint, "the whole hint, unwrapped, in a script")
            i += 3
        }
        for f in ok {
            XCTAssertEqual(lines[i].split(separator: " ").first.map(String.init), f.rule, box.out)
            XCTAssertTrue(lines[i].hasSuffix("ok"), lines[i])
            i += 1
        }
        // One line names every rule not run, with what it needs.
        XCTAssertTrue(lines[i].hasPrefix("  not run: "), lines[i])
        for f in notRun {
            XCTAssertTrue(lines[i].contains(f.rule), "\(f.rule) in \(lines[i])")
            XCTAssertTrue(lines[i].contains(f.reason), "\(f.reason) in \(lines[i])")
        }
        XCTAssertEqual(lines[i + 1], "  \(bad.filter { $0.verdict == .fail }.count) fail, \(bad.filter { $0.verdict == .warn }.count) warn, \(ok.count) ok, \(notRun.count) not run")
        XCTAssertEqual(lines.count, i + 3, "nothing after the counts: \(box.out)")
        XCTAssertFalse(box.out.contains("what to try"))
    }

    func testAllShowsEveryRowWithItsHintOrReason() throws {
        let (s, box) = session(interactive: false)
        try badRun(s, box)
        try s.execute("check --all")
        let found = s.currentRun!.findings
        let lines = box.out.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[1].hasSuffix("what to try"), lines[1])
        for (k, f) in found.enumerated() {
            let row = lines[2 + k]
            XCTAssertTrue(row.hasPrefix("  " + f.rule + " "), "\(f.rule) ranked at \(k): \(row)")
            if f.verdict == .notRun { XCTAssertTrue(row.hasSuffix(f.reason), row) }
            else if !f.hint.isEmpty { XCTAssertTrue(row.hasSuffix(f.hint), row) }
        }
        XCTAssertNotNil(s.fails("check --everything"))
    }

    /// On a terminal of 60 columns: no line is longer (save a single word longer than a line), and the text of
    /// every hint is all there, its words in order and none split.
    func testOnATerminalHintsWrapAtSpacesAndAreNeverCut() throws {
        let width = 60
        let (s, box) = session(interactive: true, width: width)
        try badRun(s, box)
        try s.execute("check")
        let bad = s.currentRun!.findings.filter { $0.verdict == .fail || $0.verdict == .warn }
        let lines = box.out.split(separator: "\n").map(String.init)
        for l in lines { XCTAssertTrue(visibleWidth(l) <= width || words(l).count == 1, "\(visibleWidth(l)) columns: \(l)") }
        XCTAssertTrue(bad.contains { 11 + $0.hint.count > width }, "the case must have a hint longer than a line")
        for f in bad {
            guard let row = lines.firstIndex(where: { $0.hasPrefix("  \(f.rule) ") }),
                  let start = lines[row...].firstIndex(where: { $0.hasPrefix("      try: ") }) else {
                XCTFail("no row or hint of \(f.rule) in \(box.out)"); continue
            }
            var joined = words(String(lines[start].dropFirst(11)))
            var k = start + 1
            while k < lines.count, lines[k].hasPrefix("           ") { joined += words(lines[k]); k += 1 }
            XCTAssertEqual(joined, words(f.hint), "\(f.rule): the wrapped hint is the whole hint")
        }
        let notRun = lines.drop { !$0.hasPrefix("  not run: ") }.prefix { !$0.contains(" fail, ") }
        XCTAssertGreaterThan(notRun.count, 1, "the not-run line wraps on a narrow terminal: \(box.out)")
    }

    /// `help` on terminals of 120 and 50 columns: every summary is whole, and wraps only at spaces.
    func testHelpWrapsSummariesAtSpacesToTheTerminal() throws {
        for width in [120, 50] {
            let (s, box) = session(interactive: true, width: width)
            try s.execute("help")
            let lines = box.out.split(separator: "\n").map(String.init)
            for l in lines { XCTAssertLessThanOrEqual(visibleWidth(l), width, l) }
            let text = words(lines.joined(separator: " "))
            for c in Commands.all {
                let w = words(c.summary)
                let found = text.indices.contains { i in i + w.count <= text.count && Array(text[i..<(i + w.count)]) == w }
                XCTAssertTrue(found, "\(width) columns: the summary of \(c.name) is whole, words in order")
            }
            box.out = ""
            try s.execute("help check")
            for l in box.out.split(separator: "\n") { XCTAssertLessThanOrEqual(visibleWidth(String(l)), width, String(l)) }
        }
        // In a script, one line per command.
        let (s, box) = session(interactive: false)
        try s.execute("help")
        for c in Commands.all { XCTAssertTrue(box.out.contains(c.summary), c.name) }
    }
}

extension Session {
    /// Runs a command that must fail; returns its error.
    func fails(_ command: String) -> Error? {
        do { try execute(command) } catch { return error }
        return nil
    }
}
