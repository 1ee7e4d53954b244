import Foundation
import XCTest
import PreflightShell
import PreflightEngine

/// `sweep` on two threads trains two runs at a time, each on one thread; on one thread, one run after the other.
/// Both must leave the same session and print the same text: these tests compare the two.
final class ParallelSweepTests: XCTestCase {
    /// A deep run first and a shallow one next, per initialiser: the second run finishes before the first when two
    /// run at once, so showing runs as they finish (rather than in sweep order) would change the order.
    let sweepLine = "sweep init glorot truncnormal:0.5 depth 6 1 epochs 2 width 64"

    func sweep(threads: Int) throws -> Captured {
        let data = try realImageData()
        let c = Captured(dataDir: data.dataDir)
        c.run("seed 5; data \(data.name) --limit 1200; set threads \(threads); run before; train 1")
        c.clear()
        c.run(sweepLine)
        XCTAssertEqual(c.session.sweepLanes, threads, "threads \(threads): runs trained at once")
        return c
    }

    /// The lines a sweep prints, with each run's seconds (the only timing in them) blanked.
    func withoutSeconds(_ text: String) -> [String] {
        text.components(separatedBy: "\n").map { $0.replacingOccurrences(of: #", [0-9.]+s$"#, with: ", Xs", options: .regularExpression) }
    }

    func timeless(_ e: EpochRecord) -> EpochRecord { var e = e; e.seconds = 0; e.samplesPerSecond = 0; return e }

    func testTwoAtATimeLeavesWhatOneAfterTheOtherLeaves() throws {
        let one = try sweep(threads: 1), two = try sweep(threads: 2)
        let a = one.session, b = two.session
        XCTAssertEqual(b.runs.map(\.name), a.runs.map(\.name), "the runs and their order")
        XCTAssertEqual(a.runs.map(\.name), ["before", "glorot-d6-s5", "glorot-d1-s5", "truncnormal:0.5-d6-s5", "truncnormal:0.5-d1-s5"])
        XCTAssertEqual(b.currentRun?.name, "before", "the selection stays")
        for (x, y) in zip(a.runs, b.runs) {
            let tx: Trainer = x.trainer, ty: Trainer = y.trainer
            XCTAssertEqual(ty.firstBatch, tx.firstBatch, y.name)
            XCTAssertEqual(ty.epochs.map(timeless), tx.epochs.map(timeless), y.name)
            XCTAssertEqual(ty.epochs.count, y.name == "before" ? 1 : 2, y.name)
            XCTAssertEqual(y.findings, x.findings, y.name)
            let n = tx.network.paramCount
            XCTAssertEqual(Array(UnsafeBufferPointer(start: ty.network.params, count: n)),
                           Array(UnsafeBufferPointer(start: tx.network.params, count: n)), "\(y.name): the trained weights, bit for bit")
            XCTAssertEqual(ty.optimizer.mArray, tx.optimizer.mArray, y.name)
            XCTAssertEqual(ty.optimizer.steps, tx.optimizer.steps, y.name)
        }
        // The text: every run's line in sweep order, then the same table.
        XCTAssertEqual(withoutSeconds(two.output), withoutSeconds(one.output))
        XCTAssertTrue(two.output.contains("[2/4] glorot-d1-s5: first-batch saturated"), two.output)
        XCTAssertTrue(two.output.contains("published"), two.output)
        // A run trained two at a time keeps the session's thread setting, as one trained alone does.
        for r in b.runs { XCTAssertEqual(r.trainer.threads, 2, r.name) }
        // The history replays the same (but for the thread setting).
        func lines(_ s: Session) -> [String] { s.history.map(\.line).filter { !$0.hasPrefix("set threads") } }
        XCTAssertEqual(lines(b), lines(a))

        // A second sweep replaces the runs of the same names in the same way.
        one.clear(); two.clear()
        one.run("sweep init glorot depth 1 6 epochs 1 width 64")
        two.run("sweep init glorot depth 1 6 epochs 1 width 64")
        XCTAssertEqual(b.runs.map(\.name), a.runs.map(\.name))
        XCTAssertEqual(withoutSeconds(two.output), withoutSeconds(one.output))
        XCTAssertTrue(two.output.contains("replacing run glorot-d1-s5"), two.output)
        XCTAssertEqual(b.run(named: "glorot-d6-s5")!.trainer.epochs.map(timeless), a.run(named: "glorot-d6-s5")!.trainer.epochs.map(timeless))
    }

    /// One run: nothing to train beside it, so one after the other (with the session's two threads).
    func testASingleRunTrainsAlone() throws {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300; set threads 2; sweep init glorot depth 1 epochs 1 width 8")
        XCTAssertEqual(c.session.sweepLanes, 1)
    }

    /// ^C in the first run while the second trains beside it: the sweep stops both and keeps what a sweep of one
    /// run after the other keeps, the first run only (the second, not shown yet, is dropped), on either thread count.
    func testInterruptKeepsWhatOneAfterTheOtherKeeps() throws {
        var histories: [[String]] = []
        for threads in [1, 2] {
            // The progress line of the first run's second epoch: press ^C.
            let (console, box) = interruptingConsole { $0.contains("glorot-d6-s0 epoch 2/") }
            var o = SessionOptions(dataDir: nil, cacheDir: NSTemporaryDirectory() + "preflight-sweep-test")
            o.allowDownload = false
            let s = Session(console: console, options: o)
            XCTAssertNoThrow(try s.execute("data synthetic 3000"))
            XCTAssertNoThrow(try s.execute("set threads \(threads)"))
            XCTAssertNoThrow(try s.execute("sweep init glorot depth 6 1 epochs 3 width 64"))
            XCTAssertTrue(Interrupt.requested, "the flag stays set, so that a script stops after the sweep")
            Interrupt.clear()
            XCTAssertEqual(s.sweepLanes, threads)
            XCTAssertEqual(s.runs.map(\.name), ["glorot-d6-s0"], "threads \(threads)")
            guard s.runs.count == 1 else { continue }
            let t: Trainer = s.runs[0].trainer
            XCTAssertEqual(t.epochs.count, 2, "threads \(threads): no epoch after the ^C (the second may have stopped mid-epoch)")
            XCTAssertTrue(box.out.contains("interrupted: 1 of 2 runs"), box.out)
            XCTAssertFalse(box.out.contains("glorot-d1-s0:"), "threads \(threads): the dropped run prints nothing: \(box.out)")
            XCTAssertTrue(box.out.contains("published"), "the finished runs are tabled")
            let dir = tempDir()
            XCTAssertNoThrow(try s.execute("history save \(dir.path)/h.pf"))
            histories.append(try String(contentsOfFile: dir.path + "/h.pf", encoding: .utf8)
                .components(separatedBy: "\n").filter { !$0.hasPrefix("set threads") })
        }
        XCTAssertEqual(histories[1], histories[0], "the history saved after a ^C")
    }
}
