import Foundation
import XCTest
import PreflightShell

/// The recorded numbers held to an independent reference: scripts/oracle.py recomputes them with NumPy (in
/// float64) from the weights `save` writes, the first batch's sample indices and the data, and every one must
/// agree to 1e-5 relative. The cases cover saturated softmax outputs, dead relu units and saturated tanh units,
/// on one thread and on two.
final class OracleTests: XCTestCase {
    static let tolerance = 1e-5

    /// A training set of our own on disk (raw IDX files): 600 train and 100 test images of 28×28 whose pixels
    /// are random bytes, with random labels, from a fixed generator.
    func writeIDXFolder(_ dir: String) throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func byte() -> UInt8 { state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return UInt8(state >> 56) }
        func idx(_ dims: [Int], _ count: Int, _ value: () -> UInt8) -> Data {
            var d = Data([0, 0, 8, UInt8(dims.count)])
            for n in dims { d.append(contentsOf: [UInt8(n >> 24 & 255), UInt8(n >> 16 & 255), UInt8(n >> 8 & 255), UInt8(n & 255)]) }
            d.append(contentsOf: (0..<count).map { _ in value() })
            return d
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (split, n) in [("train", 600), ("t10k", 100)] {
            try idx([n, 28, 28], n * 784, byte).write(to: URL(fileURLWithPath: "\(dir)/\(split)-images-idx3-ubyte"))
            try idx([n], n, { byte() % 10 }).write(to: URL(fileURLWithPath: "\(dir)/\(split)-labels-idx1-ubyte"))
        }
    }

    static var oracle: String { packageRoot.appendingPathComponent("scripts/oracle.py").path }

    func runOracle(_ py: String, _ args: [String]) throws -> [String: Any] {
        let (status, out, err) = try runProcess(py, [Self.oracle] + args)
        XCTAssertEqual(status, 0, "oracle.py \(args): \(err)")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], out)
    }

    /// Every number of a JSON value by its path: "loss", "hidden[1].std", "grad_norms[0]".
    static func numbers(_ v: Any, _ path: String = "", into out: inout [String: Double]) {
        if let d = v as? [String: Any] {
            for (k, x) in d { numbers(x, path.isEmpty ? k : "\(path).\(k)", into: &out) }
        } else if let a = v as? [Any] {
            for (i, x) in a.enumerated() { numbers(x, "\(path)[\(i)]", into: &out) }
        } else if let n = v as? NSNumber {   // (no Bool in these records: NSNumber 0 and 1 pass for one)
            out[path] = n.doubleValue
        }
    }

    /// The keys of `reference` whose value `recorded` lacks or misses by more than the tolerance (relative).
    static func disagreements(_ recorded: [String: Double], _ reference: [String: Double]) -> [String] {
        reference.keys.sorted().filter { k in
            guard let r = recorded[k] else { return true }
            let o = reference[k]!
            return !(abs(r - o) <= tolerance * max(abs(r), abs(o)) || (r == 0 && o == 0))
        }
    }

    struct Case { var name: String; var model: String; var threads: Int }

    func testRecordsAgreeWithTheNumPyOracle() throws {
        let py = try requirePythonWithNumpy()
        let p = PicsSession()
        let data = p.path("idx")
        try writeIDXFolder(data)
        // batch 600 = the whole training set: one optimiser step per epoch, so epoch 1's gradient norms and
        // update ratios are those of the first step, between the two saves.
        let cases = [
            Case(name: "relu-glorot", model: "layers 784 32 16 10; optimizer adam 0.01", threads: 1),
            Case(name: "relu-glorot-2t", model: "layers 784 32 16 10; optimizer adam 0.01", threads: 2),
            Case(name: "saturating", model: "layers 784 32 32 10; init normal 1; optimizer sgd 0.01", threads: 2),
            Case(name: "tanh", model: "layers 784 24 24 10; activation tanh; init normal 0.3; optimizer sgd 0.1", threads: 1),
            // Batch normalisation: the first batch normalised by its own statistics, the backward pass through it.
            // (Not tanh: normalised, its hidden means sit at 0 ± 1e-3, where a relative tolerance means nothing.)
            Case(name: "relu-bn", model: "layers 784 32 16 10; activation relu; init truncnormal 0.5; batchnorm on; optimizer adam 0.01", threads: 2),
            Case(name: "sigmoid-bn", model: "layers 784 24 24 10; activation sigmoid; init normal 0.3; batchnorm on; optimizer sgd 0.1", threads: 1),
        ]
        var covered: [String: Double] = [:]
        for c in cases {
            let s0 = p.path("\(c.name)-0.npz"), s1 = p.path("\(c.name)-1.npz")
            let before = p.path("\(c.name)-checked.json"), after = p.path("\(c.name)-trained.json")
            p.run("data \(data); \(c.model); batch 600; set threads \(c.threads); run \(c.name)")
            p.run("check; export \(before); save \(s0); train 1; save \(s1); export \(after)")
            let oracle = try runOracle(py, ["first-batch", s0, c.name, data])
            var reference: [String: Double] = [:]
            Self.numbers(oracle, into: &reference)
            let runBefore = try XCTUnwrap((try loadJSON(before)["runs"] as? [[String: Any]])?.first { $0["name"] as? String == c.name })
            let runAfter = try XCTUnwrap((try loadJSON(after)["runs"] as? [[String: Any]])?.first { $0["name"] as? String == c.name })

            // The first batch as `check` probed it, and as training recorded it: both on the same samples.
            for (label, run) in [("probe", runBefore), ("training", runAfter)] {
                let fb = try XCTUnwrap(run["first_batch"] as? [String: Any], "\(c.name) \(label): no first_batch")
                var recorded: [String: Double] = [:]
                Self.numbers(fb, into: &recorded)
                XCTAssertEqual(fb["sample_indices"] as? [Int], oracle["sample_indices"] as? [Int], "\(c.name) \(label)")
                let off = Self.disagreements(recorded, reference)
                XCTAssertEqual(off, [], "\(c.name) \(label): " + off.map { "\($0) recorded \(recorded[$0].map { "\($0)" } ?? "-") oracle \(reference[$0]!)" }.joined(separator: "; "))
            }
            // Epoch 1 was that one step: its gradient norms, and the update ratios between the two saves.
            let layers = try XCTUnwrap((runAfter["epochs"] as? [[String: Any]])?.first?["layers"] as? [[String: Any]])
            let ratios = try XCTUnwrap(try runOracle(py, ["update-ratio", s0, s1, c.name])["update_ratio"] as? [Double])
            let grads = try XCTUnwrap(oracle["grad_norms"] as? [Double])
            var recorded: [String: Double] = [:], reference2: [String: Double] = [:]
            for (l, layer) in layers.enumerated() {
                recorded["grad_norm[\(l)]"] = layer["grad_norm"] as? Double
                recorded["update_ratio[\(l)]"] = layer["update_ratio"] as? Double
                reference2["grad_norm[\(l)]"] = grads[l]
                reference2["update_ratio[\(l)]"] = ratios[l]
            }
            XCTAssertEqual(layers.count, grads.count)
            XCTAssertEqual(Self.disagreements(recorded, reference2), [], "\(c.name) epoch 1: recorded \(recorded), oracle \(reference2)")

            // The comparison is not vacuous: a recorded number 1e-4 off (relative) is caught, whichever it is.
            let fb = runAfter["first_batch"] as! [String: Any]
            var exact: [String: Double] = [:]
            Self.numbers(fb, into: &exact)
            for k in reference.keys where k != "sample_indices" && !k.hasPrefix("sample_indices[") {
                var nudged = exact
                let v = nudged[k] ?? 0
                nudged[k] = v == 0 ? 1e-9 : v * (1 + 1e-4)
                XCTAssertEqual(Self.disagreements(nudged, reference), [k], "\(c.name): a change of \(k) must be caught")
            }
            for (k, v) in reference { covered[k] = max(covered[k] ?? 0, v) }
        }
        // What the cases exercise: saturated outputs (low and high), dead relu units, saturated tanh units.
        XCTAssertGreaterThan(covered["low_fraction"] ?? 0, 0.3)
        XCTAssertGreaterThan(covered["high_fraction"] ?? 0, 0.01)
        XCTAssertGreaterThan(covered["hidden[1].dead_fraction"] ?? 0, 0)
        XCTAssertGreaterThan(covered["hidden[0].saturated_fraction"] ?? 0, 0)
        XCTAssertGreaterThan(covered["hidden[0].above_one_fraction"] ?? 0, 0)
    }
}
