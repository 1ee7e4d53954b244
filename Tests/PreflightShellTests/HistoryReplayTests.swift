import Foundation
import XCTest
import PreflightShell

/// `history save` writes a script that replays to the same numbers.
final class HistoryReplayTests: XCTestCase {
    func testSavedHistoryReplaysToTheSameExportByteForByte() throws {
        let dir = tempDir()
        let c = Captured()
        c.run("seed 7; data synthetic 800; layers 784 32 16 10; init he; optimizer sgd 0.05 momentum 0.9; batch 50")
        c.run("run first; train 2; check; help; runs; show")
        c.run("set check.saturation.warn 0.02; init glorot; activation tanh; run second; train 1; compare first second")
        c.run("use first; train 1")
        c.run("history save \(dir.path)/session.pf")
        c.run("export \(dir.path)/a.json --no-timings")
        let script = try String(contentsOfFile: dir.path + "/session.pf", encoding: .utf8)
        XCTAssertFalse(script.contains("help"), "help is not replayed")
        XCTAssertFalse(script.contains("runs\n"), "runs is not replayed")
        XCTAssertTrue(script.contains("set check.saturation.warn 0.02"))
        let (status, _, err) = try runBinary([dir.path + "/session.pf", "-c", "export \(dir.path)/b.json --no-timings"])
        XCTAssertEqual(status, 0, err)
        let a = try Data(contentsOf: dir.appendingPathComponent("a.json"))
        let b = try Data(contentsOf: dir.appendingPathComponent("b.json"))
        XCTAssertGreaterThan(a.count, 2000)
        XCTAssertEqual(a, b, "the replayed session exports the same bytes")
    }

    func testInteractiveFlagReplaysThenReadsMore() throws {
        let dir = tempDir()
        try "data synthetic 300\nlayers 784 16 10\ntrain 1\n".write(toFile: dir.path + "/s.pf", atomically: true, encoding: .utf8)
        // With stdin not a terminal, -i replays the script and then reads the rest from stdin.
        let (status, out, err) = try runBinary(["-i", dir.path + "/s.pf"], stdin: "train 1\nruns\n")
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("epoch   2"), out)
        XCTAssertTrue(out.contains("run1"), out)
    }
}
