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

    /// Over a short epoch (2000 samples) healthy relu networks showed 10–16% of a layer never active; 15% warns.
    func testDeadUnitsWarnFromFifteenPercentOverAnEpoch() {
        func run(_ dead: Double) -> Verdict {
            check("dead-units", Fixture.input(epochs: [Fixture.epoch(1, loss: 0.3, dead: [0.0, dead])])).verdict
        }
        XCTAssertEqual(run(0.125), .ok)
        XCTAssertEqual(run(0.16), .warn)
    }

    /// A loss that falls 0.8% an epoch at 23% accuracy (SGD 5e-4) is slow; 7.6% an epoch is not.
    func testSlowWarnsBelowTwoPercentAnEpoch() {
        let slow = Fixture.input(epochs: Fixture.epochs([2.20, 2.182, 2.164], acc: 0.23))
        XCTAssertEqual(check("slow", slow).verdict, .warn)
        let fine = Fixture.input(epochs: Fixture.epochs([1.2, 1.11, 1.02], acc: 0.5))
        XCTAssertEqual(check("slow", fine).verdict, .ok)
    }
}
