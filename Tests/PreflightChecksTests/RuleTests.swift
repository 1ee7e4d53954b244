import XCTest
import PreflightEngine
import PreflightChecks

final class RuleTests: XCTestCase {
    private func assertVerdict(_ f: Finding, _ v: Verdict, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(f.verdict, v, "\(f.rule) \(f.phase): \(f.measured) \(f.reason)", file: file, line: line)
        switch v {
        case .ok: XCTAssertEqual(f.hint, "", file: file, line: line); XCTAssertFalse(f.measured.isEmpty, file: file, line: line)
        case .warn, .fail: XCTAssertFalse(f.hint.isEmpty, "\(f.rule) needs a hint", file: file, line: line)
            XCTAssertFalse(f.measured.isEmpty, file: file, line: line)
        case .notRun: XCTAssertFalse(f.reason.isEmpty, file: file, line: line); XCTAssertNil(f.value, file: file, line: line)
        }
    }

    func testHealthyRunPassesEveryRule() {
        let fs = Rules.evaluate(Fixture.input(), thresholds: .defaults)
        XCTAssertEqual(fs.count, Rules.all.count)
        for f in fs {
            if f.rule == "act-saturation" { assertVerdict(f, .notRun); continue }
            assertVerdict(f, .ok)
        }
    }

    func testHealthyNetworksBeforeTraining() {
        let fs = Rules.evaluate(Fixture.input(epochs: []), thresholds: .defaults)
        let byRule = Dictionary(uniqueKeysWithValues: fs.map { ($0.rule, $0) })
        for r in ["update-ratio", "loss-trend", "divergence", "oscillation", "slow", "overfitting"] {
            assertVerdict(byRule[r]!, .notRun)
        }
        XCTAssertEqual(byRule["update-ratio"]!.reason, "needs 1 epoch, have 0")
        XCTAssertEqual(byRule["slow"]!.reason, "needs 3 epochs, have 0")
        for r in ["saturation", "hidden-scale", "init-loss", "dead-units", "symmetry", "grad-vanish", "grad-explode",
                  "nonfinite", "input-range", "output-units"] {
            assertVerdict(byRule[r]!, .ok)
        }
    }

    func testSaturation() {
        let bad = check("saturation", Fixture.input(firstBatch: Fixture.firstBatch(saturated: 0.941)))
        assertVerdict(bad, .fail)
        XCTAssertEqual(bad.value, 0.941)
        XCTAssertEqual(bad.threshold, 0.1)
        XCTAssertEqual(bad.phase, "first-batch")
        XCTAssertTrue(bad.measured.hasPrefix("94.1% of softmax outputs < 1e-07 or > 1-1e-07"), bad.measured)
        assertVerdict(check("saturation", Fixture.input(firstBatch: Fixture.firstBatch(saturated: 0.05))), .warn)
        let ok = check("saturation", Fixture.input())
        assertVerdict(ok, .ok)
        XCTAssertEqual(ok.threshold, 0.01)
        assertVerdict(check("saturation", Fixture.input(firstBatch: nil)), .notRun)
    }

    func testHiddenScale() {
        // Truncated normal 0.5: 1.7 → 6.0, running away.
        let bad = check("hidden-scale", Fixture.input(firstBatch: Fixture.firstBatch(means: [1.71, 5.98]), epochs: []))
        assertVerdict(bad, .fail)
        XCTAssertEqual(bad.phase, "first-batch")
        XCTAssertTrue(bad.measured.contains("running away"))
        // Running away with a moderate last layer still fails at init.
        assertVerdict(check("hidden-scale", Fixture.input(firstBatch: Fixture.firstBatch(means: [0.8, 1.4]), epochs: [])), .fail)
        // Above 1 but not growing: warn.
        assertVerdict(check("hidden-scale", Fixture.input(firstBatch: Fixture.firstBatch(means: [1.3, 0.9]), epochs: [])), .warn)
        // After training, means of 0.5–1.5 are healthy even though they grow.
        assertVerdict(check("hidden-scale", Fixture.input()), .ok)
        // After an epoch, means that run away past 3 fail.
        var es = Fixture.healthyEpochs
        es[4] = Fixture.epoch(5, loss: 0.04, means: [1.19, 3.34])
        let trained = check("hidden-scale", Fixture.input(epochs: es))
        assertVerdict(trained, .fail)
        XCTAssertEqual(trained.phase, "epoch 5")
        assertVerdict(check("hidden-scale", Fixture.input(layers: [784, 10], firstBatch: Fixture.firstBatch(means: []), epochs: [])), .notRun)
    }

    func testInitLoss() {
        let bad = check("init-loss", Fixture.input(firstBatch: Fixture.firstBatch(loss: 14.1)))
        assertVerdict(bad, .fail)
        XCTAssertEqual(bad.value!, 14.1 - log(10), accuracy: 1e-9)
        assertVerdict(check("init-loss", Fixture.input(firstBatch: Fixture.firstBatch(loss: 3.6))), .warn)
        assertVerdict(check("init-loss", Fixture.input(firstBatch: Fixture.firstBatch(loss: 2.5))), .ok)
        let low = check("init-loss", Fixture.input(firstBatch: Fixture.firstBatch(loss: 0.05)))
        assertVerdict(low, .warn)
        XCTAssertTrue(low.hint.contains("below chance"))
        assertVerdict(check("init-loss", Fixture.input(firstBatch: Fixture.firstBatch(loss: .nan))), .fail)
        assertVerdict(check("init-loss", Fixture.input(classes: 0)), .notRun)
    }

    func testDeadUnits() {
        let zeros = check("dead-units", Fixture.input(initializers: [.zeros], firstBatch: Fixture.firstBatch(dead: [1, 1]), epochs: []))
        assertVerdict(zeros, .fail)
        XCTAssertTrue(zeros.hint.contains("init"))
        assertVerdict(check("dead-units", Fixture.input(firstBatch: Fixture.firstBatch(dead: [0.35, 0]), epochs: [])), .warn)
        // Deep layers of healthy networks show up to ~15% on a small first batch: not a warning.
        assertVerdict(check("dead-units", Fixture.input(firstBatch: Fixture.firstBatch(dead: [0, 0.15]), epochs: [])), .ok)
        var es = Fixture.healthyEpochs
        es[4] = Fixture.epoch(5, loss: 0.04, dead: [0.6, 0.1])
        let died = check("dead-units", Fixture.input(epochs: es))
        assertVerdict(died, .fail)
        XCTAssertEqual(died.phase, "epoch 5")
        assertVerdict(check("dead-units", Fixture.input(firstBatch: Fixture.firstBatch(dead: [0, 0.03]))), .ok)
        let tanh = check("dead-units", Fixture.input(activation: .tanh))
        assertVerdict(tanh, .notRun)
        // A tiny first batch cannot tell dead units from quiet ones.
        assertVerdict(check("dead-units", Fixture.input(firstBatch: Fixture.firstBatch(dead: [0.5, 0.5], batch: 4), epochs: [])), .notRun)
    }

    func testSymmetry() {
        let f = check("symmetry", Fixture.input(initializers: [.zeros]))
        assertVerdict(f, .fail)
        XCTAssertEqual(f.phase, "init")
        assertVerdict(check("symmetry", Fixture.input(initializers: [.glorot, .zeros, .glorot])), .fail)
        assertVerdict(check("symmetry", Fixture.input(activation: .tanh, initializers: [.normal(0), .glorot, .glorot])), .warn)
        assertVerdict(check("symmetry", Fixture.input(initializers: [.glorot, .glorot, .zeros])), .ok)
        assertVerdict(check("symmetry", Fixture.input()), .ok)
        assertVerdict(check("symmetry", Fixture.input(initializers: [])), .notRun)
    }

    func testActSaturation() {
        let bad = check("act-saturation", Fixture.input(activation: .sigmoid, initializers: [.normal(5)],
                                                        firstBatch: Fixture.firstBatch(actSaturated: [0.91, 0.89])))
        assertVerdict(bad, .fail)
        XCTAssertTrue(bad.measured.contains("|pre-activation| > 5"))
        assertVerdict(check("act-saturation", Fixture.input(activation: .tanh, firstBatch: Fixture.firstBatch(actSaturated: [0.15, 0]))), .warn)
        assertVerdict(check("act-saturation", Fixture.input(activation: .tanh, firstBatch: Fixture.firstBatch(actSaturated: [0.001, 0]))), .ok)
        let relu = check("act-saturation", Fixture.input())
        assertVerdict(relu, .notRun)
        XCTAssertTrue(relu.reason.hasPrefix("activation relu does not saturate"))
    }

    func testGradVanish() {
        let bad = check("grad-vanish", Fixture.input(firstBatch: Fixture.firstBatch(grads: [1e-6, 1e-3, 1e-2]), epochs: []))
        assertVerdict(bad, .fail)
        XCTAssertEqual(bad.threshold, 1e-3)
        assertVerdict(check("grad-vanish", Fixture.input(firstBatch: Fixture.firstBatch(grads: [5e-4, 1e-2, 0.1]), epochs: [])), .warn)
        // A small ratio alone is not enough when the first layer's gradient is not tiny.
        assertVerdict(check("grad-vanish", Fixture.input(firstBatch: Fixture.firstBatch(grads: [0.01, 1, 20]), epochs: [])), .ok)
        assertVerdict(check("grad-vanish", Fixture.input(firstBatch: Fixture.firstBatch(grads: [0, 0, 0]), epochs: [])), .fail)
        assertVerdict(check("grad-vanish", Fixture.input()), .ok)
    }

    func testGradExplode() {
        assertVerdict(check("grad-explode", Fixture.input(firstBatch: Fixture.firstBatch(grads: [100, 3, 1]), epochs: [])), .fail)
        assertVerdict(check("grad-explode", Fixture.input(firstBatch: Fixture.firstBatch(grads: [30, 3, 1]), epochs: [])), .warn)
        let ok = check("grad-explode", Fixture.input())
        assertVerdict(ok, .ok)
        XCTAssertEqual(ok.threshold, 20)
    }

    func testUpdateRatio() {
        func with(_ r: [Double]) -> CheckInput {
            var es = Fixture.healthyEpochs
            es[4] = Fixture.epoch(5, loss: 0.04, ratios: r)
            return Fixture.input(epochs: es)
        }
        let ok = check("update-ratio", Fixture.input())
        assertVerdict(ok, .ok)
        XCTAssertEqual(ok.phase, "epoch 5")
        let high = check("update-ratio", with([2e-3, 0.3, 1e-3]))
        assertVerdict(high, .warn)
        XCTAssertEqual(high.value!, log10(0.3), accuracy: 1e-12)
        XCTAssertEqual(high.threshold, -1)
        XCTAssertTrue(high.hint.contains("optimizer adam 0.0001"), high.hint)
        assertVerdict(check("update-ratio", with([2e-3, 2, 1e-3])), .fail)
        let low = check("update-ratio", with([2e-3, 5e-5, 1e-3]))
        assertVerdict(low, .warn)
        XCTAssertTrue(low.hint.contains("raise"))
        assertVerdict(check("update-ratio", with([1e-6, 1e-3, 1e-3])), .fail)
        assertVerdict(check("update-ratio", Fixture.input(epochs: [])), .notRun)
    }

    func testNonfinite() {
        let ev = NonFiniteEvent(epoch: 2, batch: 17, stage: "update", layer: "weights of hidden layer 1")
        let f = check("nonfinite", Fixture.input(nonFinite: ev))
        assertVerdict(f, .fail)
        XCTAssertEqual(f.phase, "epoch 2")
        for part in ["weights of hidden layer 1", "update", "epoch 2", "batch 17"] {
            XCTAssertTrue(f.measured.contains(part), f.measured)
        }
        assertVerdict(check("nonfinite", Fixture.input(firstBatch: Fixture.firstBatch(loss: .infinity))), .fail)
        var es = Fixture.healthyEpochs
        es[2].trainLoss = .nan
        assertVerdict(check("nonfinite", Fixture.input(epochs: es)), .fail)
        assertVerdict(check("nonfinite", Fixture.input()), .ok)
        assertVerdict(check("nonfinite", Fixture.input(firstBatch: nil, epochs: [])), .notRun)
    }

    func testInputRangeUnderstandsStandardisedInputs() {
        // Standardised tables reach |z| of a few units to a dozen (the breast cancer set: 12): fine.
        let z = check("input-range", Fixture.input(inputMin: -2.7, inputMax: 12, scale: "standard"))
        assertVerdict(z, .ok)
        XCTAssertTrue(z.measured.contains("standardised inputs"), z.measured)
        XCTAssertEqual(z.threshold, 100)
        // The same numbers unstandardised fail, with a hint for tables when the data are not pictures.
        var table = Fixture.input(inputMin: -2.7, inputMax: 12, scale: "none")
        table.dataIsImage = false
        let raw = check("input-range", table)
        assertVerdict(raw, .fail)
        XCTAssertTrue(raw.hint.contains("--scale standard"), raw.hint)
        XCTAssertTrue(check("input-range", Fixture.input(inputMax: 255, scale: "none")).hint.contains("--scale unit"))
        // A lone sample hundreds of standard deviations out warns; its own levels can be set.
        assertVerdict(check("input-range", Fixture.input(inputMin: -1, inputMax: 150, scale: "standard")), .warn)
        var t = Thresholds.defaults
        XCTAssertNoThrow(try t.set("check.input-range.standard-fail", "120"))
        assertVerdict(check("input-range", Fixture.input(inputMin: -1, inputMax: 150, scale: "standard"), t), .fail)
    }

    func testClassBalance() {
        assertVerdict(check("class-balance", Fixture.input()), .ok)
        let ok = check("class-balance", Fixture.input())
        XCTAssertEqual(ok.value!, 6742.0 / 5421.0, accuracy: 1e-12)
        // More than 10 times: warn, naming the classes (by name when the labels were text).
        var skewed = Fixture.input(classes: 3, trainCounts: [500, 40, 120], testCounts: [100, 10, 30])
        skewed.classNames = ["benign", "rare", "other"]
        let w = check("class-balance", skewed)
        assertVerdict(w, .warn)
        XCTAssertEqual(w.value!, 12.5, accuracy: 1e-12)
        XCTAssertTrue(w.measured.contains("class 0 (benign) has 500 samples, class 1 (rare) 40"), w.measured)
        assertVerdict(check("class-balance", Fixture.input(classes: 3, trainCounts: [500, 50, 120], testCounts: [1, 1, 1])), .ok)
        // A class with no training samples: warn; one that the test split has but training never saw: fail.
        let empty = check("class-balance", Fixture.input(classes: 3, trainCounts: [50, 0, 40], testCounts: [5, 0, 4]))
        assertVerdict(empty, .warn)
        XCTAssertTrue(empty.measured.contains("class 1 has no training samples"), empty.measured)
        let unseen = check("class-balance", Fixture.input(classes: 3, trainCounts: [50, 0, 40], testCounts: [5, 3, 4]))
        assertVerdict(unseen, .fail)
        XCTAssertTrue(unseen.measured.contains("class 1 occurs in the test split (3 samples) but never in training"), unseen.measured)
        // No data of the run: not run.
        assertVerdict(check("class-balance", Fixture.input(trainCounts: nil, testCounts: nil)), .notRun)
        XCTAssertNotNil(Rules.explain("class-balance"))
    }

    func testInputRange() {
        let raw = check("input-range", Fixture.input(inputMax: 255))
        assertVerdict(raw, .fail)
        XCTAssertEqual(raw.value, 255)
        XCTAssertTrue(raw.hint.contains("--scale unit"))
        assertVerdict(check("input-range", Fixture.input(inputMax: 3)), .warn)
        assertVerdict(check("input-range", Fixture.input()), .ok)
        assertVerdict(check("input-range", Fixture.input(inputMin: -1, inputMax: 1)), .ok)
        // Unknown data range: falls back to the first batch's.
        assertVerdict(check("input-range", Fixture.input(inputMin: .nan, inputMax: .nan)), .ok)
        assertVerdict(check("input-range", Fixture.input(inputMin: .nan, inputMax: .nan, firstBatch: nil)), .notRun)
    }

    func testOutputUnits() {
        let few = check("output-units", Fixture.input(layers: [784, 128, 8]))
        assertVerdict(few, .fail)
        XCTAssertEqual(few.hint, "layers 784 128 10")
        assertVerdict(check("output-units", Fixture.input(layers: [784, 128, 12])), .warn)
        assertVerdict(check("output-units", Fixture.input()), .ok)
        assertVerdict(check("output-units", Fixture.input(classes: 0)), .notRun)
    }

    func testLossTrend() {
        let flat = check("loss-trend", Fixture.input(epochs: Fixture.epochs([2.30, 2.31], acc: 0.1)))
        assertVerdict(flat, .fail)
        XCTAssertEqual(flat.phase, "epochs 1-2")
        assertVerdict(check("loss-trend", Fixture.input(epochs: Fixture.epochs([2.30, 2.295], acc: 0.1))), .warn)
        assertVerdict(check("loss-trend", Fixture.input()), .ok)
        let one = check("loss-trend", Fixture.input(epochs: Fixture.epochs([0.3])))
        assertVerdict(one, .notRun)
        XCTAssertEqual(one.reason, "needs 2 epochs, have 1")
    }

    func testDivergence() {
        assertVerdict(check("divergence", Fixture.input(epochs: Fixture.epochs([0.3, 0.2, 0.5]))), .fail)
        assertVerdict(check("divergence", Fixture.input(epochs: Fixture.epochs([0.3, 0.2, 0.26]))), .warn)
        assertVerdict(check("divergence", Fixture.input(epochs: Fixture.epochs([0.3, .nan]))), .fail)
        // Adam with learning rate 10 (measured on MNIST): the loss rises above the start and stays worse than guessing.
        let lr10 = Fixture.input(optimizer: .adam(lr: 10), epochs: Fixture.epochs([3.72], acc: 0.1))
        let f = check("divergence", lr10)
        assertVerdict(f, .fail)
        XCTAssertTrue(f.hint.contains("optimizer adam 0.001"), f.hint)
        assertVerdict(check("divergence", Fixture.input(optimizer: .adam(lr: 10), epochs: Fixture.epochs([3.72, 2.75, 2.79, 2.78, 2.94], acc: 0.1))), .fail)
        // A bad start that trains down is not divergence.
        assertVerdict(check("divergence", Fixture.input(firstBatch: Fixture.firstBatch(loss: 14.6),
                                                        epochs: Fixture.epochs([11.9, 9.0, 7.2, 6.0, 5.2], acc: 0.4))), .ok)
        // Wiggles near zero do not count.
        assertVerdict(check("divergence", Fixture.input(epochs: Fixture.epochs([0.01, 0.004, 0.009]))), .ok)
        assertVerdict(check("divergence", Fixture.input()), .ok)
        assertVerdict(check("divergence", Fixture.input(epochs: [])), .notRun)
    }

    func testOscillation() {
        let f = check("oscillation", Fixture.input(epochs: Fixture.epochs([1.0, 0.5, 0.8, 0.4, 0.7], acc: 0.8)))
        assertVerdict(f, .warn)
        XCTAssertEqual(f.value, 1)
        // One late uptick is not oscillation.
        assertVerdict(check("oscillation", Fixture.input(epochs: Fixture.epochs([1.0, 0.5, 0.4, 0.3, 0.35], acc: 0.8))), .ok)
        assertVerdict(check("oscillation", Fixture.input()), .ok)
        assertVerdict(check("oscillation", Fixture.input(epochs: Fixture.epochs([1, 0.5, 0.8]))), .notRun)
    }

    func testSlow() {
        let f = check("slow", Fixture.input(epochs: Fixture.epochs([2.301, 2.300, 2.299, 2.298], acc: 0.11)))
        assertVerdict(f, .warn)
        XCTAssertEqual(f.phase, "epochs 2-4")
        assertVerdict(check("slow", Fixture.input(epochs: Fixture.epochs([0.0301, 0.0300, 0.0299], acc: 0.99))), .ok)
        assertVerdict(check("slow", Fixture.input()), .ok)
        let two = check("slow", Fixture.input(epochs: Fixture.epochs([1, 0.5])))
        assertVerdict(two, .notRun)
        XCTAssertEqual(two.reason, "needs 3 epochs, have 2")
    }

    func testOverfitting() {
        let train = [0.25, 0.10, 0.07, 0.05, 0.04, 0.03]
        let test = [0.10, 0.08, 0.085, 0.09, 0.11, 0.13]
        let es = (0..<6).map { Fixture.epoch($0 + 1, loss: train[$0], acc: 0.99, testLoss: test[$0], testAcc: 0.975) }
        let f = check("overfitting", Fixture.input(epochs: es))
        assertVerdict(f, .warn)
        XCTAssertEqual(f.value!, 0.13 / 0.08 - 1, accuracy: 1e-9)
        XCTAssertTrue(f.hint.contains("epoch 2"), f.hint)
        // The healthy reference's slight uptick at epoch 5 must not warn.
        assertVerdict(check("overfitting", Fixture.input()), .ok)
        // A test loss that jumped once and came back is noise.
        let noisy = [0.10, 0.09, 0.12, 0.085, 0.084]
        let noisyEpochs = (0..<5).map {
            Fixture.epoch($0 + 1, loss: train[$0], acc: 0.98, testLoss: noisy[$0], testAcc: 0.975)
        }
        assertVerdict(check("overfitting", Fixture.input(epochs: noisyEpochs)), .ok)
        // A large accuracy gap warns on its own.
        let gap = (0..<3).map { Fixture.epoch($0 + 1, loss: train[$0], acc: 0.99, testLoss: 0.3, testAcc: 0.80) }
        let g = check("overfitting", Fixture.input(epochs: gap))
        assertVerdict(g, .warn)
        XCTAssertEqual(g.threshold, 0.15)
        let noTest = check("overfitting", Fixture.input(epochs: Fixture.epochs([0.3, 0.2, 0.1])))
        assertVerdict(noTest, .notRun)
        XCTAssertTrue(noTest.reason.contains("test"), noTest.reason)
    }

    func testStudyTable() {
        // The original study's bad network (truncated normal 0.5) is flagged before training by three rules.
        let bad = Fixture.input(initializers: [.truncnormal(0.5)],
                                firstBatch: Fixture.firstBatch(loss: 14.1, saturated: 0.86, means: [1.71, 5.98],
                                                               grads: [31, 41, 54]), epochs: [])
        let fails = Set(Rules.evaluate(bad, thresholds: .defaults).filter { $0.verdict == .fail }.map(\.rule))
        XCTAssertEqual(fails, ["saturation", "hidden-scale", "init-loss"])
    }
}
