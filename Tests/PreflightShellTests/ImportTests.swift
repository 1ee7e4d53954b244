import Foundation
import XCTest
@testable import PreflightShell
import PreflightChecks
import PreflightEngine

/// `import FILE.json`: external runs in the session, and `preflight check FILE.json`.
final class ImportTests: XCTestCase {
    func finding(_ c: Captured, _ rule: String, run: String? = nil, file: StaticString = #filePath, line: UInt = #line) -> Finding {
        let r = run.flatMap { c.session.run(named: $0) } ?? c.session.currentRun!
        guard let f = c.session.findings(for: r).first(where: { $0.rule == rule }) else {
            XCTFail("no finding \(rule)", file: file, line: line); return Finding(rule: rule, phase: "", value: nil, threshold: nil, verdict: .ok, measured: "")
        }
        return f
    }

    /// Writes `text` to a fresh file and returns its path.
    func write(_ text: String, name: String = "record.json") -> String {
        let p = tempDir().appendingPathComponent(name).path
        XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: Data(text.utf8)))
        return p
    }

    func testImportAddsTheRunAndCheckJudgesWhatItHolds() throws {
        let c = Captured()
        c.run("import \(Records.torchBad)")
        XCTAssertEqual(c.session.runs.map(\.name), ["torch-bad"])
        XCTAssertEqual(c.session.currentRun?.name, "torch-bad", "the imported run is selected")
        XCTAssertTrue(c.session.currentRun!.isExternal)
        XCTAssertTrue(c.output.contains("imported 1 run from \(Records.torchBad) (pytorch 2.13.0+cpu, schema version 2)"), c.output)
        c.clear()
        c.run("check")
        XCTAssertTrue(c.output.contains("checks for run torch-bad, pytorch 2.13.0+cpu record, 3 epochs"), c.output)
        // The fixture's first batch: 87.4% saturated against the default fail threshold of 10%; loss 14.87 against
        // ln 10 = 2.30; hidden means 1.58 then 5.91 (above the default fail level of 3).
        let sat = finding(c, "saturation")
        XCTAssertEqual(sat.verdict, .fail); XCTAssertEqual(sat.value, 0.874)
        XCTAssertEqual(finding(c, "init-loss").verdict, .fail)
        XCTAssertEqual(finding(c, "init-loss").value!, 14.87 - log(10), accuracy: 1e-9, "nats above ln 10")
        XCTAssertEqual(finding(c, "hidden-scale").verdict, .fail)
        XCTAssertEqual(finding(c, "output-units").verdict, .ok, "10 outputs for 10 classes")
        XCTAssertEqual(finding(c, "loss-trend").verdict, .ok, "9.02 → 2.17")
        let sym = finding(c, "symmetry")
        XCTAssertEqual(sym.verdict, .notRun)
        XCTAssertTrue(sym.reason.contains("config.init"), sym.reason)
        XCTAssertEqual(c.session.currentRun!.findings.count, Rules.all.count, "check keeps the findings for export and compare")
        c.run("check saturation")
        c.run("explain saturation")
    }

    func testEachRuleSaysWhatTheRecordLacks() throws {
        let c = Captured()
        c.run("import \(Records.kerasRegression)")
        for rule in ["saturation", "init-loss", "output-units"] {
            let f = finding(c, rule)
            XCTAssertEqual(f.verdict, .notRun, rule)
            XCTAssertTrue(f.reason.contains("no number of classes"), "\(rule): \(f.reason)")
        }
        XCTAssertTrue(finding(c, "symmetry").reason.contains("no layer sizes"))
        XCTAssertTrue(finding(c, "dead-units").reason.contains("activation gelu"), finding(c, "dead-units").reason)
        XCTAssertEqual(finding(c, "slow").reason, "needs 3 epochs, have 2")
        XCTAssertEqual(finding(c, "loss-trend").verdict, .ok, "the train loss is there: 0.61 → 0.44")
        XCTAssertEqual(finding(c, "grad-vanish").verdict, .ok, "gradient norms without layer sizes")

        // No train loss at all (end_epoch given only test metrics): the curve rules say so, and null is not NaN.
        let noLoss = Records.text(Records.torchBad).replacingOccurrences(of: #""train_loss": [0-9.]+"#, with: "\"train_loss\": null",
                                                                           options: .regularExpression)
        let d = Captured()
        d.run("import \(write(noLoss))")
        for rule in ["loss-trend", "divergence", "slow", "overfitting"] {
            let f = finding(d, rule)
            XCTAssertEqual(f.verdict, .notRun, rule)
            XCTAssertTrue(f.reason.contains("no train_loss"), "\(rule): \(f.reason)")
        }
        XCTAssertEqual(finding(d, "nonfinite").verdict, .ok, "a missing train loss is not a NaN")

        // A first-batch NaN the probe located fails nonfinite, naming the module.
        let nan = Records.text(Records.torchBad).replacingOccurrences(of: "\"nonfinite\": null",
                                                                        with: "\"nonfinite\": {\"module\": \"net.2\", \"stage\": \"forward\"}")
        let e = Captured()
        e.run("import \(write(nan))")
        XCTAssertEqual(finding(e, "nonfinite").verdict, .fail)
        XCTAssertTrue(finding(e, "nonfinite").measured.contains("net.2"))
    }

    /// A record the probe itself wrote (probe/ at the time of writing: torch 2.13, a 784-128-128-10 MLP with
    /// truncated-normal std 0.5 weights on random inputs, 3 short epochs sampled once): read as is and judged.
    func testARecordWrittenByTheProbe() throws {
        let c = Captured()
        c.run("import \(Records.folder.appendingPathComponent("probe-torch-mlp-bad.json").path)")
        let r = c.session.currentRun!
        XCTAssertEqual(r.record?.engine, "pytorch")
        XCTAssertEqual(r.record?.sizes, [784, 128, 128, 10])
        XCTAssertEqual(finding(c, "saturation").verdict, .fail)
        XCTAssertEqual(finding(c, "init-loss").verdict, .fail)
        let u = finding(c, "update-ratio")
        XCTAssertEqual(u.phase, "epoch 1", "the only epoch with a sampled step")
        XCTAssertEqual(finding(c, "output-units").verdict, .ok)
    }

    func testANameClashGetsASuffixAndANote() {
        let c = Captured()
        c.run("import \(Records.torchBad)")
        c.run("import \(Records.torchBad) \(Records.torchBad)")
        XCTAssertEqual(c.session.runs.map(\.name), ["torch-bad", "torch-bad-2", "torch-bad-3"])
        XCTAssertTrue(c.output.contains("note: a run named torch-bad exists already: the imported one is torch-bad-2"), c.output)
        XCTAssertEqual(c.session.currentRun?.name, "torch-bad-3")
    }

    func testTrainingAnExternalRunIsRefusedWithOneLine() throws {
        let c = Captured()
        c.run("data synthetic 300; layers 784 16 10; train 1")
        c.run("import \(Records.torchBad)")
        let before = c.session.exportJSON(timings: false).serialized()
        for cmd in ["train 1", "overfit 8", "sweep init glorot depth 1 epochs 1"] {
            XCTAssertThrowsError(try c.session.execute(cmd), cmd) { e in
                let m = (e as! CommandError).message
                XCTAssertTrue(m.contains("external") && m.contains("torch-bad"), m)
                XCTAssertFalse(m.contains("\n"), "one line: \(m)")
            }
        }
        XCTAssertEqual(c.session.exportJSON(timings: false).serialized(), before, "nothing changed")
        // Selecting a Preflight run again trains it.
        c.run("use run1; train 1")
        XCTAssertEqual(c.session.run(named: "run1")!.epochs.count, 2)
    }

    func testRunsUseAndCompareShowTheRecord() {
        let c = Captured()
        c.run("data synthetic 300; layers 784 16 10; run mine; train 1")
        let config = c.session.config
        c.run("import \(Records.torchBad)")
        c.clear()
        c.run("runs")
        XCTAssertTrue(c.output.contains("torch-bad") && c.output.contains("784-128-128-10") && c.output.contains("87.4%"), c.output)
        XCTAssertTrue(c.output.contains("torch-bad: external: pytorch 2.13.0+cpu record from"), c.output)
        c.clear()
        c.run("use mine; use torch-bad")
        XCTAssertEqual(c.session.config, config, "an external run leaves the session's configuration alone")
        XCTAssertTrue(c.output.contains("it cannot be trained"), c.output)
        c.clear()
        c.run("compare mine torch-bad")
        for text in ["engine", "pytorch 2.13.0+cpu", "87.4%", "14.8700", "fail: saturation"] {
            XCTAssertTrue(c.output.contains(text), "\(text) in \(c.output)")
        }
        c.run("show")
    }

    func testPlotsAndReportDrawExternalRuns() throws {
        let c = Captured()
        c.run("import \(Records.torchBad); import \(Records.kerasRegression)")
        c.clear()
        c.run("plot saturation torch-bad keras-regressor")
        XCTAssertTrue(c.output.contains("1 torch-bad: 87.4%"), c.output)
        let dir = tempDir()
        for kind in ["loss", "accuracy", "hidden", "grads"] {
            let out = dir.appendingPathComponent("\(kind).svg").path
            c.run("plot \(kind) torch-bad keras-regressor --out \(out)")
            let svg = try String(contentsOfFile: out, encoding: .utf8)
            XCTAssertTrue(svg.contains("torch-bad"), kind)
            if kind == "hidden" { XCTAssertTrue(svg.contains("torch-bad/net.3"), "series named by module") }
            if kind == "grads" { XCTAssertTrue(svg.contains("keras-regressor/dense_1.kernel"), "series named by parameter") }
        }
        let report = dir.appendingPathComponent("r.html").path
        c.run("report \(report)")
        let html = try String(contentsOfFile: report, encoding: .utf8)
        for text in ["torch-bad", "keras-regressor", "pytorch 2.13.0+cpu", "keras 3.15.1 (jax)", "examples/pytorch/study.py",
                     "net.0.weight 41.2, net.2.weight 33.5"] {
            XCTAssertTrue(html.contains(text), text)
        }
        XCTAssertTrue(html.contains("<tr><th>accuracy</th><td class=\"num\">–</td></tr>"), "a regression record has no accuracy: –, not nan")
        XCTAssertTrue(html.contains("<td>net.3</td>"), "hidden layers named by module")
    }

    func testExportWritesVersion2AndKeepsAnImportedRecord() throws {
        let c = Captured()
        c.run("import \(Records.torchBad)")
        let out = tempDir().appendingPathComponent("e.json").path
        c.run("export \(out)")
        let j = try loadJSON(out)
        XCTAssertEqual(j["version"] as? Int, 2)
        let run = (j["runs"] as! [[String: Any]])[0]
        let original = (try loadJSON(Records.torchBad)["runs"] as! [[String: Any]])[0]
        for key in ["engine", "source", "classes", "layers", "config", "first_batch", "epochs"] {
            XCTAssertEqual(run[key] as? NSObject, original[key] as? NSObject, key)
        }
        let checks = run["checks"] as! [[String: Any]]
        XCTAssertEqual(checks.first { $0["rule"] as? String == "saturation" }?["verdict"] as? String, "fail")
        let csv = tempDir().appendingPathComponent("e.csv").path
        c.run("export \(csv)")
        let rows = try String(contentsOfFile: csv, encoding: .utf8)
        XCTAssertTrue(rows.contains("torch-bad,first_batch,0,,saturated_fraction,0.874\n"), rows)
        XCTAssertTrue(rows.contains("torch-bad,epoch,3,,train_loss,2.17\n"))
        XCTAssertTrue(rows.contains("torch-bad,epoch,1,,samples_per_second,\n"), "null stays empty")

        // Read back, it is the same run: exporting again gives the same bytes.
        let d = Captured()
        d.run("import \(out)")
        let again = tempDir().appendingPathComponent("e.json").path
        d.run("export \(again)")
        XCTAssertEqual(try String(contentsOfFile: again, encoding: .utf8), try String(contentsOfFile: out, encoding: .utf8))
    }

    func testAPreflightRunJudgedLiveOrImportedGetsTheSameVerdicts() throws {
        let c = Captured()
        c.run("seed 3; data synthetic 400; layers 784 32 32 10; init truncnormal 0.5; run bad; train 3")
        let out = tempDir().appendingPathComponent("bad.json").path
        c.run("export \(out) --no-timings")
        let j = try loadJSON(out)
        let run = (j["runs"] as! [[String: Any]])[0]
        XCTAssertEqual((run["engine"] as! [String: Any])["name"] as? String, "preflight")
        XCTAssertEqual(run["classes"] as? Int, 10)
        XCTAssertEqual((run["layers"] as! [[String: Any]]).map { $0["type"] as! String },
                       ["dense", "activation", "dense", "activation", "dense"])
        XCTAssertEqual((run["config"] as! [String: Any])["init"] as? String, "truncnormal", "every version 1 field is kept")

        let d = Captured()
        d.run("import \(out)")
        let live = c.session.findings(for: c.session.run(named: "bad")!)
        let imported = d.session.findings(for: d.session.run(named: "bad")!)
        // class-balance judges the loaded data's class counts, which a record does not carry: live it is judged,
        // imported it is `not run`. Every other rule must agree.
        let liveByRule = live.filter { $0.rule != "class-balance" }
        let importedByRule = imported.filter { $0.rule != "class-balance" }
        XCTAssertEqual(imported.first { $0.rule == "class-balance" }?.verdict, .notRun)
        XCTAssertEqual(importedByRule.map(\.rule), liveByRule.map(\.rule))
        for (a, b) in zip(liveByRule, importedByRule) {
            XCTAssertEqual(a.verdict, b.verdict, a.rule)
            XCTAssertEqual(a.value, b.value, a.rule)
            // The one difference: live, the input range is the whole training set's; the record holds the first batch's.
            if a.rule != "input-range" { XCTAssertEqual(a.measured, b.measured, a.rule) }
        }
        // And written back, the same run (the checks aside, which say where the input range came from).
        let again = tempDir().appendingPathComponent("bad.json").path
        d.run("export \(again) --no-timings")
        var x = (try loadJSON(again)["runs"] as! [[String: Any]])[0], y = run
        func verdicts(_ r: [String: Any]) -> [String: String] {
            var v: [String: String] = [:]
            for c in r["checks"] as! [[String: Any]] where c["rule"] as! String != "class-balance" { v[c["rule"] as! String] = c["verdict"] as? String }
            return v
        }
        XCTAssertEqual(verdicts(x), verdicts(y))
        x["checks"] = nil; y["checks"] = nil
        XCTAssertEqual(x as NSDictionary, y as NSDictionary)
    }

    /// PyTorch's default seed is any 64-bit number; `seed N` takes one too. Both survive export and import exactly
    /// (the export used to trap converting a seed above Int.max).
    func testA64BitSeedSurvivesExportAndImport() throws {
        let big = "18446744073709551615"
        let c = Captured()
        c.run("seed \(big); data synthetic 200; layers 784 8 10; train 1")
        let out = tempDir().appendingPathComponent("s.json").path
        c.run("export \(out)")
        XCTAssertTrue(try String(contentsOfFile: out, encoding: .utf8).contains("\"seed\": \(big),"))
        let torch = Records.text(Records.torchBad).replacingOccurrences(of: "\"seed\": 1,", with: "\"seed\": 13826327066396419843,")
        let d = Captured()
        d.run("import \(out); import \(write(torch))")
        XCTAssertEqual(d.session.run(named: "run1")?.record?.seed, UInt64(big))
        XCTAssertEqual(d.session.run(named: "torch-bad")?.record?.seed, 13826327066396419843)
        let again = tempDir().appendingPathComponent("s.json").path
        d.run("export \(again)")
        XCTAssertTrue(try String(contentsOfFile: again, encoding: .utf8).contains("\"seed\": 13826327066396419843,"))
    }

    /// `init … layer K` overrides travel in config.layer_init: an imported run is judged with them (symmetry).
    func testPerLayerInitialisersAreJudgedWhenImported() throws {
        let c = Captured()
        c.run("data synthetic 200; layers 784 8 8 10; init glorot; init zeros layer 2; run z; train 1")
        let live = finding(c, "symmetry")
        XCTAssertEqual(live.verdict, .fail, "relu units of a zero layer never move")
        let out = tempDir().appendingPathComponent("z.json").path
        c.run("export \(out)")
        let d = Captured()
        d.run("import \(out)")
        XCTAssertEqual(d.session.currentRun?.record?.knownInitializers, [.glorot, .zeros, .glorot])
        XCTAssertEqual(finding(d, "symmetry").verdict, live.verdict)
        XCTAssertEqual(finding(d, "symmetry").measured, live.measured)
    }

    func testSaveAndLoadKeepExternalRuns() throws {
        let c = Captured()
        c.run("data synthetic 300; layers 784 16 10; train 1")
        c.run("import \(Records.torchBad)")
        c.run("check")
        let path = tempDir().appendingPathComponent("s.npz").path
        c.clear()
        c.run("save \(path)")
        XCTAssertTrue(c.output.contains("run torch-bad is external: its record is saved, no weights"), c.output)
        let d = Captured()
        d.run("load \(path)")
        XCTAssertEqual(d.session.runs.map(\.name), ["run1", "torch-bad"])
        let r = d.session.run(named: "torch-bad")!
        XCTAssertTrue(r.isExternal)
        XCTAssertEqual(r.record?.file, Records.torchBad)
        XCTAssertEqual(r.firstBatch?.saturatedFraction, 0.874)
        XCTAssertEqual(r.epochs.map(\.trainLoss), [9.02, 3.61, 2.17])
        XCTAssertEqual(r.findings.map(\.verdict), c.session.run(named: "torch-bad")!.findings.map(\.verdict))
        XCTAssertEqual(d.session.currentRun?.name, "torch-bad")
        XCTAssertEqual(d.session.exportJSON(timings: false).serialized(), c.session.exportJSON(timings: false).serialized())
        d.run("use run1; train 1")
    }

    func testBadRecordsLeaveTheSessionUnchanged() throws {
        let c = Captured()
        c.run("data synthetic 300; layers 784 16 10; train 1")
        let before = c.session.exportJSON(timings: false).serialized()
        let good = Records.text(Records.torchBad)
        let bad: [(String, String, String)] = [
            ("truncated", String(good.prefix(900)), "truncated"),
            ("version", good.replacingOccurrences(of: "\"version\": 2", with: "\"version\": 7"), "version"),
            ("type", good.replacingOccurrences(of: "\"batch_size\": 100", with: "\"batch_size\": \"100\""), "runs[0].first_batch.batch_size"),
            ("missing", good.replacingOccurrences(of: "\"loss\": 14.87, ", with: ""), "runs[0].first_batch.loss"),
            ("nan", good.replacingOccurrences(of: "\"loss\": 14.87", with: "\"loss\": \"NaN\""), "runs[0].first_batch.loss"),
            ("absurd", good.replacingOccurrences(of: "\"epoch\": 2,", with: "\"epoch\": 99999999999999,"), "runs[0].epochs[1].epoch"),
        ]
        for (kind, text, field) in bad {
            let p = write(text, name: "\(kind).json")
            XCTAssertThrowsError(try c.session.execute("import \(Records.torchBad) \(p)"), kind) { e in
                let m = (e as! CommandError).message
                XCTAssertTrue(m.hasPrefix("import: \(p): "), m)
                XCTAssertTrue(m.contains(field), "\(kind): \(m)")
            }
            XCTAssertEqual(c.session.runs.count, 1, "\(kind): the good file before it is not imported either")
            XCTAssertEqual(c.session.exportJSON(timings: false).serialized(), before, kind)
        }
        XCTAssertThrowsError(try c.session.execute("import")) { XCTAssertTrue("\($0)".contains("give a record file")) }
    }

    func testVersion1RecordsImport() {
        let c = Captured()
        c.run("import \(write(Records.v1))")
        XCTAssertEqual(finding(c, "symmetry").verdict, .ok, "version 1 names its initialiser")
        XCTAssertEqual(finding(c, "saturation").verdict, .ok)
        XCTAssertEqual(finding(c, "dead-units").verdict, .notRun)
        XCTAssertTrue(finding(c, "dead-units").reason.contains("dead_fraction"))
        XCTAssertEqual(finding(c, "input-range").verdict, .notRun, "no input range in DESIGN.md's example")
    }

    // MARK: preflight check FILE.json

    func checkRecords(_ files: [String], strict: Bool = false, json: Bool = false, settings: [String] = []) -> (Int32, String, String) {
        var out = "", err = ""
        let status = Program.checkRecords(files, strict: strict, json: json, settings: settings,
                                          console: Console(out: { out += $0 }, err: { err += $0 }))
        return (status, out, err)
    }

    func testCheckRecordsExitStatus() throws {
        var (status, out, err) = checkRecords([Records.torchBad])
        XCTAssertEqual(status, 0, "without --strict a failing check is reported, not an error")
        XCTAssertTrue(out.contains("checks for run torch-bad") && out.contains("3 fail"), out)
        (status, _, err) = checkRecords([Records.torchBad], strict: true)
        XCTAssertEqual(status, 2)
        XCTAssertTrue(err.contains("failing checks in torch-bad (--strict)"), err)
        (status, _, _) = checkRecords([Records.kerasRegression], strict: true)
        XCTAssertEqual(status, 0, "no check fails on the regression record")
        let bad = write("{\"version\": 2, \"runs\": [", name: "cut.json")
        (status, out, err) = checkRecords([Records.kerasRegression, bad], strict: true)
        XCTAssertEqual(status, 1, "an unreadable file")
        XCTAssertTrue(err.contains("\(bad): truncated"), err)
        XCTAssertTrue(out.contains("checks for run keras-regressor"), "the readable files are still judged")

        // Thresholds as `set` changes them: with the three failing rules off, the bad record passes the gate.
        let off = ["check.saturation=off", "check.hidden-scale=off", "check.init-loss=off"]
        (status, out, _) = checkRecords([Records.torchBad], strict: true, settings: off)
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("disabled by set check.saturation off"), out)
        (status, _, err) = checkRecords([Records.torchBad], settings: ["check.saturaton.fail=0.2"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.contains("--set check.saturaton.fail=0.2: unknown check rule"), err)
    }

    func testCheckRecordsAsJSON() throws {
        let (status, out, _) = checkRecords([Records.torchBad, Records.kerasRegression], json: true)
        XCTAssertEqual(status, 0)
        let j = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        let runs = j["runs"] as! [[String: Any]]
        XCTAssertEqual(runs.map { $0["name"] as! String }, ["torch-bad", "keras-regressor"])
        XCTAssertEqual(runs.map { $0["verdict"] as! String }, ["fail", "ok"])
        XCTAssertEqual(runs.map { ($0["engine"] as! [String: Any])["name"] as! String }, ["pytorch", "keras"])
        XCTAssertEqual((runs[1]["engine"] as! [String: Any])["backend"] as? String, "jax")
        let checks = runs[0]["checks"] as! [[String: Any]]
        XCTAssertEqual(checks.count, Rules.all.count)
        XCTAssertEqual(checks.first { $0["rule"] as? String == "saturation" }?["value"] as? Double, 0.874)
        XCTAssertEqual((j["summary"] as! [String: Any])["fail"] as? Int, 3)
    }

    /// The program's exit status (needs the release binary: skipped without it).
    func testPreflightCheckCommandLine() throws {
        var (status, out, err) = try runBinary(["check", Records.torchBad, "--strict"])
        XCTAssertEqual(status, 2, err)
        XCTAssertTrue(out.contains("saturation"), out)
        (status, _, _) = try runBinary(["check", Records.torchBad])
        XCTAssertEqual(status, 0)
        let bad = write(Records.text(Records.torchBad).replacingOccurrences(of: "\"loss\": 14.87", with: "\"loss\": \"NaN\""))
        (status, _, err) = try runBinary(["check", bad, "--json"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.contains("\(bad): runs[0].first_batch.loss:"), err)
        (status, out, _) = try runBinary(["check", "--json", Records.kerasRegression])
        XCTAssertEqual(status, 0)
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(out.utf8)))
        (status, out, _) = try runBinary(["check", "-", "--strict"], stdin: Records.text(Records.torchBad))
        XCTAssertEqual(status, 2, "a record on standard input")
        XCTAssertTrue(out.contains("<stdin>:") && out.contains("checks for run torch-bad"), out)
        (status, _, _) = try runBinary(["check"])
        XCTAssertNotEqual(status, 0, "no file given")
        // A script named like the subcommand still needs its .pf: `check` is only the subcommand.
        (status, out, _) = try runBinary(["-c", "import \(Records.torchBad); check"], env: ["PREFLIGHT_DATA": "/nonexistent"])
        XCTAssertEqual(status, 0)
        XCTAssertTrue(out.contains("checks for run torch-bad"), out)
        (status, _, _) = try runBinary(["--strict", "-c", "import \(Records.torchBad); check"])
        XCTAssertEqual(status, 2, "--strict in a script judges an imported run too")
    }
}
