import Foundation
import XCTest
import PreflightShell
import PreflightEngine
import PreflightChecks
import PreflightData

/// Issue 14: `fix`, `fix apply`, `diff`, and the remedy settings (`l2`, `schedule`, `optimizer adamw`) in set, show,
/// history, save/load and the export.
final class FixTests: XCTestCase {
    func error(_ c: Captured, _ line: String, file: StaticString = #filePath, l: UInt = #line) -> String {
        do { try c.session.execute(line) } catch { return "\(error)" }
        XCTFail("`\(line)` should fail", file: file, line: l)
        return ""
    }

    /// The row of the latest fix table whose commands are `commands`.
    func row(_ c: Captured, _ commands: [String], file: StaticString = #filePath, line: UInt = #line) -> FixRow? {
        guard let t = c.session.lastFix else { XCTFail("no fix table", file: file, line: line); return nil }
        guard let r = t.rows.first(where: { $0.commands == commands }) else {
            XCTFail("no row \(commands) in \(t.rows.map(\.commands))", file: file, line: line); return nil
        }
        return r
    }

    func verdicts(_ r: FixRow?, _ rule: String) -> (Verdict?, Verdict?) {
        guard let t = r?.targets.first(where: { $0.rule == rule }) else { return (nil, nil) }
        return (t.before?.verdict, t.after?.verdict)
    }

    /// The study's bad network (truncated normal, std 0.5): Glorot, He and batch normalisation each clear
    /// saturation and hidden-scale on the first batch (the study's good networks had 0% saturated outputs and
    /// hidden means below 1). Nothing in the session changes.
    func testInitRemediesClearTheBadNetworksSaturationAndHiddenScale() throws {
        let dir = try skipWithoutMNIST()
        let c = Captured(dataDir: dir)
        c.run("data mnist --limit 1000; layers 784 128 128 10; init truncnormal 0.5; run bad")
        let historyBefore = c.session.history.count
        c.run("fix")
        for remedy in ["init glorot", "init he", "batchnorm on"] {
            let r = row(c, [remedy])
            XCTAssertEqual(r?.epochs, 0, "\(remedy): an init rule needs the first batch only")
            for rule in ["saturation", "hidden-scale"] {
                let (b, a) = verdicts(r, rule)
                XCTAssertEqual(b, .fail, "\(remedy) \(rule) before")
                XCTAssertEqual(a, .ok, "\(remedy) \(rule) after")
            }
        }
        // Batch normalisation leaves the output layer's truncated-normal weights as they are: the first-batch loss
        // stays far above ln 10 (init-loss is not among its rules), and a few outputs stay saturated, under warn.
        let bn = row(c, ["batchnorm on"])
        XCTAssertEqual(bn?.targets.map(\.rule), ["saturation", "hidden-scale"])
        let sat = bn?.targets.first { $0.rule == "saturation" }?.after?.value ?? .nan
        XCTAssertGreaterThan(sat, 0); XCTAssertLessThan(sat, 0.01)
        XCTAssertEqual(c.session.runs.count, 1, "fix adds no run")
        XCTAssertNil(c.session.config.batchNorm, "fix changes no setting")
        XCTAssertEqual(c.session.config.initializer, .truncnormal(0.5), "fix changes no setting")
        XCTAssertTrue(c.session.currentRun!.epochs.isEmpty)
        XCTAssertEqual(c.session.history.count, historyBefore, "fix itself is not replayed")
        XCTAssertTrue(c.output.contains("init glorot") && c.output.contains("fail → ok"), c.output)
    }

    /// `batchnorm on` is left out when the run already has it.
    func testBatchnormRemedyOnlyWhenOff() throws {
        let dir = try skipWithoutMNIST()
        let c = Captured(dataDir: dir)
        c.run("data mnist --limit 1000; layers 784 128 128 10; init truncnormal 0.5; batchnorm on; run bad; fix")
        XCTAssertFalse(c.session.lastFix?.rows.contains { $0.commands == ["batchnorm on"] } ?? true, "\(c.session.lastFix?.rows.map(\.commands) ?? [])")
        XCTAssertNotNil(row(c, ["init glorot"]))
    }

    /// Unscaled pixels: `--scale unit` clears input-range; the session keeps its unscaled data.
    func testScaleUnitClearsInputRange() throws {
        let dir = try skipWithoutMNIST()
        let c = Captured(dataDir: dir)
        c.run("data mnist --limit 1000 --scale none; layers 784 64 10; run raw; fix input-range")
        let r = c.session.lastFix?.rows.first { $0.commands.first?.contains("--scale unit") ?? false }
        XCTAssertNotNil(r, "a --scale unit remedy")
        XCTAssertEqual(verdicts(r, "input-range").0, .fail)
        XCTAssertEqual(verdicts(r, "input-range").1, .ok)
        XCTAssertEqual(c.session.data?.spec.scale, ScaleMode.none, "the session's data are untouched")
        XCTAssertEqual(c.session.lastFix?.rows.count, 1, "only input-range's remedies were asked for")
    }

    /// Adam at learning rate 10 diverges (the catalogue's own example); ÷10 clears divergence within the same
    /// three epochs, judged against the run's own first three epochs.
    func testLearningRateDividedByTenClearsDivergence() throws {
        let dir = try skipWithoutMNIST()
        let c = Captured(dataDir: dir)
        c.run("data mnist --limit 5000; layers 784 128 128 10; optimizer adam 10; train 3; fix divergence")
        let r = row(c, ["optimizer adam 1"])
        XCTAssertEqual(r?.epochs, 3)
        XCTAssertEqual(verdicts(r, "divergence").0, .fail)
        XCTAssertEqual(verdicts(r, "divergence").1, .ok)
        XCTAssertEqual(r?.accuracyBefore, c.session.currentRun!.epochs[2].testAccuracy, "before = the run's own epoch 3")
        XCTAssertEqual(c.session.currentRun!.epochs.count, 3, "the run is untouched")
        XCTAssertEqual(c.session.config.optimizer, .adam(lr: 10))
        // Clipping the global gradient norm is offered for divergence too, tried over the same epochs.
        XCTAssertEqual(row(c, ["clip 1"])?.epochs, 3)
    }

    /// `set fix.epochs` caps a curve remedy's epochs.
    func testFixEpochsCapsTheCopies() throws {
        let dir = try skipWithoutMNIST()
        let c = Captured(dataDir: dir)
        c.run("data mnist --limit 1000; layers 784 32 10; optimizer adam 10; train 3; set fix.epochs 2; fix divergence")
        XCTAssertEqual(c.session.lastFix?.rows.map(\.epochs).max(), 2)
        XCTAssertTrue(error(c, "set fix.epochs 0").contains("at least 1"))
    }

    func testNothingFailingSaysSoAndChangesNothing() {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300; layers 784 32 10; run good")
        c.clear()
        c.run("fix saturation")
        XCTAssertTrue(c.output.contains("nothing to fix"), c.output)
        XCTAssertNil(c.session.lastFix)
        XCTAssertEqual(c.session.runs.count, 1)
    }

    func testFixApplyErrors() throws {
        let c = Captured(dataDir: nil)
        XCTAssertTrue(error(c, "fix apply 1").contains("no fix table"))
        c.run("data synthetic 300; layers 784 32 10; init truncnormal 2; run bad; fix")
        let n = c.session.lastFix?.rows.count ?? 0
        XCTAssertGreaterThan(n, 0, c.output)
        XCTAssertTrue(error(c, "fix apply \(n + 1)").contains("1 to \(n)"))
        XCTAssertTrue(error(c, "fix apply 0").contains("1 to \(n)"))
        XCTAssertTrue(error(c, "fix apply x").contains("1 to \(n)"))
        XCTAssertTrue(error(c, "fix bogus-rule").contains("unknown rule"))
        XCTAssertEqual(c.session.runs.count, 1, "a refused fix apply starts nothing")
    }

    /// `fix apply N` starts a new run from the fixed run's configuration plus the remedy, recorded as the commands
    /// themselves: a replay of `history save` rebuilds the same run.
    func testFixApplyStartsARunThatHistoryReplays() throws {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300; layers 784 32 10; init truncnormal 2; run bad; fix")
        let i = try XCTUnwrap(c.session.lastFix?.rows.firstIndex { $0.commands == ["init glorot"] })
        // The session's configuration drifts after the run was made: apply must start from the run's.
        c.run("batch 50; fix apply \(i + 1)")
        let r = c.session.currentRun!
        XCTAssertEqual(r.name, "bad-fix\(i + 1)")
        XCTAssertEqual(r.config.initializer, .glorot)
        XCTAssertEqual(r.config.batch, 100, "the fixed run's batch, not the drifted one")
        XCTAssertEqual(c.session.runs.count, 2)
        let lines = c.session.history.map(\.line)
        XCTAssertFalse(lines.contains { $0.hasPrefix("fix") }, "\(lines)")
        XCTAssertEqual(Array(lines.suffix(3)), ["batch 100", "init glorot", "run bad-fix\(i + 1)"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fixreplay-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        c.run("history save \(dir.path)/s.pf --force")
        let d = Captured(dataDir: nil)
        d.run("source \(dir.path)/s.pf")
        XCTAssertEqual(d.session.run(named: "bad-fix\(i + 1)")?.config, r.config)
    }

    func testFixOnAnImportedRunGivesAdvice() throws {
        let c = Captured()
        c.run("import \(Records.torchBad)")
        c.clear()
        c.run("fix")
        XCTAssertTrue(c.output.contains("remedies to try in its code"), c.output)
        XCTAssertTrue(c.output.contains("Glorot"), c.output)
        XCTAssertEqual(c.session.runs.count, 1)
        XCTAssertNil(c.session.lastFix)
    }

    func testDiffShowsConfigurationVerdictsAndEpochDeltas() {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300; layers 784 32 10; run a; train 2; init truncnormal 2; run b; train 2")
        c.clear()
        c.run("diff a b")
        let out = c.output
        XCTAssertTrue(out.contains("init") && out.contains("glorot") && out.contains("truncnormal 2"), out)
        XCTAssertFalse(out.contains("  batch "), "only what differs: \(out)")
        XCTAssertTrue(out.contains("saturation"), "the verdict that changed: \(out)")
        XCTAssertTrue(out.contains("per epoch"), out)
        let a = c.session.run(named: "a")!.epochs, b = c.session.run(named: "b")!.epochs
        let delta = b[1].trainLoss - a[1].trainLoss
        XCTAssertTrue(out.contains((delta >= 0 ? "+" : "") + String(format: "%.4f", delta)), "epoch 2's loss delta \(delta): \(out)")
        XCTAssertTrue(error(c, "diff a").contains("two run names"))
        XCTAssertTrue(error(c, "diff a zz").contains("no run named"))
    }

    // MARK: - the remedy settings

    func testRemedySettingsInSetAndShowAndTheirErrors() {
        let c = Captured(dataDir: nil)
        c.run("l2 1e-4; schedule step 2 0.5; optimizer adamw 0.001")
        XCTAssertEqual(c.session.config.l2, 1e-4)
        XCTAssertEqual(c.session.config.schedule, .step(every: 2, factor: 0.5))
        XCTAssertEqual(c.session.config.optimizer, .adamw(lr: 0.001, weightDecay: 0.01), "torch's default decay")
        c.run("set schedule cosine; set weight_decay 0.05; set lr 0.002; set schedule.epochs 8")
        XCTAssertEqual(c.session.config.schedule, .cosine)
        XCTAssertEqual(c.session.config.optimizer, .adamw(lr: 0.002, weightDecay: 0.05))
        XCTAssertEqual(c.session.config.scheduleEpochs, 8)
        c.clear(); c.run("show")
        XCTAssertTrue(c.output.contains("l2") && c.output.contains("0.0001"), c.output)
        XCTAssertTrue(c.output.contains("cosine over 8 epochs"), c.output)
        c.clear(); c.run("set")
        for k in ["weight_decay", "l2", "schedule", "schedule.epochs", "fix.epochs"] { XCTAssertTrue(c.output.contains(k), k) }
        c.run("l2 0; set schedule none")
        XCTAssertNil(c.session.config.l2, "l2 0 is the configuration without l2")
        XCTAssertNil(c.session.config.schedule)
        let cases: [(String, String)] = [
            ("l2 -1", "≥ 0"), ("l2 x", "≥ 0"), ("set l2 -0.1", "≥ 0"),
            ("schedule step 0 0.5", "EVERY"), ("schedule step 2 1.5", "(0, 1]"), ("schedule step 2 0", "(0, 1]"),
            ("schedule step 2 -1", "(0, 1]"), ("schedule step 2", "EVERY"), ("schedule linear", "unknown schedule"),
            ("optimizer adamw 0.1 -1", "≥ 0"), ("optimizer adamw 0.1 20", "below 1"),
            ("set weight_decay 0.1", "only adamw"), ("set schedule.epochs 0", "at least 1"),
        ]
        c.run("optimizer adam 0.001")
        for (line, text) in cases { let e = error(c, line); XCTAssertTrue(e.contains(text), "`\(line)`: \(e)") }
        XCTAssertEqual(c.session.config.optimizer, .adam(lr: 0.001), "refused settings change nothing")
    }

    /// The plan of a schedule: the run's first `train N`, kept by later ones; `set schedule.epochs` overrides it.
    func testTheScheduleIsPlannedByTheFirstTrain() {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 200; layers 784 16 10; schedule cosine; train 2; train 1")
        XCTAssertEqual(c.session.currentRun!.trainer.optimizer.plannedEpochs, 2)
        c.run("set schedule.epochs 6; train 1")
        XCTAssertEqual(c.session.currentRun!.trainer.optimizer.plannedEpochs, 6, "a new run, planned by the setting")
        XCTAssertEqual(c.session.runs.count, 2)
    }

    /// save/load keeps the remedies and the plan: training on after a load gives the same numbers as training on
    /// without it. The export's config names them.
    func testRemediesSurviveSaveLoadAndAreExported() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fixsave-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let a = Captured(dataDir: nil)
        a.run("data synthetic 300; layers 784 16 10; l2 0.001; schedule cosine; optimizer adamw 0.01 0.1; train 2")
        a.run("save \(dir.path)/s.pfz --force; export \(dir.path)/s.json --force")
        let b = Captured(dataDir: nil)
        b.run("load \(dir.path)/s.pfz")
        XCTAssertEqual(b.session.currentRun?.config, a.session.currentRun?.config)
        XCTAssertEqual(b.session.currentRun?.trainer.optimizer.plannedEpochs, 2)
        XCTAssertEqual(b.session.currentRun?.trainer.optimizer.l2, 0.001)
        a.run("train 1"); b.run("train 1")
        XCTAssertEqual(a.session.currentRun!.network.parameterArray, b.session.currentRun!.network.parameterArray)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("s.json"))) as! [String: Any]
        let config = ((json["runs"] as! [[String: Any]])[0])["config"] as! [String: Any]
        XCTAssertEqual(config["optimizer"] as? String, "adamw")
        XCTAssertEqual(config["weight_decay"] as? Double, 0.1)
        XCTAssertEqual(config["l2"] as? Double, 0.001)
        XCTAssertEqual(config["schedule"] as? String, "cosine")
        XCTAssertEqual(config["planned_epochs"] as? Int, 2)
    }

    /// A save file written before the remedies (no l2/schedule fields) still loads, as a run without them; one with
    /// an impossible remedy setting is refused whole, leaving the session as it was.
    func testOlderSaveFilesLoadAndBadRemedySettingsAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fixold-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let a = Captured(dataDir: nil)
        a.run("data synthetic 200; layers 784 16 10; train 1; save \(dir.path)/old.pfz --force")
        let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent("old.pfz")))
        let nameLen = Int(bytes[26]) | Int(bytes[27]) << 8, extra = Int(bytes[28]) | Int(bytes[29]) << 8
        let size = Int(bytes[18]) | Int(bytes[19]) << 8 | Int(bytes[20]) << 16 | Int(bytes[21]) << 24
        let text = String(decoding: bytes[(30 + nameLen + extra)..<(30 + nameLen + extra + size)], as: UTF8.self)
        XCTAssertTrue(text.contains("\"optimizer\""), "read session.json")
        XCTAssertFalse(text.contains("\"l2\"") || text.contains("\"schedule\""), "no remedy fields when none is set, as in older files")
        let b = Captured(dataDir: nil)
        b.run("load \(dir.path)/old.pfz")
        XCTAssertNil(b.session.currentRun?.config.l2)
        XCTAssertEqual(b.session.currentRun?.trainer.optimizer.schedule, Schedule.none)

        a.run("l2 0.001; run r2; train 1; save \(dir.path)/l2.pfz --force")
        let good = [UInt8](try Data(contentsOf: dir.appendingPathComponent("l2.pfz")))
        let bad = try patchedSessionJSON(good, from: "\"l2\" : 0.001", to: "\"l2\" : -0.01")
        try Data(bad).write(to: dir.appendingPathComponent("bad.pfz"))
        let e = error(b, "load \(dir.path)/bad.pfz")
        XCTAssertTrue(e.contains("l2"), e)
        XCTAssertEqual(b.session.runs.map(\.name), ["run1"], "the session is unchanged")
    }
}
