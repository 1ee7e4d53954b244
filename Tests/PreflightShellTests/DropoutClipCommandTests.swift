import Foundation
import XCTest
import PreflightShell
import PreflightEngine

/// Issue 14: `dropout P` and `clip NORM|off` in the shell: commands, set keys, show, the run's trainer,
/// history, save/load, the export's config, and `fix`'s remedy table.
final class DropoutClipCommandTests: XCTestCase {
    func error(_ c: Captured, _ line: String, file: StaticString = #filePath, l: UInt = #line) -> String {
        do { try c.session.execute(line) } catch { return "\(error)" }
        XCTFail("`\(line)` should fail", file: file, line: l)
        return ""
    }

    func testCommandsSetShowAndErrors() {
        let c = Captured(dataDir: nil)
        c.run("dropout 0.3; clip 1")
        XCTAssertEqual(c.session.config.dropout, 0.3)
        XCTAssertEqual(c.session.config.clip, 1)
        c.clear(); c.run("show")
        XCTAssertTrue(c.output.contains("dropout") && c.output.contains("0.3"), c.output)
        XCTAssertTrue(c.output.contains("global gradient norm"), c.output)
        c.run("set dropout 0.5; set clip 2.5")
        XCTAssertEqual(c.session.config.dropout, 0.5)
        XCTAssertEqual(c.session.config.clip, 2.5)
        c.clear(); c.run("set")
        XCTAssertTrue(c.output.contains("dropout") && c.output.contains("clip"), c.output)
        c.run("dropout 0; clip off")
        XCTAssertNil(c.session.config.dropout, "dropout 0 is the configuration without dropout")
        XCTAssertNil(c.session.config.clip)
        c.run("set clip 1; set clip none")
        XCTAssertNil(c.session.config.clip)
        let cases: [(String, String)] = [
            ("dropout 1", "[0, 1)"), ("dropout -0.1", "[0, 1)"), ("dropout x", "[0, 1)"), ("dropout nan", "[0, 1)"),
            ("dropout", "one rate"), ("set dropout 1.5", "[0, 1)"),
            ("clip 0", "> 0"), ("clip -1", "> 0"), ("clip x", "> 0"), ("clip inf", "> 0"), ("clip", "one norm"),
            ("set clip -2", "> 0"),
        ]
        for (line, text) in cases { let e = error(c, line); XCTAssertTrue(e.contains(text), "`\(line)`: \(e)") }
        XCTAssertNil(c.session.config.dropout, "refused settings change nothing")
        XCTAssertNil(c.session.config.clip)
    }

    /// A run's trainer gets them; dropout and clipping change training; `history save` replays the same numbers.
    func testTheRunTrainsWithThemAndHistoryReplaysIt() throws {
        let plain = Captured(dataDir: nil)
        plain.run("data synthetic 300; layers 784 16 10; train 1")
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300; layers 784 16 10; dropout 0.3; clip 0.5; train 1")
        let t = c.session.currentRun!.trainer!
        XCTAssertEqual(t.dropout, 0.3)
        XCTAssertEqual(t.clipNorm, 0.5)
        XCTAssertNotEqual(plain.session.currentRun!.network.parameterArray, c.session.currentRun!.network.parameterArray)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dropclip-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        c.run("history save \(dir.path)/h.pf --force")
        let script = try String(contentsOf: dir.appendingPathComponent("h.pf"), encoding: .utf8)
        XCTAssertTrue(script.contains("dropout 0.3") && script.contains("clip 0.5"), script)
        let r = Captured(dataDir: nil)
        r.run("source \(dir.path)/h.pf")
        XCTAssertEqual(r.session.currentRun!.network.parameterArray, c.session.currentRun!.network.parameterArray)
    }

    /// save/load keeps them (training on after a load gives the same numbers); the export's config names them.
    func testSaveLoadAndExport() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dropclipsave-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let a = Captured(dataDir: nil)
        a.run("data synthetic 300; layers 784 16 10; dropout 0.25; clip 0.5; train 1")
        a.run("save \(dir.path)/s.pfz --force; export \(dir.path)/s.json --force")
        let b = Captured(dataDir: nil)
        b.run("load \(dir.path)/s.pfz")
        XCTAssertEqual(b.session.currentRun?.config, a.session.currentRun?.config)
        XCTAssertEqual(b.session.currentRun?.trainer.dropout, 0.25)
        XCTAssertEqual(b.session.currentRun?.trainer.clipNorm, 0.5)
        a.run("train 1"); b.run("train 1")
        XCTAssertEqual(a.session.currentRun!.network.parameterArray, b.session.currentRun!.network.parameterArray)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("s.json"))) as! [String: Any]
        let config = ((json["runs"] as! [[String: Any]])[0])["config"] as! [String: Any]
        XCTAssertEqual(config["dropout"] as? Double, 0.25)
        XCTAssertEqual(config["clip_norm"] as? Double, 0.5)

        // A save file with an impossible dropout is refused whole.
        let good = [UInt8](try Data(contentsOf: dir.appendingPathComponent("s.pfz")))
        let bad = try patchedSessionJSON(good, from: "\"dropout\" : 0.25", to: "\"dropout\" : 1.50")
        try Data(bad).write(to: dir.appendingPathComponent("bad.pfz"))
        let c = Captured(dataDir: nil)
        let e = error(c, "load \(dir.path)/bad.pfz")
        XCTAssertTrue(e.contains("dropout"), e)
        XCTAssertTrue(c.session.runs.isEmpty, "the session is unchanged")
    }

    /// `diff` names them among the configuration differences.
    func testDiffNamesThem() {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 200; layers 784 16 10; run a; train 1; dropout 0.3; clip 1; run b; train 1")
        c.clear(); c.run("diff a b")
        XCTAssertTrue(c.output.contains("dropout") && c.output.contains("clip"), c.output)
    }
}
