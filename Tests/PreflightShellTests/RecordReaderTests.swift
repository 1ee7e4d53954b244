import Foundation
import XCTest
@testable import PreflightShell
import PreflightChecks
import PreflightEngine

/// The hand-made records in Tests/Records (written as the probe writes them).
enum Records {
    static var folder: URL { packageRoot.appendingPathComponent("Tests/Records") }
    /// A PyTorch MLP 784-128-128-10 with a bad init (truncated normal, std 0.5): 87% of the softmax saturated.
    static var torchBad: String { folder.appendingPathComponent("pytorch-bad-init.json").path }
    /// A Keras CNN regressor: no classes, no config.layers, gelu activations, no train accuracy.
    static var kerasRegression: String { folder.appendingPathComponent("keras-regression.json").path }
    static func text(_ path: String) -> String { try! String(contentsOfFile: path, encoding: .utf8) }

    /// A version 1 record as Preflight's export wrote it before version 2 (the fields of DESIGN.md's example).
    static let v1 = """
    { "version": 1,
      "runs": [ {
        "name": "good",
        "config": { "layers": [784,128,128,10], "activation": "relu", "init": "glorot", "optimizer": "adam", "learning_rate": 0.001,
                    "batch": 100, "seed": 1, "epsilon": 1e-7, "dataset": "mnist", "scale": "unit" },
        "first_batch": { "loss": 2.31, "saturated_fraction": 0.0, "low_fraction": 0.0, "high_fraction": 0.0, "batch_size": 100,
                         "grad_norms": [0.9, 1.1, 0.7],
                         "hidden": [ { "mean": 0.17, "std": 0.2, "max": 1.3, "zero_fraction": 0.5, "above_one_fraction": 0.01 },
                                     { "mean": 0.21, "std": 0.3, "max": 1.9, "zero_fraction": 0.5, "above_one_fraction": 0.02 } ] },
        "epochs": [ { "epoch": 1, "train_loss": 0.25, "train_accuracy": 0.93, "test_loss": 0.12, "test_accuracy": 0.96,
                      "seconds": 0.4, "samples_per_second": 150000,
                      "hidden": [ { "mean": 0.5, "std": 0.7, "max": 6.0, "zero_fraction": 0.4, "above_one_fraction": 0.15 },
                                  { "mean": 0.6, "std": 0.8, "max": 7.0, "zero_fraction": 0.4, "above_one_fraction": 0.17 } ],
                      "layers": [ { "grad_norm": 0.1, "update_ratio": 0.001 }, { "grad_norm": 0.1, "update_ratio": 0.001 },
                                  { "grad_norm": 0.1, "update_ratio": 0.001 } ] } ],
        "checks": [ { "rule": "saturation", "phase": "first-batch", "value": 0.0, "threshold": 0.01, "verdict": "ok", "hint": "" } ]
      } ] }
    """
}

final class RecordReaderTests: XCTestCase {
    func parse(_ text: String, file: String = "t.json") throws -> [RecordedRun] {
        try RecordReader.parse(Array(text.utf8), file: file)
    }

    /// The error for `text`, which must be refused.
    func refusal(_ text: String, file: String = "bad.json", line: UInt = #line) -> RecordError? {
        do { _ = try parse(text, file: file); XCTFail("accepted a bad record", line: line); return nil } catch let e as RecordError {
            XCTAssertEqual(e.file, file, line: line)
            XCTAssertTrue(e.description.hasPrefix(file + ": "), e.description, line: line)
            return e
        } catch { XCTFail("not a RecordError: \(error)", line: line); return nil }
    }

    /// The torch fixture with one exact piece of text replaced (which must occur once).
    func torch(_ old: String, _ new: String, line: UInt = #line) -> String {
        let t = Records.text(Records.torchBad)
        XCTAssertEqual(t.components(separatedBy: old).count, 2, "`\(old)` must occur once", line: line)
        return t.replacingOccurrences(of: old, with: new)
    }

    func testTheProbeRecordIsReadWithItsNamesAndTypes() throws {
        let runs = try RecordReader.read(path: Records.torchBad)
        XCTAssertEqual(runs.count, 1)
        let r = runs[0]
        XCTAssertEqual(r.name, "torch-bad")
        XCTAssertEqual(r.version, 2)
        XCTAssertEqual(r.engineText, "pytorch 2.13.0+cpu")
        XCTAssertEqual(r.classes, 10)
        XCTAssertEqual(r.layers.map(\.type), ["dense", "activation", "dense", "activation", "dense"])
        XCTAssertEqual(r.layers[0].parameters, 100480)
        XCTAssertEqual(r.sizes, [784, 128, 128, 10])
        XCTAssertEqual(r.knownOptimizer, .adam(lr: 0.001))
        XCTAssertEqual(r.firstBatch?.saturatedFraction, 0.874)
        XCTAssertEqual(r.firstBatch?.hidden.map(\.mean), [1.58, 5.91])
        XCTAssertEqual(r.hiddenNames, ["net.1", "net.3"])
        XCTAssertEqual(r.gradNormNames, ["net.0.weight", "net.2.weight", "net.4.weight"])
        XCTAssertEqual(r.epochs.map(\.trainLoss), [9.02, 3.61, 2.17])
        XCTAssertTrue(r.epochs[0].samplesPerSecond.isNaN, "null samples_per_second is unknown")
        XCTAssertEqual(r.epochs[2].layers.map(\.updateRatio), [0.0017, 0.0039, 0.0098])
        XCTAssertTrue(r.missingEpochValues.isEmpty)
    }

    func testVersion1IsStillRead() throws {
        let r = try parse(Records.v1)[0]
        XCTAssertEqual(r.version, 1)
        XCTAssertEqual(r.engine, "preflight", "version 1 was only written by Preflight")
        XCTAssertEqual(r.classes, 10, "version 1 has no classes field: the output width")
        XCTAssertEqual(r.knownInitializers, [.glorot])
        XCTAssertTrue(r.lacksDeadFraction, "DESIGN.md's example has no dead_fraction")
        XCTAssertTrue(r.firstBatch!.inputMin.isNaN, "absent input range is unknown")
    }

    func testRegressionRecordWithoutClassesOrSizes() throws {
        let r = try RecordReader.read(path: Records.kerasRegression)[0]
        XCTAssertNil(r.classes)
        XCTAssertNil(r.sizes)
        XCTAssertEqual(r.activation, "gelu", "taken from the activation modules when config.activation is absent")
        XCTAssertNil(r.knownActivation)
        XCTAssertEqual(r.knownOptimizer, .adamw(lr: 0.001, weightDecay: 0.01), "adamw (issue 14), without weight_decay: torch's default")
        XCTAssertEqual(r.missingEpochValues, ["train_accuracy"])
        XCTAssertTrue(r.firstBatch!.saturatedFraction.isNaN)
    }

    // MARK: bad records: one error naming the file and the field

    func testTruncatedFile() {
        let t = Records.text(Records.torchBad)
        let e = refusal(String(t.prefix(t.count / 2)))
        XCTAssertTrue(e?.problem.hasPrefix("truncated") ?? false, e?.description ?? "")
        XCTAssertTrue(refusal("")?.problem.contains("empty") ?? false)
    }

    func testOtherVersions() {
        for v in ["3", "0", "\"2\"", "2.5"] {
            let e = refusal(torch("\"version\": 2,", "\"version\": \(v),"))
            XCTAssertEqual(e?.field, "version", v)
        }
        XCTAssertTrue(refusal(torch("\"version\": 2,", "\"version\": 3,"))?.problem.contains("reads versions 1 and 2") ?? false)
        XCTAssertEqual(refusal(torch("\"version\": 2,", ""))?.field, "version")
    }

    func testWrongTypes() {
        XCTAssertEqual(refusal(torch("\"batch_size\": 100", "\"batch_size\": \"100\""))?.field, "runs[0].first_batch.batch_size")
        XCTAssertEqual(refusal(torch("\"grad_norms\": [41.2, 33.5, 52.8]", "\"grad_norms\": {\"a\": 1}"))?.field, "runs[0].first_batch.grad_norms")
        XCTAssertEqual(refusal(torch("\"epoch\": 2,", "\"epoch\": [2],"))?.field, "runs[0].epochs[1].epoch")
        XCTAssertEqual(refusal(torch("\"classes\": 10,", "\"classes\": true,"))?.field, "runs[0].classes")
        XCTAssertEqual(refusal(torch("\"name\": \"torch-bad\"", "\"name\": 7"))?.field, "runs[0].name")
        XCTAssertEqual(refusal(torch("\"type\": \"dense\", \"inputs\": 784", "\"type\": \"lstm\", \"inputs\": 784"))?.field,
                       "runs[0].layers[0].type")
        XCTAssertEqual(refusal(torch("\"epoch\": 3,", "\"epoch\": 3.5,"))?.field, "runs[0].epochs[2].epoch")
        XCTAssertEqual(refusal("[1, 2]")?.field, "")
    }

    func testMissingFields() {
        XCTAssertEqual(refusal(torch("\"loss\": 14.87, ", ""))?.field, "runs[0].first_batch.loss")
        XCTAssertEqual(refusal(torch("\"engine\": {\"name\": \"pytorch\", \"version\": \"2.13.0+cpu\", \"backend\": null},", ""))?.field,
                       "runs[0].engine")
        XCTAssertEqual(refusal(torch("\"zero_fraction\": 0.62,", ""))?.field, "runs[0].epochs[2].hidden[1].zero_fraction")
        XCTAssertEqual(refusal(Records.v1.replacingOccurrences(of: "\"init\": \"glorot\", ", with: ""))?.field, "runs[0].config.init",
                       "Preflight's own records keep every configuration field")
        XCTAssertEqual(refusal(torch("\"runs\": [", "\"rums\": ["))?.field, "runs")
    }

    func testNaNAsText() {
        let e = refusal(torch("\"loss\": 14.87", "\"loss\": \"NaN\""))
        XCTAssertEqual(e?.field, "runs[0].first_batch.loss")
        XCTAssertTrue(e?.problem.contains("written as null") ?? false, e?.description ?? "")
        // Python's json.dump writes a bare NaN unless told not to: not JSON, and said so.
        let bare = refusal(torch("\"train_loss\": 3.61", "\"train_loss\": NaN"))
        XCTAssertTrue(bare?.problem.contains("NaN is not JSON") ?? false, bare?.description ?? "")
        XCTAssertTrue(bare?.problem.contains("line ") ?? false)
        XCTAssertEqual(refusal(torch("\"test_loss\": 3.22", "\"test_loss\": \"Infinity\""))?.field, "runs[0].epochs[2].test_loss")
    }

    func testAbsurdSizes() {
        XCTAssertEqual(refusal(torch("\"batch_size\": 100", "\"batch_size\": 1e300"))?.field, "runs[0].first_batch.batch_size")
        XCTAssertEqual(refusal(torch("\"layers\": [784, 128, 128, 10]", "\"layers\": [784, 99999999999999, 10]"))?.field, "runs[0].config.layers[1]")
        XCTAssertEqual(refusal(torch("\"classes\": 10,", "\"classes\": 0,"))?.field, "runs[0].classes")
        XCTAssertEqual(refusal(torch("\"saturated_fraction\": 0.874", "\"saturated_fraction\": 87.4"))?.field, "runs[0].first_batch.saturated_fraction")
        XCTAssertEqual(refusal(torch("\"grad_norms\": [41.2, 33.5, 52.8]", "\"grad_norms\": [41.2, -33.5, 52.8]"))?.field, "runs[0].first_batch.grad_norms[1]")
        let many = "[" + Array(repeating: "1", count: 1001).joined(separator: ",") + "]"
        XCTAssertEqual(refusal(torch("\"layers\": [784, 128, 128, 10]", "\"layers\": \(many)"))?.field, "runs[0].config.layers")
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        XCTAssertTrue(refusal(torch("\"checks\": []", "\"checks\": \(deep)"))?.problem.contains("nested") ?? false)
    }

    func testOtherStructuralProblems() {
        XCTAssertTrue(refusal(torch("\"classes\": 10,", "\"classes\": 10, \"classes\": 10,"))?.problem.contains("appears twice") ?? false)
        XCTAssertEqual(refusal(torch("\"epoch\": 2,", "\"epoch\": 1,"))?.field, "runs[0].epochs[1].epoch")
        XCTAssertEqual(refusal(torch("\"grad_norm_names\": [\"net.0.weight\", ", "\"grad_norm_names\": ["))?.field,
                       "runs[0].first_batch.grad_norm_names")
        XCTAssertEqual(refusal("{\"version\": 2, \"runs\": []}")?.field, "runs")
        var obj = try! JSONSerialization.jsonObject(with: Data(Records.v1.utf8)) as! [String: Any]
        obj["runs"] = (obj["runs"] as! [Any]) + (obj["runs"] as! [Any])
        let two = String(decoding: try! JSONSerialization.data(withJSONObject: obj), as: UTF8.self)
        XCTAssertEqual(refusal(two)?.field, "runs[1].name", "two runs of one name")
    }

    /// Every truncation of a good record, and many damaged copies, end in a RecordError (never a crash or a
    /// half-read run); a cut that leaves valid JSON (only trailing whitespace lost) still reads.
    func testEveryTruncationAndRandomDamageIsOneError() {
        let bytes = Array(Records.text(Records.torchBad).utf8)
        let body = bytes.count - (bytes.reversed().firstIndex { $0 != 0x0A && $0 != 0x20 } ?? 0)
        for n in 0..<bytes.count {
            do {
                _ = try RecordReader.parse(Array(bytes[0..<n]), file: "cut.json")
                XCTAssertGreaterThanOrEqual(n, body, "a cut at \(n) of \(bytes.count) bytes was accepted")
            } catch let e as RecordError {
                XCTAssertEqual(e.file, "cut.json")
            } catch { XCTFail("\(error)") }
        }
        var rng = Xoshiro(seed: 12)
        for _ in 0..<3000 {
            var b = bytes
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let at = Int(rng.next() % UInt64(b.count))
                switch rng.next() % 3 {
                case 0: b[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: b.remove(at: at)
                default: b.insert(b[Int(rng.next() % UInt64(b.count))], at: at)
                }
            }
            do { _ = try RecordReader.parse(b, file: "damaged.json") } catch is RecordError {} catch { XCTFail("\(error)") }
        }
    }

    func testFilesThatCannotBeRecords() throws {
        let dir = tempDir()
        XCTAssertThrowsError(try RecordReader.read(path: dir.path)) { XCTAssertTrue("\($0)".contains("is a directory"), "\($0)") }
        XCTAssertThrowsError(try RecordReader.read(path: dir.path + "/none.json")) { XCTAssertTrue("\($0)".contains("no such file")) }
        // A file far larger than any record is refused before it is read (a sparse file: no disk used).
        let huge = dir.appendingPathComponent("huge.json")
        XCTAssertTrue(FileManager.default.createFile(atPath: huge.path, contents: nil))
        let h = try FileHandle(forWritingTo: huge)
        try h.truncate(atOffset: UInt64(RecordReader.maxFileBytes + 1)); try h.close()
        XCTAssertThrowsError(try RecordReader.read(path: huge.path)) { XCTAssertTrue("\($0)".contains("far larger than any record"), "\($0)") }
        let binary = dir.appendingPathComponent("x.json")
        try Data([0x50, 0x4B, 0x03, 0x04, 0, 1, 2]).write(to: binary)
        XCTAssertThrowsError(try RecordReader.read(path: binary.path)) { XCTAssertTrue("\($0)".hasPrefix(binary.path + ": not valid JSON"), "\($0)") }
    }
}
