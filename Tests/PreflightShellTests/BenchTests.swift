import Foundation
import XCTest

/// scripts/bench's binary, run for real on MNIST (one short epoch): it prints every figure the speed issue
/// asks for, and refuses bad arguments with a reason. No speed is asserted here — timing targets live in
/// the benchmark itself, which judges them in its output.
final class BenchTests: XCTestCase {
    func bench(_ args: [String]) throws -> (Int32, String, String) {
        try runBinary(args, product: "preflight-bench")
    }

    func testPrintsEveryFigureForARow() throws {
        let data = try skipWithoutMNIST()
        let (status, out, err) = try bench(["--epochs", "1", "--depths", "2", "--data-dir", data, "--profile", "--ab", "1"])
        XCTAssertEqual(status, 0, err)
        // The placement, the ceiling's reference and the load time.
        XCTAssertNotNil(out.range(of: #"cache-line round trip between two threads \d+ ns \((near|far)"#, options: .regularExpression), out)
        XCTAssertNotNil(out.range(of: #"data mnist: loaded and verified in \d+ ms"#, options: .regularExpression), out)
        // The row: samples/s (median, range), s/epoch, GFLOP/s, ceiling, fraction, accuracy, placement.
        let row = try XCTUnwrap(out.split(separator: "\n").first { $0.hasPrefix("784-128-128-10 ") }, out)
        XCTAssertNotNil(row.range(of: #"^784-128-128-10 +\d+ \(\d+-\d+\) +\d+\.\d{3} +\d+\.\d +\d+\.\d +\d+% +\d+\.\d\d% +(near|far|changed) \(\d+/\d+ ns\)$"#,
                                  options: .regularExpression), String(row))
        let rate = Double(row.split(separator: " ")[1])!
        XCTAssertGreaterThan(rate, 0)
        // The target is judged, one way or the other, and the profile splits the epoch.
        XCTAssertNotNil(out.range(of: #"target for 784-128-128-10\b.*(met|not judged)"#, options: .regularExpression), out)
        XCTAssertTrue(out.contains("profile: one epoch of 784-128-128-10 on one thread, by phase"), out)
        XCTAssertTrue(out.contains("first-batch probe"), out)
        // Each data set's density and the path layer 0 takes; MNIST's is sparse (about 19% of its pixels are
        // not zero); layer 0 dense against the chosen path in the same run; profiles on both paths.
        XCTAssertNotNil(out.range(of: #"data mnist: 1\d\.\d% of the training inputs non-zero: layer 0 sparse \(sparse below \d+%\)"#,
                                  options: .regularExpression), out)
        XCTAssertNotNil(out.range(of: #"\nmnist +1\d\.\d% +dense \d+ \(\d+-\d+\) +sparse \d+ \(\d+-\d+\) +sparse/dense \d+\.\d\dx"#,
                                  options: .regularExpression), out)
        if out.contains("data fashion: ") && !out.contains("data fashion: not found") {
            XCTAssertNotNil(out.range(of: #"data fashion: \d+\.\d% of the training inputs non-zero: layer 0 dense"#, options: .regularExpression), out)
            XCTAssertNotNil(out.range(of: #"\nfashion +\d+\.\d% +dense \d+ \(\d+-\d+\) +dense \d+"#, options: .regularExpression), out)
        }
        XCTAssertTrue(out.contains("before: dense") && out.contains("chosen: sparse"), out)
        XCTAssertTrue(out.contains("peak memory of this process"), out)
        if out.contains("training threads 2") {
            XCTAssertTrue(out.contains("two-thread profile of one more epoch"), out)
            XCTAssertTrue(out.contains("inputLayerGradient"), out)
            XCTAssertTrue(out.contains("two-thread barrier waits"), out)
        }
    }

    func testRefusesBadArgumentsWithAReason() throws {
        for (args, reason) in [(["--epochs"], "--epochs needs a value"), (["--epochs", "x"], "not 'x'"),
                               (["--threads", "3"], "from 1 to 2"), (["--depths", "2,,3"], "not ''"),
                               (["--input", "fast"], "auto, dense or sparse, not 'fast'"), (["--ab", "x"], "not 'x'"),
                               (["--frobnicate"], "unknown argument '--frobnicate'")] {
            let (status, out, err) = try bench(args)
            XCTAssertEqual(status, 2, "\(args)")
            XCTAssertTrue(err.contains(reason), "\(args): \(err)")
            XCTAssertTrue(err.contains("usage: preflight-bench"), "\(args)")
            XCTAssertEqual(out, "", "\(args): nothing runs")
        }
        let (status, out, _) = try bench(["--help"])
        XCTAssertEqual(status, 0)
        XCTAssertTrue(out.contains("--compare"))
    }
}
