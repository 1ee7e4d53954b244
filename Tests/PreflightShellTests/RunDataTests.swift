import Foundation
import XCTest
import PreflightShell
import PreflightEngine
import PreflightChecks

/// Issue 19, "wrong results" 1, 4, 5, 6 and the small things, through a real session (synthetic data: no MNIST needed).
final class RunDataTests: XCTestCase {
    private func verdict(_ c: Captured, _ rule: String, run name: String) -> Verdict? {
        guard let r = c.session.run(named: name) else { return nil }
        return c.session.findings(for: r, only: [rule]).first?.verdict
    }

    private func error(_ c: Captured, _ command: String) -> String {
        do { try c.session.execute(command); return "" } catch let e as CommandError { return e.message } catch { return "\(error)" }
    }

    /// input-range judges the data the run was trained on, whatever is loaded later, in `check`, after `use`,
    /// in the export and after save/load.
    func testInputRangeJudgesTheRunsOwnData() throws {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300 --scale none; layers 784 16 10; run raw; train 1")
        XCTAssertEqual(verdict(c, "input-range", run: "raw"), .fail)
        c.run("data synthetic 300")   // the same samples, scaled to [0,1]
        XCTAssertEqual(verdict(c, "input-range", run: "raw"), .fail, "the run was trained on raw pixels")
        c.clear()
        c.run("check input-range")
        XCTAssertTrue(c.output.contains("FAIL"), c.output)
        XCTAssertTrue(c.output.contains("--scale none"), "the detail names the run's data: \(c.output)")

        // The export: the verdict, beside the run's own scale and input range.
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        c.run("export \(dir.path)/ir.json")
        let runs = try XCTUnwrap(loadJSON("\(dir.path)/ir.json")["runs"] as? [[String: Any]])
        let raw = try XCTUnwrap(runs.first { $0["name"] as? String == "raw" })
        let config = try XCTUnwrap(raw["config"] as? [String: Any])
        XCTAssertEqual(config["scale"] as? String, "none")
        XCTAssertEqual(config["input_max"] as? Double, 255)
        let checks = try XCTUnwrap(raw["checks"] as? [[String: Any]])
        XCTAssertEqual(checks.first { $0["rule"] as? String == "input-range" }?["verdict"] as? String, "fail")

        // `use raw` with scaled data loaded: still the run's data; training on the loaded data starts a new run.
        c.run("use raw")
        XCTAssertEqual(verdict(c, "input-range", run: "raw"), .fail)
        c.clear()
        c.run("train 1")
        XCTAssertEqual(c.session.run(named: "raw")?.trainer.epochs.count, 1, "raw is not trained further on other data")
        XCTAssertEqual(c.session.currentRun?.name, "run1", c.output)
        XCTAssertEqual(c.session.currentRun?.config.data?.scaleUnit, true)
        XCTAssertEqual(verdict(c, "input-range", run: "run1"), .ok)

        // Save with the scaled data loaded; load into a fresh session: raw still fails.
        c.run("save \(dir.path)/s.npz")
        let d = Captured(dataDir: nil)
        d.run("load \(dir.path)/s.npz")
        XCTAssertEqual(verdict(d, "input-range", run: "raw"), .fail)
        XCTAssertEqual(verdict(d, "input-range", run: "run1"), .ok)
    }

    /// `--strict` (set strict on) counts a failing `overfit` like a failing check; a passing one does not.
    func testStrictCountsAFailingOverfit() {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300; layers 784 16 10; overfit 8")
        XCTAssertTrue(c.output.contains("overfit: ok"), c.output)
        c.run("set strict on; overfit 8")
        XCTAssertFalse(c.session.strictFailure)
        c.run("init zeros; overfit")
        XCTAssertTrue(c.output.contains("overfit: FAIL"), c.output)
        XCTAssertTrue(c.session.strictFailure)
    }

    func testStrictOverfitExitStatusOfTheProgram() throws {
        let (status, out, _) = try runBinary(["--strict", "-c", "data synthetic 300; layers 784 16 10; init zeros; overfit"])
        XCTAssertTrue(out.contains("FAIL"), out)
        XCTAssertEqual(status, 2)
    }

    /// `overfit` on a trained run starts from the run's initial weights (same result as before training) and
    /// leaves the run as it was.
    func testOverfitStartsFromFreshWeightsAndLeavesTheRun() throws {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300; layers 784 16 10; overfit")
        let before = try XCTUnwrap(c.output.split(separator: "\n").last { $0.hasPrefix("overfit:") })
        c.run("train 8")
        let r = try XCTUnwrap(c.session.currentRun)
        let weights = r.network.parameterArray, epochs = r.trainer.epochs.count, steps = r.trainer.optimizer.steps
        c.clear()
        c.run("overfit")
        let after = try XCTUnwrap(c.output.split(separator: "\n").last { $0.hasPrefix("overfit:") })
        XCTAssertEqual(after, before, "the same fresh draw of the run's initialiser and seed")
        XCTAssertTrue(c.session.currentRun === r)
        XCTAssertEqual(r.network.parameterArray, weights)
        XCTAssertEqual(r.trainer.epochs.count, epochs)
        XCTAssertEqual(r.trainer.optimizer.steps, steps)
        XCTAssertEqual(c.session.runs.count, 1)
    }

    /// Loss and accuracy charts with 5 or more runs: every run's train line solid, test line dashed, one colour per run.
    func testLossChartStylesFollowTheCaptionForEveryRun() throws {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 200; layers 784 8 10")
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        for n in names { c.run("run \(n); train 2") }
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        for kind in ["loss", "accuracy"] {
            c.run("plot \(kind) \(names.joined(separator: " ")) --out \(dir.path)/\(kind).svg")
            let svg = try String(contentsOfFile: "\(dir.path)/\(kind).svg", encoding: .utf8)
            var colours: [String: String] = [:]
            for n in names {
                let train = try XCTUnwrap(lineTag(svg, "\(n) train")), test = try XCTUnwrap(lineTag(svg, "\(n) test"))
                XCTAssertFalse(train.contains("stroke-dasharray"), "\(kind): \(n) train must be solid: \(train)")
                XCTAssertTrue(test.contains("stroke-dasharray"), "\(kind): \(n) test must be dashed: \(test)")
                XCTAssertEqual(attribute(train, "stroke"), attribute(test, "stroke"), "\(kind): run \(n)'s lines share a colour")
                colours[n] = attribute(train, "stroke")
            }
            XCTAssertEqual(Set(names.prefix(8).map { colours[$0]! }).count, 8, "the first 8 runs have 8 colours")
        }
    }

    private func lineTag(_ svg: String, _ name: String) -> String? {
        guard let r = svg.range(of: "<g class=\"line\" data-name=\"\(name)\"") else { return nil }
        return String(svg[r.lowerBound..<(svg[r.upperBound...].firstIndex(of: ">") ?? svg.endIndex)])
    }

    private func attribute(_ tag: String, _ name: String) -> String? {
        guard let r = tag.range(of: " \(name)=\"") else { return nil }
        return String(tag[r.upperBound...].prefix { $0 != "\"" })
    }

    // MARK: small things

    func testCountsAgreeWithTheirNouns() {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 200; layers 784 8 10; train 1; check; use run1; show; sweep init glorot depth 1 epochs 1")
        XCTAssertTrue(c.output.contains("after 1 epoch:"), c.output)
        XCTAssertTrue(c.output.contains("using run run1 (1 epoch)"), c.output)
        XCTAssertTrue(c.output.contains("run1: 1 epoch"), c.output)
        XCTAssertTrue(c.output.contains("= 1 run of 1 epoch;"), c.output)
        XCTAssertFalse(c.output.contains("1 epochs"), c.output)
        XCTAssertFalse(c.output.contains("1 steps"), c.output)
    }

    func testErrorsDoNotRepeatTheirPrefix() {
        let c = Captured(dataDir: nil)
        let eps = error(c, "epsilon x")
        XCTAssertTrue(eps.hasPrefix("epsilon: "), eps)
        XCTAssertFalse(eps.contains("epsilon: epsilon"), eps)
        XCTAssertFalse(error(c, "set threads x").contains("threads: threads"))
        let unknown = error(c, "set check.foo on")
        XCTAssertEqual(unknown.components(separatedBy: "foo").count - 1, 1, unknown)
        let level = error(c, "set check.saturation.warn x")
        XCTAssertEqual(level.components(separatedBy: "check.saturation.warn").count - 1, 1, level)
    }

    func testExplainEachRuleGiven() {
        let c = Captured(dataDir: nil)
        c.run("explain saturation hidden-scale")
        XCTAssertTrue(c.output.contains("saturation — "), c.output)
        XCTAssertTrue(c.output.contains("hidden-scale — "), c.output)
        c.clear()
        XCTAssertTrue(error(c, "explain saturation bogus").contains("bogus"))
        XCTAssertEqual(c.output, "", "nothing printed when one name is wrong")
    }

    /// Keras' initialiser names are aliases of ours, offered by completion and listed by help.
    func testKerasInitialiserNames() throws {
        let c = Captured(dataDir: nil)
        let expected: [(String, Initializer)] = [
            ("he_normal", .he), ("he_uniform", .heUniform), ("glorot_uniform", .glorot), ("glorot_normal", .glorotNormal),
            ("lecun_normal", .lecun), ("zeros", .zeros), ("truncated_normal", .truncnormal(0.05)),
            ("random_normal", .normal(0.05)), ("random_uniform", .uniform(0.05)), ("random_normal 0.2", .normal(0.2)),
            ("HE_NORMAL", .he),
        ]
        for (words, i) in expected {
            c.run("init \(words)")
            XCTAssertEqual(c.session.config.initializer, i, words)
        }
        c.run("init he_uniform layer 2")
        XCTAssertEqual(c.session.config.layerInits[2], .heUniform)
        XCTAssertTrue(error(c, "init he_normall").contains("did you mean `he_normal`"))
        let offered = completions(line: "init he_", cursor: 8, session: c.session).candidates
        XCTAssertEqual(Set(offered), ["he_normal", "he_uniform"])
        c.clear()
        c.run("help init")
        let keras = ["glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal",
                     "truncated_normal", "random_normal", "random_uniform", "zeros"]
        for n in keras { XCTAssertTrue(c.output.contains(n), "help init lists \(n)") }
        // The sweep takes them too.
        XCTAssertNotNil(Initializer.parse(["glorot_uniform"]))
    }
}
