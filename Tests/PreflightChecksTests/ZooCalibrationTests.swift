import XCTest
import PreflightEngine
@testable import PreflightChecks

/// The rule changes the fault zoo (faults/, scripts/faultbench) led to; each case below is a shape the zoo
/// measured, with its numbers rounded.
final class ZooCalibrationTests: XCTestCase {
    /// Weights far too large in every layer (relu, 6 × 256, normal std 0.2): every gradient norm is in the
    /// hundreds, first/last ≈ 0.6. The ratio alone called it ok.
    func testHugeGradientsInEveryLayerWarnWhateverTheRatio() {
        let fb = Fixture.firstBatch(loss: 13, saturated: 0.97, means: [0.7, 1.6], grads: [257, 290, 441])
        let f = check("grad-explode", Fixture.input(firstBatch: fb, epochs: []))
        XCTAssertEqual(f.verdict, .warn, f.measured)
        XCTAssertEqual(f.value ?? 0, 441, accuracy: 1e-9)
        XCTAssertEqual(f.threshold ?? 0, 50, accuracy: 1e-9)
        XCTAssertTrue(f.measured.contains("weight layer 3"), f.measured)
    }

    func testHealthyGradientNormsStayOkAndTheLevelCanBeTurnedOff() {
        XCTAssertEqual(check("grad-explode", Fixture.input()).verdict, .ok)
        var t = Thresholds.defaults
        try! t.set("check.grad-explode.norm-warn", "off")
        let fb = Fixture.firstBatch(grads: [257, 290, 441])
        XCTAssertEqual(check("grad-explode", Fixture.input(firstBatch: fb, epochs: []), t).verdict, .ok)
    }

    /// A network that never learns (init zeros, tanh) sits at ln 10 and moves by 0.001: worse than guessing by a
    /// hair is noise, not divergence. A rise above the floor still fails.
    func testALossAtChanceThatMovesByNoiseIsNotDivergence() {
        let flat = Fixture.input(firstBatch: Fixture.firstBatch(loss: 2.3026), epochs: Fixture.epochs([2.3030, 2.3028, 2.3031], acc: 0.1))
        XCTAssertEqual(check("divergence", flat).verdict, .ok, check("divergence", flat).measured)
        let worse = Fixture.input(firstBatch: Fixture.firstBatch(loss: 2.30), epochs: Fixture.epochs([2.30, 2.36], acc: 0.1))
        XCTAssertEqual(check("divergence", worse).verdict, .fail)
    }

    /// Over a short epoch (2000 samples) healthy relu networks showed 10–16% of a layer never active; 15% warns
    /// (before the allowance for the layer's width, which `allowance 0` turns off).
    func testDeadUnitsWarnFromFifteenPercentOverAnEpoch() {
        var t = Thresholds.defaults
        try! t.set("check.dead-units.allowance", "0")
        func run(_ dead: Double) -> Verdict {
            check("dead-units", Fixture.input(epochs: [Fixture.epoch(1, loss: 0.3, dead: [0.0, dead])]), t).verdict
        }
        XCTAssertEqual(run(0.125), .ok)
        XCTAssertEqual(run(0.16), .warn)
    }

    // Second calibration round (faults/NOTES.md, "Second round"): each test fails on the rules before it.

    /// A share of few units is noisy: healthy controls had 4 of 16 units (25%) never active over an epoch, and 16%
    /// of a 256-unit layer; the level is raised by 2 standard errors of a share of n (33% for 16, 19% for 256).
    func testDeadUnitsAllowForTheLayersWidth() {
        func run(_ widths: [Int], _ dead: [Double], first: [Double]? = nil) -> Finding {
            let fb = first.map { Fixture.firstBatch(means: $0.map { _ in 0.2 }, dead: $0) }
            return check("dead-units", Fixture.input(layers: widths, firstBatch: fb,
                                                     epochs: [Fixture.epoch(2, loss: 0.3, means: dead.map { _ in 0.5 }, dead: dead)]))
        }
        let narrow = run([784, 16, 16, 10], [0.25, 0])
        XCTAssertEqual(narrow.verdict, .ok, narrow.measured)
        XCTAssertEqual(narrow.threshold ?? 0, 0.15 + 2 * (0.15 * 0.85 / 16).squareRoot(), accuracy: 1e-12)
        XCTAssertTrue(narrow.measured.contains("level 32.9% for a layer of 16 units (15% plus 2 standard errors)"), narrow.measured)
        // Half of a narrow layer dead (the zoo's Adam 0.005 on 6 × 16) still warns.
        XCTAssertEqual(run([784, 16, 16, 10], [0.1, 0.5]).verdict, .warn)
        XCTAssertEqual(run([784, 256, 256, 10], [0, 0.16]).verdict, .ok)
        XCTAssertEqual(run([784, 256, 256, 10], [0, 0.25]).verdict, .warn)
        // The first batch: 8 of 32 units quiet on a 100-sample batch of a 16-feature set is ok; 60% warns.
        XCTAssertEqual(run([16, 32, 3], [0.16], first: [0.25]).verdict, .ok)
        XCTAssertEqual(run([16, 32, 3], [0.16], first: [0.6]).verdict, .warn)
        // The layer that decides is the one furthest above its own level, not the largest share.
        let mixed = run([784, 512, 16, 10], [0.3, 0.31])
        XCTAssertEqual(mixed.verdict, .warn)
        XCTAssertTrue(mixed.measured.hasPrefix("30% of hidden layer 1"), mixed.measured)
    }

    /// Weights of std 0.01 in 6 layers: every gradient norm is ~3e-7 on the first batch, so first/last ≈ 1 and
    /// the ratio saw nothing. Every layer below 1e-4 warns; a network that has learned its task (loss near 0) does not.
    func testGradientsTinyInEveryLayerWarnWhateverTheRatio() {
        let fb = Fixture.firstBatch(loss: 2.3026, grads: [3.6e-7, 2.9e-7, 2.4e-7])
        let f = check("grad-vanish", Fixture.input(firstBatch: fb, epochs: []))
        XCTAssertEqual(f.verdict, .warn, f.measured)
        XCTAssertEqual(f.value ?? 0, 3.6e-7, accuracy: 1e-15)
        XCTAssertEqual(f.threshold ?? 0, 1e-4, accuracy: 1e-15)
        XCTAssertTrue(f.measured.contains("every layer"), f.measured)
        let learned = Fixture.epoch(9, loss: 1e-4, grads: [2e-5, 3e-5, 1e-5])
        XCTAssertEqual(check("grad-vanish", Fixture.input(firstBatch: nil, epochs: [learned])).verdict, .ok)
        var t = Thresholds.defaults
        try! t.set("check.grad-vanish.all-warn", "off")
        XCTAssertEqual(check("grad-vanish", Fixture.input(firstBatch: fb, epochs: []), t).verdict, .ok)
        // Healthy norms stay ok.
        XCTAssertEqual(check("grad-vanish", Fixture.input()).verdict, .ok)
    }

    /// init-loss measures nats above ln C: a healthy 2-class network (He, elu) started at 1.41 vs ln 2 = 0.69,
    /// 103% of ln 2, and failed; 0.71 nats is ok. Raw 30-feature inputs (4.8) still fail; 10 classes judge as before.
    func testInitLossInNatsForFewClasses() {
        func run(_ loss: Double, classes: Int) -> Finding {
            check("init-loss", Fixture.input(layers: [30, 128, 128, classes], classes: classes,
                                             firstBatch: Fixture.firstBatch(loss: loss), epochs: []))
        }
        let healthy = run(1.407, classes: 2)
        XCTAssertEqual(healthy.verdict, .ok, healthy.measured)
        XCTAssertEqual(healthy.value ?? 0, 1.407 - log(2), accuracy: 1e-12)
        XCTAssertEqual(run(4.835, classes: 2).verdict, .fail)
        XCTAssertEqual(run(2.0, classes: 2).verdict, .warn)
        // Below chance the level is half of ln C: 0.3 vs ln 2 warns, as a share of ln 2 did.
        let low = run(0.3, classes: 2)
        XCTAssertEqual(low.verdict, .warn, low.measured)
        XCTAssertEqual(low.threshold ?? 0, log(2) / 2, accuracy: 1e-12)
        // Ten classes: the levels are half and all of ln 10, as before.
        XCTAssertEqual(run(3.4, classes: 10).verdict, .ok)
        XCTAssertEqual(run(3.5, classes: 10).verdict, .warn)
        XCTAssertEqual(run(4.7, classes: 10).verdict, .fail)
    }

    /// A 2000-sample MNIST run (6 × 256) ended 4 epochs at train 96.1%, test 85.9%, with a flat test loss: a
    /// small training set's gap, not a fault. The 200-sample memorisers reached 20–28 points.
    func testOverfittingGapLevelIsFifteenPoints() {
        func run(train: Double, test: Double) -> Finding {
            let es = (0..<4).map { Fixture.epoch($0 + 1, loss: [1.45, 0.44, 0.24, 0.15][$0], acc: train,
                                                  testLoss: [0.87, 0.59, 0.46, 0.46][$0], testAcc: test) }
            return check("overfitting", Fixture.input(epochs: es))
        }
        let small = run(train: 0.961, test: 0.859)
        XCTAssertEqual(small.verdict, .ok, small.measured)
        XCTAssertEqual(small.threshold ?? 0, 0.15, accuracy: 1e-12)
        XCTAssertEqual(run(train: 0.99, test: 0.74).verdict, .warn)
    }

    /// A loss that falls 0.8% an epoch at 23% accuracy (SGD 5e-4) is slow; 7.6% an epoch is not.
    func testSlowWarnsBelowTwoPercentAnEpoch() {
        let slow = Fixture.input(epochs: Fixture.epochs([2.20, 2.182, 2.164], acc: 0.23))
        XCTAssertEqual(check("slow", slow).verdict, .warn)
        let fine = Fixture.input(epochs: Fixture.epochs([1.2, 1.11, 1.02], acc: 0.5))
        XCTAssertEqual(check("slow", fine).verdict, .ok)
    }
}
