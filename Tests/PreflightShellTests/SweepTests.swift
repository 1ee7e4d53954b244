import Foundation
import XCTest
import PreflightShell
import PreflightEngine
import PreflightChecks

/// `sweep`: parsing and errors, the runs it leaves in the session, ^C, and the study's claims on reduced MNIST.
final class SweepTests: XCTestCase {
    let usage = "sweep init INIT… depth D… [epochs E] [seeds S] [width W]"

    func sweepError(_ c: Captured, _ line: String, file: StaticString = #filePath, l: UInt = #line) -> CommandError? {
        do { try c.session.execute(line) } catch let e as CommandError { return e } catch {
            XCTFail("`\(line)`: unexpected \(error)", file: file, line: l); return nil
        }
        XCTFail("`\(line)` should fail", file: file, line: l)
        return nil
    }

    func testParseErrorsCarryTheUsageLine() {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 200")
        let cases: [(String, String)] = [
            ("sweep", "give the initialisers and depths"),
            ("sweep init glorot", "which depths?"),
            ("sweep depth 2 3", "which initialisers?"),
            ("sweep init depth 2", "`init` needs at least one initialiser"),
            ("sweep init glorot depth", "`depth` needs at least one number"),
            ("sweep init bogus depth 2", "unknown initialiser `bogus`"),
            ("sweep init truncnormal depth 2", "unknown initialiser `truncnormal`"),
            ("sweep init truncnormal:x depth 2", "unknown initialiser `truncnormal:x`"),
            ("sweep init truncnormal:0.5:1 depth 2", "unknown initialiser"),
            ("sweep init glorot glorot depth 2", "listed twice"),
            ("sweep init glorot depth 0", "at least 1"),
            ("sweep init glorot depth 2 2", "depth 2 listed twice"),
            ("sweep init glorot depth two", "whole number"),
            ("sweep init glorot depth 2 epochs", "`epochs` needs a number"),
            ("sweep init glorot depth 2 epochs 0", "at least 1"),
            ("sweep init glorot depth 2 epochs 1 2", "unexpected `2`"),
            ("sweep init glorot depth 2 seeds 2 seeds 3", "given twice"),
            ("sweep init glorot depth 2 width -4", "at least 1"),
            ("sweep init glorot depth 2 lr 0.1", "got `lr`"),
            ("sweep init glorot depth 2 epochs 1 lr 0.1", "unexpected `lr`"),
            ("sweep init glorot init he depth 2", "`init` given twice"),
        ]
        for (line, text) in cases {
            guard let e = sweepError(c, line) else { continue }
            XCTAssertTrue(e.message.contains(text), "`\(line)`: \(e.message)")
            XCTAssertEqual(e.usage, usage, "`\(line)` should print the usage line")
        }
        XCTAssertTrue(c.session.runs.isEmpty, "a refused sweep starts no run")
    }

    func testNeedsData() {
        let c = Captured(dataDir: nil)
        let e = sweepError(c, "sweep init glorot depth 2")
        XCTAssertTrue(e?.message.contains("no data loaded") ?? false, e?.message ?? "")
    }

    func testHelpListsSweep() {
        let c = Captured(dataDir: nil)
        c.run("help sweep")
        XCTAssertTrue(c.output.contains(usage), c.output)
    }

    /// The grid's runs: names, configurations, seeds, recorded findings; the table; a second sweep replaces them.
    func testGridRunsStayInTheSessionAndARerunReplacesThem() throws {
        let c = Captured(dataDir: nil)
        c.run("seed 3; data synthetic 400; layers 784 32 10; run mine; train 1")
        c.clear()
        c.run("sweep init glorot truncnormal:0.5 depth 1 2 epochs 2 seeds 2 width 16")
        let s = c.session
        XCTAssertEqual(s.runs.map(\.name), ["mine",
            "glorot-d1-s3", "glorot-d1-s4", "glorot-d2-s3", "glorot-d2-s4",
            "truncnormal:0.5-d1-s3", "truncnormal:0.5-d1-s4", "truncnormal:0.5-d2-s3", "truncnormal:0.5-d2-s4"])
        let r = s.run(named: "truncnormal:0.5-d2-s4")!
        XCTAssertEqual(r.config.layers, [784, 16, 16, 10])
        XCTAssertEqual(r.config.initializer, .truncnormal(0.5))
        XCTAssertEqual(r.config.seed, 4)
        XCTAssertEqual(r.trainer.epochs.count, 2)
        XCTAssertNotNil(r.trainer.firstBatch)
        XCTAssertFalse(r.findings.isEmpty, "each run's checks are recorded")
        XCTAssertEqual(r.findings, s.findings(for: r))
        // The session's own configuration and selection are untouched.
        XCTAssertEqual(s.config.layers, [784, 32, 10])
        XCTAssertEqual(s.config.seed, 3)
        XCTAssertEqual(s.currentRun?.name, "mine")
        // Progress lines, then the table with one row per cell.
        XCTAssertTrue(c.output.contains("[1/8] glorot-d1-s3: first-batch saturated"), c.output)
        XCTAssertTrue(c.output.contains("saturated  published"), c.output)
        let rows = c.output.components(separatedBy: "\n").filter { $0.hasPrefix("glorot ") || $0.hasPrefix("truncnormal 0.5 ") }
        XCTAssertEqual(rows.count, 4, c.output)
        // width 16: the study's published values do not apply.
        XCTAssertFalse(rows[0].contains(" 0% "), rows[0])

        c.clear()
        c.run("sweep init glorot depth 1 epochs 1")
        XCTAssertEqual(s.runs.count, 9, "same names are replaced, not duplicated")
        XCTAssertEqual(s.run(named: "glorot-d1-s3")!.trainer.epochs.count, 1)
        XCTAssertTrue(c.output.contains("replacing run glorot-d1-s3"), c.output)
        // compare and export see the sweep's runs.
        c.run("compare glorot-d1-s3 truncnormal:0.5-d2-s4")
        let dir = tempDir()
        c.run("export \(dir.path)/s.json")
        let runs = try loadJSON(dir.path + "/s.json")["runs"] as! [[String: Any]]
        XCTAssertEqual(runs.count, 9)
    }

    func testQuietHidesProgressButNotTheTable() {
        let c = Captured(dataDir: nil)
        c.session.console.quiet = true
        c.run("data synthetic 300; sweep init glorot depth 1 epochs 1 width 8")
        XCTAssertFalse(c.output.contains("[1/1]"), c.output)
        XCTAssertTrue(c.output.contains("published"), c.output)
    }

    func testPublishedValuesBesideOurs() throws {
        let c = Captured(dataDir: try skipWithoutMNIST())
        c.run("data mnist --limit 300; sweep init glorot truncnormal:0.5 he depth 2 3 4 epochs 1")
        /// The published column of the row for this initialiser and depth.
        func published(_ initName: String, _ depth: Int) -> String? {
            let lines = c.output.components(separatedBy: "\n")
            for l in lines where l.hasPrefix(initName + " ") {
                let cells = l.dropFirst(initName.count).split(separator: " ").map(String.init)
                if cells.count > 2, cells[0] == String(depth) { return cells[2] }
            }
            return nil
        }
        XCTAssertEqual(published("truncnormal 0.5", 2), "80%", c.output)
        XCTAssertEqual(published("truncnormal 0.5", 3), "99%", c.output)
        XCTAssertEqual(published("truncnormal 0.5", 4), "100%", c.output)
        XCTAssertEqual(published("glorot", 3), "0%", c.output)
        XCTAssertEqual(published("he", 3), "-", c.output)

        // The study measured MNIST: beside other data its figures compare nothing, and are not shown.
        c.clear()
        c.run("data synthetic 300; sweep init truncnormal:0.5 depth 2 epochs 1")
        XCTAssertEqual(published("truncnormal 0.5", 2), "-", c.output)
    }

    /// A sweep that replaces the selected run selects its replacement (`show` does not fall back to "no run").
    func testSweepReplacingTheSelectedRunSelectsTheNewOne() {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300; sweep init glorot depth 1 epochs 1 width 8; use glorot-d1-s0")
        let old = c.session.currentRun
        c.run("sweep init glorot depth 1 epochs 2 width 8")
        XCTAssertNotNil(c.session.currentRun)
        XCTAssertFalse(c.session.currentRun === old)
        XCTAssertEqual(c.session.currentRun?.name, "glorot-d1-s0")
        XCTAssertEqual(c.session.currentRun?.trainer.epochs.count, 2)
        c.clear()
        c.run("show")
        XCTAssertFalse(c.output.contains("none yet"), c.output)
    }

    /// ^C during the first run: the sweep stops after the current batch, keeps that run, starts no other.
    func testInterruptKeepsFinishedRuns() {
        // The progress line of the first run's second epoch: press ^C.
        let (console, box) = interruptingConsole { $0.contains("glorot-d1-s0 epoch 2/") }
        var o = SessionOptions(dataDir: nil, cacheDir: NSTemporaryDirectory() + "preflight-sweep-test")
        o.allowDownload = false
        let s = Session(console: console, options: o)
        XCTAssertNoThrow(try s.execute("data synthetic 2000"))
        XCTAssertNoThrow(try s.execute("sweep init glorot depth 1 2 epochs 3 width 32"))
        XCTAssertTrue(Interrupt.requested, "the flag stays set, so that a script stops after the sweep")
        Interrupt.clear()
        XCTAssertEqual(s.runs.map(\.name), ["glorot-d1-s0"])
        let t: Trainer = s.runs[0].trainer
        XCTAssertEqual(t.epochs.count, 2, "no epoch after the ^C (the second may have stopped mid-epoch)")
        XCTAssertTrue(box.out.contains("interrupted: 1 of 2 runs"), box.out)
        XCTAssertTrue(box.out.contains("published"), "the finished runs are tabled")
    }

    // MARK: - the study's claims, on reduced MNIST (first 5000 samples, 2 seeds, 3 epochs)

    func testStudyClaimsOnReducedMNIST() throws {
        let data = try skipWithoutMNIST()
        let c = Captured(dataDir: data)
        c.session.console.quiet = true
        c.run("seed 0; data mnist --limit 5000; sweep init glorot truncnormal:0.5 depth 2 3 4 epochs 3 seeds 2")
        let s = c.session
        func cell(_ i: String, _ d: Int) -> [Run] { s.runs.filter { $0.name.hasPrefix("\(i)-d\(d)-") } }
        let targets = [2: 0.80, 3: 0.95, 4: 0.98]
        for d in [2, 3, 4] {
            let bad = cell("truncnormal:0.5", d), good = cell("glorot", d)
            XCTAssertEqual(bad.count, 2); XCTAssertEqual(good.count, 2)
            let sat = bad.map { $0.trainer.firstBatch!.saturatedFraction }
            XCTAssertGreaterThanOrEqual(sat.reduce(0, +) / 2, targets[d]!, "bad, \(d) hidden: first-batch saturated share \(sat)")
            for r in good { XCTAssertEqual(r.trainer.firstBatch!.saturatedFraction, 0, r.name) }
            for r in bad {
                let h = r.trainer.firstBatch!.hidden.map(\.mean)
                XCTAssertEqual(h.count, d)
                XCTAssertGreaterThan(h.last!, h.first!, "\(r.name): at init the last hidden layer's mean exceeds the first's: \(h)")
                XCTAssertGreaterThan(h.first!, 1, r.name)
                XCTAssertTrue(r.findings.contains { $0.rule == "saturation" && $0.verdict == .fail }, r.name)
                XCTAssertTrue(r.findings.contains { $0.rule == "hidden-scale" && $0.verdict == .fail }, r.name)
            }
            for r in good {
                for h in r.trainer.firstBatch!.hidden { XCTAssertLessThan(h.mean, 1, r.name) }
                XCTAssertFalse(r.findings.contains { $0.verdict == .fail }, "\(r.name): \(r.findings.filter { $0.verdict == .fail }.map(\.rule))")
                // The good network ends ahead of the bad one.
                let goodLoss = r.trainer.epochs.last!.testLoss!, badLoss = bad.map { $0.trainer.epochs.last!.testLoss! }.min()!
                XCTAssertLessThan(goodLoss, badLoss, r.name)
            }
        }
    }

    /// The study's "good networks' hidden means stay below 1 and rise with training", where it holds: plain SGD
    /// with learning rate 0.1 (on full MNIST, 10 epochs, 5 seeds: at most 0.82). With the default Adam 0.001 the
    /// last hidden layer's mean passes 1 within 10 epochs in 13 of 15 runs (up to 1.23): see docs/study.md.
    func testGoodHiddenMeansStayBelowOneAndRiseWithSGD() throws {
        let data = try skipWithoutMNIST()
        let c = Captured(dataDir: data)
        c.session.console.quiet = true
        c.run("seed 0; data mnist --limit 5000; optimizer sgd 0.1; sweep init glorot depth 2 3 4 epochs 5 seeds 2")
        XCTAssertEqual(c.session.runs.count, 6)
        for r in c.session.runs {
            let fb = r.trainer.firstBatch!.hidden.map(\.mean)
            for e in r.trainer.epochs {
                for (k, h) in e.hidden.enumerated() {
                    XCTAssertLessThan(h.mean, 1, "\(r.name) epoch \(e.epoch) hidden \(k + 1)")
                    XCTAssertGreaterThan(h.mean, fb[k], "\(r.name) epoch \(e.epoch) hidden \(k + 1): rises from its first-batch value")
                }
            }
        }
    }
}
