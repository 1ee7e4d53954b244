import Foundation
import XCTest
import PreflightShell

/// End to end through the real binary: scripts, -c, stdin, errors, exit status, the export.
final class ScriptTests: XCTestCase {
    func testFoundationDoneWhenOnMNIST() throws {
        let data = try skipWithoutMNIST()
        let dir = tempDir()
        let (status, out, err) = try runBinary(["--data-dir", data, "-c",
            "data mnist; seed 1; layers 784 128 128 10; init glorot; train 5; export \(dir.path)/m.json"])
        XCTAssertEqual(status, 0, err)
        XCTAssertEqual(out.components(separatedBy: "\n").filter { $0.hasPrefix("epoch") }.count, 5, out)
        let j = try loadJSON(dir.path + "/m.json")
        XCTAssertEqual(j["version"] as? Int, 1)
        let run = (j["runs"] as! [[String: Any]])[0]
        XCTAssertEqual(run["name"] as? String, "run1")
        let config = run["config"] as! [String: Any]
        for k in ["layers", "activation", "init", "optimizer", "learning_rate", "batch", "seed", "epsilon", "dataset", "scale"] {
            XCTAssertNotNil(config[k], "config.\(k)")
        }
        XCTAssertEqual(config["layers"] as? [Int], [784, 128, 128, 10])
        XCTAssertEqual(config["seed"] as? Int, 1)
        let fb = run["first_batch"] as! [String: Any]
        for k in ["loss", "saturated_fraction", "low_fraction", "high_fraction", "hidden"] { XCTAssertNotNil(fb[k], "first_batch.\(k)") }
        XCTAssertEqual(fb["saturated_fraction"] as? Double, 0)
        let fbh = fb["hidden"] as! [[String: Any]]
        XCTAssertEqual(fbh.count, 2)
        let epochs = run["epochs"] as! [[String: Any]]
        XCTAssertEqual(epochs.count, 5)
        for e in epochs {
            for k in ["epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds", "samples_per_second", "hidden", "layers"] {
                XCTAssertNotNil(e[k], "epochs[].\(k)")
            }
            let h = e["hidden"] as! [[String: Any]]
            XCTAssertEqual(h.count, 2)
            for k in ["mean", "std", "max", "zero_fraction", "above_one_fraction"] { XCTAssertNotNil(h[0][k], "hidden.\(k)") }
            let l = e["layers"] as! [[String: Any]]
            XCTAssertEqual(l.count, 3)
            XCTAssertNotNil(l[0]["grad_norm"]); XCTAssertNotNil(l[0]["update_ratio"])
        }
        let acc = epochs.last!["test_accuracy"] as! Double
        XCTAssertGreaterThanOrEqual(acc, 0.975, "test accuracy after 5 epochs")
        let losses = epochs.map { $0["train_loss"] as! Double }
        XCTAssertLessThan(losses.last!, losses.first!)
        XCTAssertNotNil(run["checks"] as? [[String: Any]])
    }

    func testTruncatedNormalSaturatesTheFirstBatchAndGlorotDoesNot() throws {
        let (name, data) = try realImageData()
        let dir = tempDir()
        let (status, _, err) = try runBinary((data.map { ["--data-dir", $0] } ?? []) + ["--quiet", "-c", """
            data \(name) --limit 2000; seed 1; layers 784 128 128 10
            run good; train 1
            init truncnormal 0.5; run bad; train 1
            export \(dir.path)/s.json
            """])
        XCTAssertEqual(status, 0, err)
        let runs = try loadJSON(dir.path + "/s.json")["runs"] as! [[String: Any]]
        let sat = runs.map { ($0["first_batch"] as! [String: Any])["saturated_fraction"] as! Double }
        XCTAssertEqual(sat[0], 0)
        XCTAssertGreaterThanOrEqual(sat[1], 0.5)
    }

    func testSameSeedGivesByteIdenticalExportsTimingsAside() throws {
        let dir = tempDir()
        var files: [String] = []
        for i in 0..<2 {
            let f = dir.path + "/e\(i).json"
            let (status, _, err) = try runBinary(["--seed", "3", "-c",
                "data synthetic 1000; layers 784 32 16 10; init he; optimizer sgd 0.05 momentum 0.9; train 2; export \(f) --no-timings"])
            XCTAssertEqual(status, 0, err)
            files.append(f)
        }
        let a = try Data(contentsOf: URL(fileURLWithPath: files[0])), b = try Data(contentsOf: URL(fileURLWithPath: files[1]))
        XCTAssertFalse(a.isEmpty)
        XCTAssertEqual(a, b)
        // And a different seed differs.
        let f = dir.path + "/other.json"
        _ = try runBinary(["--seed", "4", "-c", "data synthetic 1000; layers 784 32 16 10; init he; optimizer sgd 0.05 momentum 0.9; train 2; export \(f) --no-timings"])
        XCTAssertNotEqual(a, try Data(contentsOf: URL(fileURLWithPath: f)))
    }

    func testScriptErrorNamesFileAndLineAndExitsOne() throws {
        let dir = tempDir()
        let script = dir.appendingPathComponent("bad.pf")
        try "# a comment\n\ndata synthetic 200\nlayers 784 10\ntrian 1\ntrain 1\n".write(to: script, atomically: true, encoding: .utf8)
        let (status, out, err) = try runBinary([script.path])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.contains("bad.pf:5: error: unknown command `trian`: did you mean `train`?"), err)
        XCTAssertFalse(out.contains("epoch"), "stops at the first error")
        let (status2, out2, err2) = try runBinary(["--keep-going", script.path])
        XCTAssertEqual(status2, 1)
        XCTAssertTrue(err2.contains("bad.pf:5:"))
        XCTAssertTrue(out2.contains("epoch   1"), "--keep-going runs the rest")
    }

    func testStdinIsAScriptAndCRLFIsAccepted() throws {
        let (status, out, err) = try runBinary([], stdin: "data synthetic 300\r\nlayers 784 16 10\r\ntrain 1\r\nruns\r\n")
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("epoch   1"))
        XCTAssertTrue(out.contains("run1"))
        XCTAssertFalse(out.contains("preflight>"), "no prompt when stdin is not a terminal")
        let (s2, _, e2) = try runBinary([], stdin: "data synthetic 300\nbogus\n")
        XCTAssertEqual(s2, 1)
        XCTAssertTrue(e2.contains("<stdin>:2: error: unknown command"), e2)
    }

    func testMissingScriptAndVersionAndHelp() throws {
        let (s, _, e) = try runBinary(["/nonexistent/x.pf"])
        XCTAssertEqual(s, 1); XCTAssertTrue(e.contains("/nonexistent/x.pf: no such file"), e)
        let (sv, ov, _) = try runBinary(["--version"])
        XCTAssertEqual(sv, 0); XCTAssertEqual(ov.trimmingCharacters(in: .whitespacesAndNewlines), Program.version)
        let (sh, oh, _) = try runBinary(["-c", "help"])
        XCTAssertEqual(sh, 0)
        for c in ["data", "layers", "init", "train", "check", "export"] { XCTAssertTrue(oh.contains(c), c) }
    }

    func testEchoPrintsCommands() throws {
        let (s, out, _) = try runBinary(["--echo", "-c", "seed 5; show"])
        XCTAssertEqual(s, 0)
        XCTAssertTrue(out.contains("preflight> seed 5"))
        XCTAssertTrue(out.contains("preflight> show"))
    }
}
