import Foundation
import XCTest
import PreflightShell
import PreflightEngine

/// Issue 14: `batchnorm on|off` in the shell: the command, its set key, show, the run line, the run's network,
/// history, save/load (and older files), the export, diff.
final class BatchNormCommandTests: XCTestCase {
    func error(_ c: Captured, _ line: String, file: StaticString = #filePath, l: UInt = #line) -> String {
        do { try c.session.execute(line) } catch { return "\(error)" }
        XCTFail("`\(line)` should fail", file: file, line: l)
        return ""
    }

    func tempDir(_ name: String) -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func testCommandSetShowAndErrors() {
        let c = Captured(dataDir: nil)
        XCTAssertFalse(c.session.config.batchNormValue, "off by default")
        c.clear(); c.run("show")
        XCTAssertTrue(c.output.contains("batchnorm") && c.output.contains("off"), c.output)
        c.run("batchnorm on")
        XCTAssertEqual(c.session.config.batchNorm, true)
        c.clear(); c.run("show")
        XCTAssertTrue(c.output.contains("running statistics at evaluation"), c.output)
        c.clear(); c.run("set")
        XCTAssertTrue(c.output.split(separator: "\n").contains { $0.hasPrefix("batchnorm") && $0.hasSuffix("on") }, c.output)
        c.run("set batchnorm off")
        XCTAssertNil(c.session.config.batchNorm, "off is the configuration without it")
        c.run("set batchnorm ON")
        XCTAssertEqual(c.session.config.batchNorm, true)
        for (line, text) in [("batchnorm maybe", "on or off, got `maybe`"), ("set batchnorm maybe", "on or off, got `maybe`"),
                             ("batchnorm", "on or off"), ("batchnorm on off", "on or off"), ("set batchnorm", "a key and a value")] {
            let e = error(c, line)
            XCTAssertTrue(e.contains(text), "`\(line)`: \(e)")
        }
        XCTAssertEqual(c.session.config.batchNorm, true, "refused input changes nothing")
        c.run("batchnorm off")
        _ = error(c, "batchnorm maybe")
        XCTAssertNil(c.session.config.batchNorm, "refused input changes nothing")
    }

    /// The run line says so, the run's network has it (γ, β, running statistics), the parameter count counts
    /// γ and β, and changing it after training starts a new run as any other setting does.
    func testTheRunHasItAndAChangeStartsANewRun() {
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300; layers 784 16 12 10; batchnorm on; run a")
        XCTAssertTrue(c.output.contains("run a: 784-16-12-10 relu, batchnorm, init glorot"), c.output)
        let net = c.session.currentRun!.network
        XCTAssertTrue(net.batchNorm)
        XCTAssertEqual(net.paramCount, 784 * 16 + 16 + 16 * 12 + 12 + 12 * 10 + 10 + 2 * (16 + 12))
        c.clear(); c.run("show")
        XCTAssertTrue(c.output.contains("(\(net.paramCount) parameters)"), c.output)
        c.run("train 1")
        XCTAssertNotEqual(net.runningStatistics, Network(sizes: [784, 16, 12, 10], activation: .relu, batchNorm: true).runningStatistics,
                          "training moved the running statistics")
        c.clear(); c.run("runs")
        XCTAssertTrue(c.output.contains("relu+bn"), c.output)
        c.clear(); c.run("batchnorm off; train 1")
        XCTAssertTrue(c.output.contains("configuration changed since run a: starting run run1"), c.output)
        XCTAssertFalse(c.session.currentRun!.network.batchNorm)
        XCTAssertEqual(c.session.runs.count, 2)
        XCTAssertTrue(c.session.run(named: "a")!.network.batchNorm, "the trained run keeps its network")
        c.clear(); c.run("diff a run1")
        XCTAssertTrue(c.output.contains("batchnorm") && c.output.contains("on") && c.output.contains("off"), c.output)
    }

    /// It changes training; `history save` replays the same numbers.
    func testHistoryReplaysIt() throws {
        let plain = Captured(dataDir: nil)
        plain.run("data synthetic 300; layers 784 16 10; train 1")
        let c = Captured(dataDir: nil)
        c.run("data synthetic 300; layers 784 16 10; batchnorm on; train 1")
        XCTAssertNotEqual(plain.session.currentRun!.network.parameterArray.count, c.session.currentRun!.network.parameterArray.count)
        XCTAssertNotEqual(plain.session.currentRun!.epochs[0].trainLoss, c.session.currentRun!.epochs[0].trainLoss)
        let dir = tempDir("bnhist")
        c.run("history save \(dir.path)/h.pf --force")
        let script = try String(contentsOf: dir.appendingPathComponent("h.pf"), encoding: .utf8)
        XCTAssertTrue(script.contains("batchnorm on"), script)
        let r = Captured(dataDir: nil)
        r.run("source \(dir.path)/h.pf")
        XCTAssertEqual(r.session.currentRun!.network.parameterArray, c.session.currentRun!.network.parameterArray)
        XCTAssertEqual(r.session.currentRun!.network.runningStatistics, c.session.currentRun!.network.runningStatistics)
    }

    /// save/load keeps γ, β, their optimiser state and the running statistics: training on after a load gives the
    /// same numbers. The export's config and layers name it.
    func testSaveLoadAndExport() throws {
        let dir = tempDir("bnsave")
        let a = Captured(dataDir: nil)
        a.run("data synthetic 300; layers 784 16 12 10; batchnorm on; train 1")
        a.run("save \(dir.path)/s.pfz --force; export \(dir.path)/s.json --force")
        let b = Captured(dataDir: nil)
        b.run("load \(dir.path)/s.pfz")
        let ra = a.session.currentRun!, rb = b.session.currentRun!
        XCTAssertEqual(rb.config, ra.config)
        XCTAssertTrue(rb.network.batchNorm)
        XCTAssertEqual(rb.network.parameterArray, ra.network.parameterArray)
        XCTAssertEqual(rb.network.runningStatistics, ra.network.runningStatistics)
        XCTAssertEqual(rb.trainer.optimizer.mArray, ra.trainer.optimizer.mArray)
        XCTAssertEqual(rb.trainer.optimizer.vArray, ra.trainer.optimizer.vArray)
        a.run("train 1"); b.run("train 1")
        XCTAssertEqual(ra.network.parameterArray, rb.network.parameterArray)
        XCTAssertEqual(ra.network.runningStatistics, rb.network.runningStatistics)
        XCTAssertEqual(ra.epochs.last!.testLoss, rb.epochs.last!.testLoss)

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("s.json"))) as! [String: Any]
        let run = (json["runs"] as! [[String: Any]])[0]
        XCTAssertEqual((run["config"] as! [String: Any])["batchnorm"] as? Bool, true)
        let layers = (run["layers"] as! [[String: Any]]).map { "\($0["name"]!):\($0["type"]!)" }
        XCTAssertEqual(layers, ["layer1:dense", "norm1:norm", "hidden1:activation", "layer2:dense", "norm2:norm", "hidden2:activation", "layer3:dense"])
        // Our own export imports back (the norm layers are a known type).
        let i = Captured(dataDir: nil)
        i.run("import \(dir.path)/s.json")
        XCTAssertEqual(i.session.runs.count, 1)

        // A file with batchnorm on but without one of its arrays is refused whole, naming the entry.
        let good = [UInt8](try Data(contentsOf: dir.appendingPathComponent("s.pfz")))
        let broken = try renamedEntry(good, "run1/moving_mean2.npy", "run1/moving_xxxx2.npy")
        try Data(broken).write(to: dir.appendingPathComponent("broken.pfz"))
        let c = Captured(dataDir: nil)
        let e = error(c, "load \(dir.path)/broken.pfz")
        XCTAssertTrue(e.contains("moving_mean2") && e.contains("missing"), e)
        XCTAssertTrue(c.session.runs.isEmpty, "the session is unchanged")
    }

    /// Save files written before batchnorm existed have no `batchNorm` key: they load with it off. A file
    /// saved without batchnorm today has no key either (the same format as before), and a file whose key is
    /// unknown to the reader (here: renamed, as an older file would lack it) loads as off with its weights.
    func testOlderFilesLoadWithItOff() throws {
        let dir = tempDir("bnold")
        let plain = Captured(dataDir: nil)
        plain.run("data synthetic 200; layers 784 16 10; train 1; save \(dir.path)/plain.pfz --force")
        let plainBytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent("plain.pfz")))
        XCTAssertNil(Data(plainBytes).range(of: Data("batchNorm".utf8)), "no key when off: the format older versions wrote")
        XCTAssertNotNil(Data(plainBytes).range(of: Data("\"version\" : 1".utf8)), "version 1 without batchnorm")

        let a = Captured(dataDir: nil)
        a.run("data synthetic 200; layers 784 16 10; batchnorm on; train 1; save \(dir.path)/bn.pfz --force")
        let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent("bn.pfz")))
        // With it, format version 3: a Preflight that reads up to version 2 refuses the file instead of loading the
        // network without its normalisation.
        XCTAssertNotNil(Data(bytes).range(of: Data("\"version\" : 3".utf8)))
        let old = try patchedSessionJSON(bytes, from: "\"batchNorm\"", to: "\"olderName\"")
        try Data(old).write(to: dir.appendingPathComponent("old.pfz"))
        let b = Captured(dataDir: nil)
        b.run("load \(dir.path)/old.pfz")
        let r = b.session.currentRun!
        XCTAssertFalse(r.network.batchNorm)
        XCTAssertNil(r.config.batchNorm)
        XCTAssertFalse(b.session.config.batchNormValue)
        let ra = a.session.currentRun!.network
        for l in 0..<ra.layerCount {
            XCTAssertEqual(Array(r.network.weights(l)), Array(ra.weights(l)))
            XCTAssertEqual(Array(r.network.bias(l)), Array(ra.bias(l)))
        }
        b.run("train 1")
        XCTAssertEqual(r.epochs.count, 2)
    }
}
