import Foundation
import XCTest
import PreflightShell
import PreflightChecks

/// Inputs found by the fuzz targets (Fuzz/, scripts/fuzz), replayed in the normal suite. Files in
/// Tests/FuzzReproducers/ are the fuzzer's inputs byte for byte; each test says what went wrong before the fix.
final class ShellFuzzRegressionTests: XCTestCase {
    static let reproducers = packageRoot.appendingPathComponent("Tests/FuzzReproducers")

    func reproducer(_ name: String) throws -> String {
        String(decoding: try Data(contentsOf: Self.reproducers.appendingPathComponent(name)), as: UTF8.self)
    }

    /// Runs every command of `text` as the command fuzz target does (line, `;`, words, execute), ignoring errors.
    func replay(_ text: String, in c: Captured) {
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            for command in Tokenizer.splitCommands(String(line)) { try? c.session.execute(command) }
        }
    }

    /// fuzz-command, trap (index out of range in Session.currentRun): `check` makes an untrained run; after a
    /// configuration change the next `check` (or `train`) replaced that run and then read `currentRun` through
    /// the removed run's index. With one run, the index was out of range and the process died.
    func testCheckAfterAConfigurationChangeReplacesTheUntrainedRun() throws {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 20")
        replay(try reproducer("command-check-after-config-change"), in: c)
        XCTAssertEqual(c.session.runs.map(\.name), ["run1"])
        XCTAssertEqual(c.session.currentRun?.trainer.epochs.count, 1)

        // The smallest form, and the same with an earlier trained run in front (the index then ran past the end).
        let d = Captured(dataDir: nil)
        d.run("data synthetic 20; layers 784 8 10; batch 10; check; batch 20; check")
        XCTAssertEqual(d.session.runs.map(\.name), ["run1"])
        XCTAssertEqual(d.session.currentRun?.config.batch, 20)
        d.run("train 1; run b; batch 10; check; layers 784 4 10; train 1")
        XCTAssertEqual(d.session.runs.map(\.name), ["run1", "b"])
        XCTAssertEqual(d.session.currentRun?.name, "b")
        XCTAssertEqual(d.session.currentRun?.config.layers, [784, 4, 10])
        XCTAssertEqual(d.session.runs[0].trainer.epochs.count, 1, "the trained run is kept")
    }

    /// fuzz-command, heap-buffer-overflow (Network.softmaxLoss via Trainer.probe): `check` before training with
    /// fewer output units than the data have classes (`layers 784 16 09` on 10 classes) probed the first batch,
    /// and a label of 9 indexed (read and wrote) one past its row of 9 outputs. `train` refused the
    /// configuration; `check` did not. Now no probe is made; the output-units rule fails with the fix instead.
    func testCheckWithFewerOutputsThanClassesReportsInsteadOfProbing() throws {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 20")
        replay(try reproducer("command-check-fewer-outputs-than-classes"), in: c)
        XCTAssertEqual(c.session.currentRun?.config.layers, [784, 16, 9])
        XCTAssertTrue(c.session.runs.allSatisfy { $0.trainer.epochs.isEmpty }, "train refuses 9 outputs for 10 classes")

        let d = Captured(dataDir: nil)
        d.run("data synthetic 20; layers 784 8 3; batch 20")
        d.clear()
        d.run("check")
        XCTAssertTrue(d.output.contains("3 output units for 10 classes"), d.output)
        let out = d.session.findings(for: d.session.currentRun!).first { $0.rule == "output-units" }
        XCTAssertEqual(out?.verdict, .fail)
        XCTAssertNil(d.session.currentRun?.trainer.firstBatch)
    }

    /// fuzz-command, out-of-memory after ~9500 inputs (no single input at fault): every session that trained
    /// with two threads left its TwoThreadStep and a parked worker thread behind, because the worker's loop holds
    /// the step strongly and nothing ended it. Trainer now stops the worker when it goes away (and when it
    /// replaces the step with a larger one), so the thread exits and the step's buffers are freed.
    func testTwoThreadTrainingLeavesNoWorkerThreadBehind() throws {
        func threads() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0 }
        guard threads() > 0 else { throw XCTSkip("needs /proc/self/task") }
        let before = threads()
        for i in 0..<8 {
            let c = Captured(dataDir: nil)
            // Two runs per session (the batch change starts run2), each with its own trainer and worker.
            c.run("set threads 2; seed \(i); data synthetic 20; layers 784 8 10; batch 5; train 1; batch 10; train 1")
            XCTAssertEqual(c.session.currentRun?.trainer.threads, 2)
        }
        var after = threads()
        let deadline = Date().addingTimeInterval(5)
        while after > before && Date() < deadline { usleep(20_000); after = threads() }
        XCTAssertLessThanOrEqual(after, before, "worker threads left running after 8 two-thread sessions")
    }
}

