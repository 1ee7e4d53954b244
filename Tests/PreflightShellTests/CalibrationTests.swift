import Foundation
import XCTest
import PreflightShell
import PreflightChecks

/// The check defaults, calibrated on real data: healthy networks pass every rule, the study's bad ones fail.
final class CalibrationTests: XCTestCase {
    func verdicts(_ c: Captured) -> [String: Verdict] {
        let r = try! c.session.runForTraining(announce: false)
        var d: [String: Verdict] = [:]
        for f in c.session.findings(for: r) { d[f.rule] = f.verdict }
        return d
    }

    func assertHealthy(_ v: [String: Verdict], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let bad = v.filter { $0.value == .fail || $0.value == .warn }
        XCTAssertTrue(bad.isEmpty, "\(label): \(bad)", file: file, line: line)
    }

    func healthyRuns(dataset: String) throws {
        for initName in ["glorot", "he"] {
            for depth in [2, 3, 4] {
                let c = Captured()
                let layers = "784 " + Array(repeating: "128", count: depth).joined(separator: " ") + " 10"
                c.run("data \(dataset); seed 1; layers \(layers); init \(initName); optimizer adam 0.001")
                c.run("check")
                assertHealthy(verdicts(c), "\(dataset) \(initName) \(depth) hidden, at init")
                c.run("train 5")
                assertHealthy(verdicts(c), "\(dataset) \(initName) \(depth) hidden, after 5 epochs")
            }
        }
    }

    func testHealthyMNISTNetworksPassEveryRule() throws {
        _ = try skipWithoutMNIST()
        try healthyRuns(dataset: "mnist")
    }

    func testHealthyFashionNetworksPassEveryRule() throws {
        guard FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") else {
            throw XCTSkip("Fashion-MNIST not installed (scripts/setup installs Debian's dataset-fashion-mnist)")
        }
        try healthyRuns(dataset: "fashion")
    }

    func testTheStudysBadNetworkFailsSaturationAndHiddenScale() throws {
        let (name, dir) = try realImageData()
        for depth in [2, 3, 4] {
            let c = Captured(dataDir: dir)
            let layers = "784 " + Array(repeating: "128", count: depth).joined(separator: " ") + " 10"
            c.run("data \(name) --limit 5000; seed 1; layers \(layers); init truncnormal 0.5")
            let v = verdicts(c)
            XCTAssertEqual(v["saturation"], .fail, "\(depth) hidden")
            XCTAssertEqual(v["hidden-scale"], .fail, "\(depth) hidden")
        }
    }

    func testMisconfigurationsAreFlagged() throws {
        let (name, dir) = try realImageData()
        // Unscaled pixels.
        var c = Captured(dataDir: dir)
        c.run("data \(name) --limit 2000 --scale none; layers 784 128 128 10")
        XCTAssertEqual(verdicts(c)["input-range"], .fail)
        // 9 output units for 10 classes (checked statically; training refuses).
        c = Captured(dataDir: dir)
        c.run("data \(name) --limit 2000; layers 784 128 9")
        XCTAssertEqual(verdicts(c)["output-units"], .fail)
        XCTAssertThrowsError(try c.session.execute("train 1"))
        // Learning rate 10.
        c = Captured(dataDir: dir)
        c.run("data \(name) --limit 10000; seed 1; layers 784 128 128 10; optimizer adam 10; train 3")
        let v = verdicts(c)
        XCTAssertTrue(v["divergence"] == .fail || v["nonfinite"] == .fail, "\(v)")
        // Sigmoid with normal(5).
        c = Captured(dataDir: dir)
        c.run("data \(name) --limit 2000; layers 784 128 128 10; activation sigmoid; init normal 5")
        XCTAssertEqual(verdicts(c)["act-saturation"], .fail)
        // All-zero weights.
        c = Captured(dataDir: dir)
        c.run("data \(name) --limit 2000; layers 784 128 128 10; init zeros")
        let z = verdicts(c)
        XCTAssertTrue(z.values.contains(.fail), "init zeros is flagged: \(z)")
        XCTAssertEqual(z["symmetry"], .fail)
    }

    func testStrictMakesAFailingCheckExitTwo() throws {
        let (s, out, _) = try runBinary(["--strict", "-c", "data synthetic 300; layers 784 32 10; init normal 10; check"])
        XCTAssertEqual(s, 2, out)
        let (s2, _, _) = try runBinary(["-c", "data synthetic 300; layers 784 32 10; init normal 10; check"])
        XCTAssertEqual(s2, 0)
        let (s3, _, _) = try runBinary(["-c", "set strict on; data synthetic 300; layers 784 32 10; init normal 10; check"])
        XCTAssertEqual(s3, 2)
        let (s4, _, e4) = try runBinary(["--strict", "-c", "data synthetic 300; layers 784 32 10; check"])
        XCTAssertEqual(s4, 0, e4)
    }

    func testThresholdSettingsChangeVerdictsAndReplay() throws {
        let c = Captured()
        c.run("data synthetic 300; layers 784 32 10; init normal 10")
        XCTAssertEqual(verdicts(c)["saturation"], .fail)
        c.run("set check.saturation off")
        XCTAssertEqual(verdicts(c)["saturation"], .notRun)
        c.run("set check.saturation on; set check.saturation.fail 1; set check.saturation.warn 1")
        XCTAssertEqual(verdicts(c)["saturation"], .ok)
        XCTAssertTrue(c.session.replayScript().contains("set check.saturation.fail 1"))
    }

    func testNonfiniteStopsTrainingAndKeepsEpochs() throws {
        let d = Captured()
        d.run("data synthetic 2000; seed 1; layers 784 64 64 10; optimizer sgd 100000; train 3")
        let r = d.session.currentRun!
        XCTAssertNotNil(r.trainer.nonFinite)
        XCTAssertTrue(d.errors.contains("NaN/Inf"), d.errors)
        XCTAssertEqual(verdicts(d)["nonfinite"], .fail)
        XCTAssertThrowsError(try d.session.execute("train 1"))
    }

    func testOverfitOneBatch() throws {
        let c = Captured()
        c.run("data synthetic 500; seed 1; layers 784 64 10; overfit 16")
        XCTAssertTrue(c.output.contains("overfit: ok"), c.output)
        XCTAssertTrue(c.session.runs.isEmpty, "the session's runs are untouched")
        let z = Captured()
        z.run("data synthetic 500; layers 784 64 10; init zeros; activation relu; optimizer sgd 0.0000001; overfit 16")
        XCTAssertTrue(z.output.contains("overfit: FAIL"), z.output)
    }
}
