import Foundation
import XCTest
import PreflightShell
import PreflightChecks

/// Whatever is typed, the session survives and the recorded runs stay as they were.
final class MalformedInputTests: XCTestCase {
    static let cases: [(String, String)] = [
        ("trian 1", "did you mean `train`"),
        ("lyers 784 10", "did you mean `layers`"),
        ("frobnicate", "unknown command"),
        ("train", "how many epochs"),
        ("train 0", "at least 1"),
        ("train -1", "at least 1"),
        ("train abc", "whole number"),
        ("train 1 2", "one number of epochs"),
        ("train 99999999999999999999", "whole number"),
        ("train nan", "whole number"),
        ("layers 784", "at least the input and output"),
        ("layers 784 0 10", "at least 1"),
        ("layers 784 -5 10", "at least 1"),
        ("layers 784 x 10", "whole number"),
        ("layers " + Array(repeating: "10", count: 101).joined(separator: " "), "at most 64"),
        ("layers 784 1000000 10", "at most 100000"),
        ("batch 0", "at least 1"),
        ("batch", "give one value"),
        ("batch 1 2", "give one value"),
        ("batch 100000", "larger than the"),
        ("seed -3", "whole number"),
        ("seed 1.5", "whole number"),
        ("epsilon nan", "finite"),
        ("epsilon 0", "greater than 0"),
        ("epsilon inf", "finite"),
        ("epsilon 0.9", "below 0.5"),
        ("optimizer", "which optimiser"),
        ("optimizer adam -1", "greater than 0"),
        ("optimizer adam NaN", "finite"),
        ("optimizer nesterov 0.1", "unknown optimiser"),
        ("optimizer sgd 0.1 momentum 1.5", "below 1"),
        ("activation swish", "unknown activation"),
        ("activation", "give one name"),
        ("init", "which initialiser"),
        ("init truncnormal", "needs one number"),
        ("init normal -1", "needs one number"),
        ("init glorot layer 0", "at least 1"),
        ("init bogus", "unknown initialiser"),
        ("set nosuch 1", "unknown setting"),
        ("set check.nosuch.warn 1", "check.nosuch"),
        ("set check.saturation.warn abc", "check.saturation.warn"),
        ("set batch", "give a key and a value"),
        ("use nobody", "no run named"),
        ("compare run1 ghost", "no run named"),
        ("run run1", "exists already"),
        ("run 'bad name'", "a name is"),
        ("data", "which dataset"),
        ("data synthetic 5", "at least 10"),
        ("data mnist --limit", "--limit needs"),
        ("data mnist --scale bogus", "unit, standard or none"),
        ("data /nonexistent/folder", "/nonexistent/folder"),
        ("show everything", "unknown topic"),
        ("explain nosuchrule", "unknown rule"),
        ("check saturaton", "did you mean `saturation`"),
        ("export out.txt", ".json or .csv"),
        ("source /nonexistent.pf", "no such file"),
        ("history abc", "whole number"),
        ("help nosuch", "no command"),
        ("layers \"784 10", "unmatched quote"),
        ("ŧřåïñ 1", "unknown command"),
        ("layers 784 １２８ 10", "whole number"),
        (String(repeating: "x", count: 100_000), "line too long"),
        ("train " + String(repeating: "9", count: 100_000), "line too long"),
    ]

    func testEveryMalformedInputGetsOneClearErrorAndLosesNothing() throws {
        let c = Captured()
        c.run("data synthetic 300; layers 784 16 10; train 2")
        let before = c.session.exportJSON(timings: false).serialized()
        let runsBefore = c.session.runs.count
        XCTAssertEqual(runsBefore, 1)
        XCTAssertGreaterThanOrEqual(Self.cases.count, 30)
        for (input, expected) in Self.cases {
            do {
                try c.session.execute(input)
                XCTFail("`\(input.prefix(60))` should fail")
            } catch let e as CommandError {
                XCTAssertTrue(e.message.contains(expected), "`\(input.prefix(60))` → \(e.message.prefix(200)) (expected \(expected))")
                XCTAssertFalse(e.message.contains("\n"), "one line: \(e.message.prefix(200))")
                XCTAssertLessThan(e.message.count, 400, "a short message for `\(input.prefix(40))`")
            }
            XCTAssertFalse(c.session.quitRequested)
        }
        XCTAssertEqual(c.session.runs.count, runsBefore)
        let after = c.session.exportJSON(timings: false).serialized()
        if after != before {
            let a = after.split(separator: "\n"), b = before.split(separator: "\n")
            let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
            XCTFail("recorded runs changed at line \(i): before `\(i < b.count ? b[i] : "")`, after `\(i < a.count ? a[i] : "")`")
        }
        // And the session still works.
        c.run("train 1")
        XCTAssertEqual(c.session.runs[0].trainer.epochs.count, 3)
    }

    func testEmptyAndWhitespaceLinesAndCommentsAreIgnored() throws {
        let c = Captured()
        let ok = ScriptRunner(session: c.session).run(text: "\n   \n\t\n# comment\nseed 2 # trailing comment\n;;\n", name: "t", keepGoing: false)
        XCTAssertTrue(ok)
        XCTAssertEqual(c.session.config.seed, 2)
        XCTAssertEqual(c.errors, "")
    }

    func testAPromptErrorDoesNotEndTheSession() throws {
        let c = Captured()
        let reader = PlainLineReader(text: "data synthetic 200\nlayers 784 8 10\ntrain 1\ntrian 1\nbatch 0\ntrain 1\n")
        let failures = c.session.repl(reader: reader)
        XCTAssertEqual(failures, 2)
        XCTAssertEqual(c.session.runs.first?.trainer.epochs.count, 2)
        XCTAssertTrue(c.errors.contains("did you mean `train`"))
    }
}

final class TableTests: XCTestCase {
    func testTablesFitTheTerminalWithoutWrapping() {
        var lines: [String] = []
        let console = Console(out: { lines += $0.split(separator: "\n").map(String.init) }, err: { _ in }, color: true, interactive: true, width: 60)
        let s = Session(console: console, options: SessionOptions(dataDir: nil, cacheDir: NSTemporaryDirectory()))
        try? s.execute("data synthetic 300")
        try? s.execute("layers 784 16 10")
        // `check`: nothing is cut; every line fits (hints and the not-run line wrap at spaces).
        lines = []
        try? s.execute("check")
        XCTAssertGreaterThan(lines.count, 10)
        for l in lines { XCTAssertLessThanOrEqual(visible(l), 60, l); XCTAssertFalse(l.contains("…"), l) }
        // `check --all`: one row per rule, its last column (hint or reason) cut to fit, as before.
        lines = []
        try? s.execute("check --all")
        // The table's rows: the header and one row per rule, each starting with the rule id.
        let ids = Set(Rules.all.map(\.id) + ["rule"])
        let rows = lines.filter { l in
            let plain = l.replacingOccurrences(of: "\u{1B}[1m", with: "")
            let first = plain.split(separator: " ").first.map(String.init) ?? ""
            return plain.hasPrefix("  ") && ids.contains(first) && !plain.contains(first + ":")
        }
        XCTAssertGreaterThan(rows.count, 10)
        for l in rows { XCTAssertLessThanOrEqual(visible(l), 60, l) }
        XCTAssertTrue(rows.contains { $0.hasSuffix("…") || $0.hasSuffix("…\u{1B}[0m") })
    }

    func visible(_ s: String) -> Int { visibleWidth(s) }
}
