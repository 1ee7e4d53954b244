import XCTest
@testable import PreflightShell
import PreflightChecks

/// A record's `config.scale` and `config.input_min` / `input_max` (what Preflight's export writes) reach
/// input-range, so `preflight check` on an exported record judges the inputs as the session did. Found by the
/// fault zoo: standardised tables were judged by the first batch against the [0,1] levels, and failed.
final class RecordInputRangeTests: XCTestCase {
    func record(scale: String, min: Double, max: Double) -> String {
        """
        { "version": 1, "runs": [ { "name": "t",
            "config": { "layers": [30, 16, 2], "activation": "relu", "init": "glorot", "optimizer": "adam", "learning_rate": 0.001,
                        "batch": 32, "seed": 1, "epsilon": 1e-7, "dataset": "t.csv",
                        "scale": "\(scale)", "input_min": \(min), "input_max": \(max) },
            "first_batch": { "loss": 0.7, "saturated_fraction": 0.0, "low_fraction": 0.0, "high_fraction": 0.0,
                             "batch_size": 32, "input_min": -2.6, "input_max": 6.9, "grad_norms": [0.9, 0.7],
                             "hidden": [ { "mean": 0.3, "std": 0.4, "max": 2.0, "zero_fraction": 0.5, "above_one_fraction": 0.1 } ] },
            "epochs": [] } ] }
        """
    }

    func inputRange(_ text: String) throws -> Finding {
        let run = try RecordReader.parse(Array(text.utf8), file: "t.json")[0]
        return Rules.evaluate(run.checkInput, thresholds: .defaults, only: ["input-range"])[0]
    }

    func testStandardisedInputsAreJudgedByTheStandardLevelsOverTheTrainingSet() throws {
        let f = try inputRange(record(scale: "standard", min: -3.07, max: 11.5))
        XCTAssertEqual(f.verdict, .ok, f.measured)
        XCTAssertEqual(f.value ?? 0, 11.5, accuracy: 1e-9)       // the training set's, not the first batch's 6.9
        XCTAssertTrue(f.measured.contains("standardised"), f.measured)
    }

    func testUnitScaledRecordsUseTheTrainingSetsRange() throws {
        let f = try inputRange(record(scale: "none", min: 0, max: 255))
        XCTAssertEqual(f.verdict, .fail, f.measured)
        XCTAssertEqual(f.value ?? 0, 255, accuracy: 1e-9)
    }
}
