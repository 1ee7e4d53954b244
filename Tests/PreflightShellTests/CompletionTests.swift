import Foundation
import XCTest
import PreflightShell
import PreflightEngine
import PreflightChecks

/// Tab completion's grammar, without a terminal.
final class CompletionTests: XCTestCase {
    private var session: Session!
    private var dir: String!

    override func setUp() {
        var o = SessionOptions(dataDir: nil, cacheDir: NSTemporaryDirectory() + "preflight-completion-cache-\(getpid())")
        o.allowDownload = false
        session = Session(console: Console(out: { _ in }, err: { _ in }), options: o)
        dir = NSTemporaryDirectory() + "preflight-completion-\(UUID().uuidString)"
        let fm = FileManager.default
        try! fm.createDirectory(atPath: dir + "/scripts", withIntermediateDirectories: true)
        try! fm.createDirectory(atPath: dir + "/my runs", withIntermediateDirectories: true)
        for f in ["session.pfs", "setup.pf", "sweep.pf", ".hidden.pf", "scripts/a.pf", "my runs/x.json"] {
            _ = fm.createFile(atPath: dir + "/" + f, contents: Data())
        }
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Completes `line` with the cursor at its end (or at `|` when the line holds one).
    private func complete(_ line: String) -> (Int, [String]) {
        if let bar = line.firstIndex(of: "|") {
            let text = line.replacingOccurrences(of: "|", with: "")
            let r = completions(line: text, cursor: line.distance(from: line.startIndex, to: bar), session: session)
            return (r.replaceFrom, r.candidates)
        }
        let r = completions(line: line, cursor: line.count, session: session)
        return (r.replaceFrom, r.candidates)
    }
    private func cands(_ line: String) -> [String] { complete(line).1 }

    private func addRuns(_ names: String...) throws {
        try session.execute("data synthetic 200")
        try session.execute("layers 784 8 10")
        for n in names { try session.execute("run \(n)") }
    }

    // MARK: the command word

    func testCommandNamesAndAliases() {
        let all = cands("")
        for c in Session.commands { XCTAssertTrue(all.contains(c.name), c.name) }
        XCTAssertTrue(all.contains("optimiser") && all.contains("exit"), "aliases")
        XCTAssertFalse(all.contains("?"), "punctuation aliases are not offered")
        XCTAssertEqual(all, all.sorted())
        XCTAssertEqual(Set(all).count, all.count)
        XCTAssertEqual(cands("hel"), ["help"])
        XCTAssertEqual(cands("tr"), ["train"])
        XCTAssertEqual(cands("ru"), ["run", "runs"])
        XCTAssertEqual(cands("opt"), ["opt", "optimiser", "optimizer"])
        XCTAssertEqual(cands("zzz"), [])
        let (from, c) = complete("   tra")
        XCTAssertEqual(from, 3)
        XCTAssertEqual(c, ["train"])
    }

    func testAfterSemicolonAndMidLine() {
        let (from, c) = complete("seed 1; tr")
        XCTAssertEqual(from, 8)
        XCTAssertEqual(c, ["train"])
        // Only the text before the cursor counts: "init gl|orot".
        let (from2, c2) = complete("init gl|orot")
        XCTAssertEqual(from2, 5)
        XCTAssertEqual(c2, ["glorot", "glorot-normal", "glorot_normal", "glorot_uniform"])
        XCTAssertEqual(cands("show # a comment "), [])
        XCTAssertEqual(cands("nosuchcommand "), [])
    }

    // MARK: values

    func testInit() {
        XCTAssertEqual(cands("init "), Set(Initializer.names + Initializer.kerasNames).sorted(), "ours and Keras' names")
        XCTAssertTrue(cands("init ").contains("glorot") && cands("init ").contains("truncnormal"))
        XCTAssertEqual(cands("init tr"), ["truncated_normal", "truncnormal"])
        XCTAssertEqual(cands("init he"), ["he", "he-uniform", "he_normal", "he_uniform"])
        XCTAssertEqual(cands("init glorot "), ["layer"])
        XCTAssertEqual(cands("init truncnormal "), [], "a number comes first")
        XCTAssertEqual(cands("init truncnormal 0.5 "), ["layer"])
        XCTAssertEqual(cands("init glorot layer "), [])
        XCTAssertEqual(cands("INIT z"), ["zeros"], "command words are case-insensitive")
    }

    func testActivation() {
        XCTAssertEqual(cands("activation "), Activation.allCases.map(\.rawValue).sorted())
        XCTAssertEqual(cands("activation t"), ["tanh"])
        XCTAssertEqual(cands("activation relu "), [])
    }

    func testOptimizer() {
        XCTAssertEqual(cands("optimizer "), OptimizerKind.names.sorted())
        XCTAssertEqual(cands("opt a"), ["adam", "adamw"], "through an alias")
        XCTAssertEqual(cands("optimizer sgd 0.1 "), ["momentum"])
        XCTAssertEqual(cands("optimizer adam 0.1 "), [])
    }

    func testData() {
        let c = cands("data ")
        for d in ["mnist", "fashion", "synthetic"] { XCTAssertTrue(c.contains(d), d) }
        XCTAssertEqual(cands("data syn"), ["synthetic"])
        XCTAssertEqual(cands("data \(dir!)/scr"), ["\(dir!)/scripts/"])
        XCTAssertEqual(cands("data --s"), ["--scale"])
        XCTAssertEqual(cands("data mnist --scale "), ["none", "standard", "unit"])
        XCTAssertEqual(cands("data t.csv --dr"), ["--drop-missing"])
        XCTAssertEqual(cands("data mnist --limit "), [])
    }

    func testRunNames() throws {
        XCTAssertEqual(cands("use "), [])
        try addRuns("alpha", "beta", "another")
        XCTAssertEqual(cands("use "), ["alpha", "another", "beta"])
        XCTAssertEqual(cands("use a"), ["alpha", "another"])
        XCTAssertEqual(cands("compare "), ["alpha", "another", "beta"])
        XCTAssertEqual(cands("compare alpha "), ["another", "beta"], "a run already named is not offered again")
        XCTAssertEqual(cands("use alpha "), [])
    }

    func testPlot() throws {
        XCTAssertEqual(cands("plot "), ["accuracy", "grads", "hidden", "loss", "saturation"])
        XCTAssertEqual(cands("plot s"), ["saturation"])
        XCTAssertEqual(cands("plot loss --"), ["--log", "--out"])
        XCTAssertEqual(cands("plot loss --log --"), ["--out"])
        XCTAssertEqual(cands("plot loss --out \(dir!)/se"), ["\(dir!)/session.pfs", "\(dir!)/setup.pf"])
        try addRuns("alpha")
        XCTAssertEqual(cands("plot loss "), ["alpha"])
    }

    func testSet() throws {
        var table = ""
        var o = SessionOptions(dataDir: nil, cacheDir: NSTemporaryDirectory() + "preflight-completion-cache-\(getpid())")
        o.allowDownload = false
        session = Session(console: Console(out: { table += $0 }, err: { _ in }), options: o)
        let keys = cands("set ")
        for k in ["batch", "seed", "epsilon", "lr", "threads", "strict"] + session.thresholds.keys {
            XCTAssertTrue(keys.contains(k), k)
        }
        XCTAssertFalse(keys.contains("momentum"), "adam has no momentum")
        // Every candidate is a setting that `set` lists.
        try session.execute("set")
        let listed = Set(table.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
        for k in keys { XCTAssertTrue(listed.contains(k), "\(k) not in:\n\(table)") }
        XCTAssertTrue(cands("set check.sat").contains("check.saturation"))
        XCTAssertTrue(cands("set check.sat").contains { $0.hasPrefix("check.saturation.") })
        XCTAssertEqual(cands("set ep"), ["epsilon"])
        XCTAssertEqual(cands("set strict "), ["off", "on"])
        XCTAssertEqual(cands("set batch "), [])
        // SGD adds momentum.
        try session.execute("optimizer sgd 0.1")
        XCTAssertTrue(cands("set ").contains("momentum"))
        XCTAssertEqual(cands("set mom"), ["momentum"])
    }

    func testRules() {
        let ids = Rules.all.map(\.id)
        XCTAssertFalse(ids.isEmpty)
        XCTAssertEqual(cands("check "), ids.sorted())
        XCTAssertEqual(cands("explain "), ids.sorted())
        XCTAssertEqual(cands("explain satu"), ["saturation"])
        XCTAssertFalse(cands("check saturation ").contains("saturation"))
        XCTAssertEqual(cands("explain saturation "), ids.filter { $0 != "saturation" }.sorted(), "explain takes several rules")
    }

    func testHelpAndShowAndHistory() {
        XCTAssertEqual(cands("help "), Session.commands.map(\.name).sorted())
        XCTAssertEqual(cands("help tr"), ["train"])
        XCTAssertEqual(cands("help train "), [])
        XCTAssertEqual(cands("show "), ["init"])
        XCTAssertEqual(cands("history "), ["save"])
        XCTAssertEqual(cands("history 5 "), [])
    }

    // MARK: paths

    func testFilePaths() {
        let d = dir!
        for cmd in ["source", "save", "load", "export", "report", "history save"] {
            XCTAssertEqual(cands("\(cmd) \(d)/s"), ["\(d)/scripts/", "\(d)/session.pfs", "\(d)/setup.pf", "\(d)/sweep.pf"], cmd)
        }
        XCTAssertEqual(cands("source \(d)/scripts/"), ["\(d)/scripts/a.pf"])
        XCTAssertEqual(cands("source \(d)/."), ["\(d)/.hidden.pf"], "hidden files only when asked for")
        XCTAssertFalse(cands("source \(d)/").contains("\(d)/.hidden.pf"))
        XCTAssertEqual(cands("source \(d)/nothing-here"), [])
        XCTAssertEqual(cands("source /no/such/folder/x"), [])
        XCTAssertEqual(cands("export \(d)/x.json --"), ["--no-timings"])
        XCTAssertEqual(cands("source \(d)/setup.pf "), [], "one argument")
        let (from, _) = complete("source \(d)/se")
        XCTAssertEqual(from, 7)
    }

    func testPathsWithSpacesAreQuoted() {
        let d = dir!
        XCTAssertEqual(cands("load \(d)/my"), ["\"\(d)/my runs/"])
        // An opened quote is kept, and words with spaces inside it complete.
        XCTAssertEqual(cands("load \"\(d)/my runs/"), ["\"\(d)/my runs/x.json"])
        let (from, _) = complete("load \"\(d)/my runs/")
        XCTAssertEqual(from, 5, "the replacement starts at the quote")
    }

    func testHomeIsExpandedButKept() throws {
        XCTAssertEqual(Completion.paths("~"), ["~/"])
        // A home of our own with one visible entry (the real one may have none, e.g. /root).
        let home = tempDir()
        defer { try? FileManager.default.removeItem(at: home) }
        try Data().write(to: home.appendingPathComponent("notes-for-completion.txt"))
        let saved = getenv("HOME").map { String(cString: $0) }
        setenv("HOME", home.path, 1)
        defer { if let saved { setenv("HOME", saved, 1) } else { unsetenv("HOME") } }
        XCTAssertEqual(Completion.paths("~/notes-for"), ["~/notes-for-completion.txt"])
    }

    // MARK: helpers used by the Tab key

    func testCommonPrefix() {
        XCTAssertEqual(Completion.commonPrefix(["glorot", "glorot-normal"]), "glorot")
        XCTAssertEqual(Completion.commonPrefix(["he", "glorot"]), "")
        XCTAssertEqual(Completion.commonPrefix(["only"]), "only")
        XCTAssertEqual(Completion.commonPrefix([]), "")
        XCTAssertEqual(Completion.commonPrefix(["éa", "éb"]), "é")
    }

    func testColumns() {
        let text = Completion.columnize(["a", "bb", "ccc", "d", "e"], width: 12)
        XCTAssertEqual(text, "a    d\nbb   e\nccc\n")
        XCTAssertEqual(Completion.columnize(["one"], width: 2), "one\n")
        XCTAssertEqual(Completion.columnize([], width: 80), "")
        for line in Completion.columnize(Initializer.names, width: 40).split(separator: "\n") {
            XCTAssertLessThanOrEqual(line.count, 40)
        }
    }

    func testListDisplayAndPromptEscapes() {
        XCTAssertEqual(EditLineReader.displayName("/tmp/a/b.pf"), "b.pf")
        XCTAssertEqual(EditLineReader.displayName("/tmp/a/"), "a/")
        XCTAssertEqual(EditLineReader.displayName("\"/tmp/my runs/"), "my runs/")
        XCTAssertEqual(EditLineReader.displayName("glorot"), "glorot")
        XCTAssertEqual(EditLineReader.bracketEscapes("\u{1B}[1mpreflight> \u{1B}[0m", marker: "\u{1}"),
                       "\u{1}\u{1B}[1m\u{1}preflight> \u{1}\u{1B}[0m\u{1}")
        XCTAssertEqual(EditLineReader.bracketEscapes("preflight> ", marker: "\u{1}"), "preflight> ")
    }
}
