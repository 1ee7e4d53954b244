import XCTest
@testable import PreflightChecks
import PreflightEngine

/// Inputs built from a record: anything may be unknown, and a rule that needs it says `not run` and names it.
final class MissingInputTests: XCTestCase {
    /// A record that holds only a first batch and epochs: no sizes, classes, activation, initialiser or optimiser.
    func bare(firstBatch: FirstBatchRecord? = Fixture.firstBatch(), epochs: [EpochRecord] = Fixture.healthyEpochs,
              missing: Set<CheckInput.Missing> = [], classes: Int? = nil, activationName: String? = nil) -> CheckInput {
        CheckInput(layers: nil, classes: classes, activation: nil, initializers: [], optimizer: nil, epsilon: 1e-7,
                   dataInputMin: .nan, dataInputMax: .nan, firstBatch: firstBatch, epochs: epochs,
                   activationName: activationName, missing: missing, source: "the record")
    }

    func testEveryRuleRunsOrSaysWhyOnABareRecord() {
        let found = Rules.evaluate(bare(), thresholds: .defaults)
        XCTAssertEqual(found.count, Rules.all.count)
        for f in found where f.verdict == .notRun { XCTAssertFalse(f.reason.isEmpty, f.rule) }
        func reason(_ r: String) -> String { found.first { $0.rule == r }!.reason }
        XCTAssertTrue(reason("saturation").contains("no number of classes"), reason("saturation"))
        XCTAssertTrue(reason("init-loss").contains("no number of classes"))
        XCTAssertTrue(reason("output-units").contains("no number of classes") || reason("output-units").contains("output width"),
                      reason("output-units"))
        XCTAssertTrue(reason("symmetry").contains("config.layers"))
        XCTAssertTrue(reason("dead-units").contains("config.activation"), reason("dead-units"))
        // What needs no configuration still runs: the hidden means, gradients, curves.
        for rule in ["hidden-scale", "grad-vanish", "grad-explode", "update-ratio", "nonfinite", "input-range", "loss-trend", "divergence"] {
            XCTAssertNotEqual(found.first { $0.rule == rule }!.verdict, .notRun, "\(rule): \(reason(rule))")
        }
    }

    func testARecordWithoutAFirstBatchSaysSo() {
        let f = check("saturation", bare(firstBatch: nil, classes: 10))
        XCTAssertEqual(f.reason, "the record has no first_batch")
    }

    func testAnUnknownActivationIsNamed() {
        XCTAssertEqual(check("act-saturation", bare(activationName: "gelu")).reason.hasPrefix("activation gelu is not one the rule knows"), true)
    }

    func testAMissingTrainLossIsNotANaN() {
        // The record's epochs lack a train loss (NaN stands in for it): the curve rules say so, nonfinite stays ok.
        let epochs = Fixture.healthyEpochs.map { e -> EpochRecord in var e = e; e.trainLoss = .nan; return e }
        let input = bare(epochs: epochs, missing: [.trainLoss], classes: 10)
        for rule in ["loss-trend", "divergence", "oscillation", "slow", "overfitting"] {
            let f = check(rule, input)
            XCTAssertEqual(f.verdict, .notRun, rule)
            XCTAssertTrue(f.reason.contains("train_loss") || f.reason.hasPrefix("needs"), "\(rule): \(f.reason)")
        }
        XCTAssertEqual(check("nonfinite", input).verdict, .ok)
        // Without the flag the same NaN is a NaN: the rule that looks for them finds it.
        XCTAssertEqual(check("nonfinite", bare(epochs: epochs, classes: 10)).verdict, .fail)
    }

    /// A probe given only test_loss (no test_accuracy): overfitting judges the test loss (it said `not run` before).
    func testOverfittingOnATestLossAlone() {
        let train = [0.25, 0.10, 0.07, 0.05, 0.04, 0.03]
        let test = [0.10, 0.08, 0.085, 0.09, 0.11, 0.13]
        let es = (0..<6).map { Fixture.epoch($0 + 1, loss: train[$0], acc: 0.99, testLoss: test[$0], testAcc: nil) }
        let f = check("overfitting", bare(epochs: es, classes: 10))
        XCTAssertEqual(f.verdict, .warn)
        XCTAssertEqual(f.value!, 0.13 / 0.08 - 1, accuracy: 1e-9)
        XCTAssertFalse(f.measured.contains("accuracy gap"), f.measured)
    }

    /// A probe that samples every N steps may record no layer statistics in a short epoch: the rules that read
    /// them judge the latest epoch that has them instead of saying `not run`.
    func testTheLatestEpochWithStatisticsIsJudged() {
        var es = Fixture.healthyEpochs
        es[4].layers = []; es[4].hidden = []
        let input = bare(epochs: es, classes: 10)
        let u = check("update-ratio", input)
        XCTAssertNotEqual(u.verdict, .notRun, u.reason)
        XCTAssertEqual(u.phase, "epoch 4")
        XCTAssertEqual(check("grad-vanish", input).phase, "epoch 4")
        XCTAssertTrue(check("hidden-scale", input).phase == "epoch 4" || check("hidden-scale", input).phase == "first-batch")
    }

    func testHintsWithoutAnOptimiserStayGeneric() {
        let rising = Fixture.epochs([0.5, 0.9, 2.0])
        let f = check("divergence", bare(epochs: rising, classes: 10))
        XCTAssertEqual(f.verdict, .fail)
        XCTAssertTrue(f.hint.contains("a learning rate 10× lower"), f.hint)
    }

    func testFirstBatchNonFiniteNamesTheModule() {
        var input = bare(classes: 10)
        input.firstBatchNonFinite = ("encoder.layers.0.fc1", "forward")
        let f = check("nonfinite", input)
        XCTAssertEqual(f.verdict, .fail)
        XCTAssertTrue(f.measured.contains("encoder.layers.0.fc1"), f.measured)
    }
}
