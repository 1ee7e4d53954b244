import Foundation
import XCTest
import PreflightShell

final class SaveLoadTests: XCTestCase {
    /// Save after one epoch, load into a fresh session, train one more: the export must equal two epochs straight through.
    /// `threads`: the engine's thread count for the run (nil: the engine's default).
    func continuation(_ setup: String, threads: Int? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        func start(_ p: PicsSession) {
            if let t = threads { p.run("set threads \(t)", file: file, line: line) }
            p.run("\(setup); run r1", file: file, line: line)
        }
        let a = PicsSession()
        let saved = a.path("mid.npz")
        start(a)
        a.run("train 1; save \(saved)", file: file, line: line)

        let b = PicsSession()
        b.run("load \(saved)", file: file, line: line)
        XCTAssertFalse(b.errors.contains("warning"), b.errors, file: file, line: line)
        b.run("train 1; export \(b.path("b.json")) --no-timings", file: file, line: line)
        XCTAssertEqual(b.session.runs.count, 1, "training continued the loaded run", file: file, line: line)

        if let t = threads { XCTAssertEqual(b.session.currentRun!.trainer.threads, t, "thread count restored", file: file, line: line) }

        let c = PicsSession()
        start(c)
        c.run("train 2; export \(c.path("c.json")) --no-timings", file: file, line: line)

        let jb = try Data(contentsOf: URL(fileURLWithPath: b.path("b.json")))
        let jc = try Data(contentsOf: URL(fileURLWithPath: c.path("c.json")))
        XCTAssertGreaterThan(jc.count, 1000, file: file, line: line)
        XCTAssertEqual(jb, jc, "save → load → train 1 differs from training straight through", file: file, line: line)
        XCTAssertTrue(b.session.currentRun!.network.parameterArray == c.session.currentRun!.network.parameterArray,
                      "weights bit for bit", file: file, line: line)
    }

    func testSaveLoadTrainGivesTheSameMetricsBitForBit() throws {
        try continuation("data synthetic 2000; layers 784 32 10")
    }

    func testSaveLoadTrainBitForBitSingleThreaded() throws {
        try continuation("data synthetic 2000; layers 784 32 10", threads: 1)
    }

    func testContinuationWithMomentumSeedAfterDataAndSettings() throws {
        // The synthetic data were made with seed 0, the run uses seed 3: load must find the same data again.
        try continuation("data synthetic 2000; seed 3; layers 784 32 16 10; optimizer sgd 0.05 momentum 0.9; batch 64; set check.saturation.fail 0.2; set strict on")
    }

    func testLoadRestoresTheWholeSession() throws {
        let a = PicsSession.twoRuns()
        a.run("set check.saturation.fail 0.25; set strict on; check; use good; activation tanh")
        let file = a.path("all.npz")
        a.run("save \(file)")
        XCTAssertTrue(a.output.contains("saved the session to \(file)"), a.output)

        let b = PicsSession()
        b.run("load \(file)")
        let s = b.session, o = a.session
        XCTAssertEqual(s.runs.map(\.name), ["good", "bad"])
        XCTAssertEqual(s.currentRun?.name, "good")
        XCTAssertEqual(s.config, o.config)
        XCTAssertEqual(s.config.activation, .tanh)
        XCTAssertTrue(s.strict)
        XCTAssertEqual(s.thresholds.value("check.saturation.fail"), 0.25)
        XCTAssertEqual(s.thresholds, o.thresholds)
        XCTAssertEqual(s.data?.spec, o.data?.spec)
        XCTAssertEqual(s.data?.dataset, o.data?.dataset)
        for (r, q) in zip(s.runs, o.runs) {
            XCTAssertEqual(r.config, q.config)
            XCTAssertEqual(r.trainer.epochs, q.trainer.epochs)
            XCTAssertEqual(r.trainer.firstBatch, q.trainer.firstBatch)
            XCTAssertEqual(r.trainer.shuffleRNG, q.trainer.shuffleRNG)
            XCTAssertEqual(r.network.parameterArray, q.network.parameterArray)
            XCTAssertEqual(r.trainer.optimizer.steps, q.trainer.optimizer.steps)
            XCTAssertEqual(r.trainer.optimizer.mArray, q.trainer.optimizer.mArray)
            XCTAssertEqual(r.trainer.optimizer.vArray, q.trainer.optimizer.vArray)
            XCTAssertEqual(r.findings, q.findings)
        }
        XCTAssertFalse(s.runs[1].findings.isEmpty, "the checked run keeps its findings")
        XCTAssertTrue(b.output.contains("loaded \(file): 2 runs"), b.output)
    }

    func testLoadReplacesTheDataWithTheSavedOnes() throws {
        let a = PicsSession()
        a.run("data synthetic 300; layers 784 16 10; train 1")
        let file = a.path("s.npz")
        a.run("save \(file)")
        let b = PicsSession()
        b.run("data synthetic 500; load \(file)")
        XCTAssertEqual(b.session.data?.dataset.train.count, 300)
        XCTAssertEqual(b.session.data?.dataset, a.session.data?.dataset)
        XCTAssertEqual(b.session.runs.count, 1)
    }

    func testLoadWhoseDataCannotBeLoadedWarnsAndKeepsTheRuns() throws {
        let a = PicsSession()
        a.run("data synthetic 300; layers 784 16 10; train 1")
        let file = a.path("s.npz")
        a.run("save \(file)")
        // The saved data spec names something that cannot be loaded here.
        let patched = try patchedSessionJSON([UInt8](try Data(contentsOf: URL(fileURLWithPath: file))), from: "\"name\" : \"synthetic\"", to: "\"name\" : \"nowhere99\"")
        let other = a.path("nodata.npz")
        _ = FileManager.default.createFile(atPath: other, contents: Data(patched))
        let b = PicsSession()
        b.run("load \(other)")
        XCTAssertTrue(b.errors.contains("could not load the data again with `data nowhere99 300`"), b.errors)
        XCTAssertNil(b.session.data)
        XCTAssertEqual(b.session.runs.count, 1)
        XCTAssertEqual(b.session.runs[0].trainer.epochs, a.session.runs[0].trainer.epochs)
        XCTAssertNotNil(b.fails("train 1"), "training needs data")
    }

    // MARK: numpy

    func testNumpyReadsTheWeights() throws {
        let py = try requirePythonWithNumpy()
        let p = PicsSession()
        p.run("data synthetic 600; layers 784 32 16 10; train 1")
        let file = p.path("w.npz")
        p.run("save \(file)")
        let script = """
        import json, sys, numpy as np
        d = np.load(sys.argv[1])
        out = {"files": sorted(d.files)}
        for k in ["run1/W1", "run1/b1", "run1/W2", "run1/b2", "run1/W3", "run1/b3", "run1/optimizer/m_W1", "run1/optimizer/v_b3"]:
            a = d[k]
            out[k] = {"shape": list(a.shape), "dtype": str(a.dtype), "c": bool(a.flags["C_CONTIGUOUS"]),
                      "values": [float(x) for x in a.ravel()]}
        print(json.dumps(out))
        """
        let (status, stdout, stderr) = try runProcess(py, ["-c", script, file])
        XCTAssertEqual(status, 0, stderr)
        let j = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as! [String: Any]
        let files = j["files"] as! [String]
        XCTAssertTrue(files.contains("run1/W1") && files.contains("run1/optimizer/m_b2"), "\(files)")
        let r = p.session.currentRun!
        let params = r.network.parameterArray, m = r.trainer.optimizer.mArray, v = r.trainer.optimizer.vArray
        func check(_ key: String, _ shape: [Int], _ source: [Float], _ range: Range<Int>) {
            let e = j[key] as! [String: Any]
            XCTAssertEqual(e["shape"] as? [Int], shape, key)
            XCTAssertEqual(e["dtype"] as? String, "float32", key)
            XCTAssertEqual(e["c"] as? Bool, true, key)
            let vals = (e["values"] as! [NSNumber]).map { Float($0.doubleValue) }
            XCTAssertEqual(vals, Array(source[range]), key)
        }
        let net = r.network
        let sizes = [784, 32, 16, 10]
        for l in 0..<3 {
            check("run1/W\(l + 1)", [sizes[l], sizes[l + 1]], params, net.ranges[l].weights)
            check("run1/b\(l + 1)", [sizes[l + 1]], params, net.ranges[l].bias)
        }
        check("run1/optimizer/m_W1", [784, 32], m, net.ranges[0].weights)
        check("run1/optimizer/v_b3", [10], v, net.ranges[2].bias)
        XCTAssertTrue(params[net.ranges[0].bias].contains { $0 != 0 }, "biases moved during training")
    }

    func testShapeMismatchWrittenByNumpyIsRefused() throws {
        let py = try requirePythonWithNumpy()
        let p = PicsSession()
        p.run("data synthetic 300; layers 784 16 10; train 1")
        let file = p.path("w.npz"), bad = p.path("shape.npz")
        p.run("save \(file)")
        // Rewrite the archive with W1 one column short (stored entries, as preflight writes them).
        let script = """
        import sys, io, zipfile, numpy as np
        src = zipfile.ZipFile(sys.argv[1])
        dst = zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_STORED)
        for name in src.namelist():
            data = src.read(name)
            if name == "run1/W1.npy":
                a = np.load(io.BytesIO(data))[:, :15]
                buf = io.BytesIO(); np.save(buf, np.ascontiguousarray(a)); data = buf.getvalue()
            dst.writestr(name, data)
        dst.close()
        """
        try p.assertRewrittenSaveRefused(python: py, script, from: file, to: bad, mentioning: "run1/W1.npy has shape [784, 15]")
    }

    // MARK: broken files

    func testBrokenFilesGiveOneClearErrorAndLeaveTheSessionAlone() throws {
        let p = PicsSession.twoRuns()
        let good = p.path("good.npz")
        p.run("set check.saturation.fail 0.3; save \(good)")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
        // Another state in the session, so that a wrongly applied load would show.
        p.run("use good; train 1; set check.saturation.fail 0.4")
        let before = snapshot(p.session)

        func expect(_ name: String, _ content: [UInt8]?, _ words: [String], line: UInt = #line) {
            let path = p.path(name)
            if let content { _ = FileManager.default.createFile(atPath: path, contents: Data(content)) }
            guard let e = p.fails("load \(path)", line: line) else { return }
            XCTAssertTrue(e.message.contains(path), "names the file: \(e.message)", line: line)
            for w in words { XCTAssertTrue(e.message.contains(w), "`\(w)` in: \(e.message)", line: line) }
            XCTAssertFalse(e.message.contains("\n"), "one line: \(e.message)", line: line)
            XCTAssertEqual(snapshot(p.session), before, "session unchanged after \(name)", line: line)
        }

        expect("truncated.npz", Array(bytes.prefix(bytes.count / 2)), ["truncated"])
        expect("truncated-end.npz", Array(bytes.dropLast(10)), ["truncated"])
        expect("empty.npz", [], ["truncated"])
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x10
        expect("flipped.npz", flipped, ["CRC"])
        expect("text.npz", Array("data mnist\ntrain 1\n".utf8), ["not a ZIP"])
        expect("missing-file.npz", nil, ["no such file"])
        expect("newer.npz", try patchedSessionJSON(bytes, from: "\"version\" : 1", to: "\"version\" : 7"), ["newer", "version 7"])
        expect("other-format.npz", try patchedSessionJSON(bytes, from: "\"preflight-session\"", to: "\"preflight-sessioX\""), ["not a saved session"])
        expect("missing-entry.npz", try renamedEntry(bytes, "good/W2.npy", "good/X2.npy"), ["good/W2.npy", "missing"])

        // Still loads when intact, and then it does change the session.
        p.run("load \(good)")
        XCTAssertNotEqual(snapshot(p.session), before)
        XCTAssertEqual(p.session.thresholds.value("check.saturation.fail"), 0.3)
    }

    func testSaveErrors() {
        let p = PicsSession()
        XCTAssertNotNil(p.fails("save")?.usage)
        XCTAssertNotNil(p.fails("load")?.usage)
        let blocker = p.path("f")
        _ = FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8))
        let e = p.fails("save \(blocker)/x.npz")
        XCTAssertTrue(e?.message.contains(blocker) ?? false, "\(String(describing: e))")
        XCTAssertTrue(p.fails("load \(p.dir.path)")?.message.contains("directory") ?? false)
    }

    func testEmptySessionRoundTrips() {
        let p = PicsSession()
        p.run("layers 784 20 10; seed 9; save \(p.path("e.npz"))")
        let q = PicsSession()
        q.run("load \(p.path("e.npz"))")
        XCTAssertEqual(q.session.config, p.session.config)
        XCTAssertTrue(q.session.runs.isEmpty)
        XCTAssertNil(q.session.data)
    }
}

// MARK: - helpers

extension PicsSession {
    /// Writes a broken copy of the save file `saved` to `bad` with a Python `script` (argv[1] the file, argv[2] the
    /// copy), then checks that `load bad` fails naming the file and `what`, and leaves the session as it was.
    func assertRewrittenSaveRefused(python py: String, _ script: String, from saved: String, to bad: String,
                                    mentioning what: String,
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let (status, _, stderr) = try runProcess(py, ["-c", script, saved, bad])
        XCTAssertEqual(status, 0, stderr, file: file, line: line)
        let before = snapshot(session)
        let e = fails("load \(bad)", file: file, line: line)
        XCTAssertTrue(e?.message.contains(bad) ?? false, "\(String(describing: e))", file: file, line: line)
        XCTAssertTrue(e?.message.contains(what) ?? false, "\(String(describing: e))", file: file, line: line)
        XCTAssertEqual(snapshot(session), before, file: file, line: line)
    }
}

/// What a failed load must leave alone.
func snapshot(_ s: Session) -> String {
    var t = "config=\(s.config) strict=\(s.strict) current=\(s.currentRun?.name ?? "-") data=\(String(describing: s.data?.spec))\n"
    t += "thresholds=\(s.thresholds.changed.map { "\($0.key)=\($0.value)" })\n"
    for r in s.runs {
        let p = r.network.parameterArray
        t += "\(r.name) epochs=\(r.trainer.epochs.count) steps=\(r.trainer.optimizer.steps) rng=\(r.trainer.shuffleRNG)"
        t += " w=\(p.reduce(0.0) { $0 + Double($1) }) m=\(r.trainer.optimizer.mArray.reduce(0.0) { $0 + Double($1) })\n"
    }
    return t
}

/// The project's .venv python when it has numpy, else the first python3 on PATH with numpy.
func pythonWithNumpy() -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let venv = packageRoot.appendingPathComponent(".venv/bin/python").path
    let candidates = [venv] + (path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin"]).map { $0 + "/python3" }
    for p in candidates {
        guard FileManager.default.isExecutableFile(atPath: p) else { continue }
        if let r = try? runProcess(p, ["-c", "import numpy"]), r.0 == 0 { return p }
    }
    return nil
}

/// python with numpy for a test that needs it. scripts/setup provides numpy, so under scripts/test
/// (PREFLIGHT_REQUIRE_NUMPY=1) its absence is a failure; elsewhere the test is skipped with the reason.
func requirePythonWithNumpy() throws -> String {
    if let p = pythonWithNumpy() { return p }
    let reason = "python3 with numpy not found (scripts/setup installs python3-numpy)"
    if ProcessInfo.processInfo.environment["PREFLIGHT_REQUIRE_NUMPY"] == "1" { throw TestFixtureError(reason) }
    throw XCTSkip(reason)
}

/// A test's own preparation went wrong: reported as a failure, never a skip.
struct TestFixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Runs a program; returns (status, stdout, stderr). Killed after `timeout` seconds.
@discardableResult
func runProcess(_ exe: String, _ args: [String], env: [String: String] = [:], timeout: Double = 120) throws -> (Int32, String, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    var e = ProcessInfo.processInfo.environment
    for (k, v) in env { e[k] = v }
    p.environment = e
    let o = Pipe(), er = Pipe()
    p.standardOutput = o; p.standardError = er
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let deadline = DispatchTime.now() + timeout
    DispatchQueue.global().asyncAfter(deadline: deadline) { if p.isRunning { p.terminate() } }
    final class Sink: @unchecked Sendable { var data = Data() }
    let errSink = Sink()
    let g = DispatchGroup()
    g.enter(); DispatchQueue.global().async { errSink.data = er.fileHandleForReading.readDataToEndOfFile(); g.leave() }
    let outData = o.fileHandleForReading.readDataToEndOfFile()
    g.wait()
    let errData = errSink.data
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// CRC-32 as ZIP uses it.
func testCRC32(_ b: ArraySlice<UInt8>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for x in b {
        c ^= UInt32(x)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return ~c
}

private func le32(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24 }
private func put32(_ b: inout [UInt8], _ i: Int, _ v: UInt32) { for k in 0..<4 { b[i + k] = UInt8((v >> (8 * UInt32(k))) & 0xFF) } }

private func find(_ hay: [UInt8], _ needle: [UInt8], from: Int = 0) -> Int? {
    guard needle.count <= hay.count else { return nil }
    var i = from
    while i + needle.count <= hay.count {
        if hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
        i += 1
    }
    return nil
}

/// Replaces every occurrence of a text inside session.json (the first entry; same length) and fixes its CRC in both headers,
/// so that only the content is wrong, not the archive.
func patchedSessionJSON(_ bytes: [UInt8], from: String, to: String) throws -> [UInt8] {
    precondition(from.utf8.count == to.utf8.count)
    var b = bytes
    XCTAssertEqual(le32(b, 0), 0x0403_4B50)
    let nameLen = Int(b[26]) | Int(b[27]) << 8, extra = Int(b[28]) | Int(b[29]) << 8
    XCTAssertEqual(String(decoding: b[30..<(30 + nameLen)], as: UTF8.self), "session.json")
    let start = 30 + nameLen + extra, size = le32(b, 18)
    var body = Array(b[start..<(start + size)])
    var found = false
    while let at = find(body, Array(from.utf8)) { body.replaceSubrange(at..<(at + from.utf8.count), with: Array(to.utf8)); found = true }
    guard found else { throw TestFixtureError("`\(from)` is not in session.json: the patch no longer matches what `save` writes") }
    b.replaceSubrange(start..<(start + size), with: body)
    let crc = testCRC32(b[start..<(start + size)])
    put32(&b, 14, crc)
    let central = find(b, [0x50, 0x4B, 0x01, 0x02])!
    put32(&b, central + 16, crc)
    return b
}

/// Renames an entry in its local and central headers (names are outside the CRC), leaving session.json as it is.
func renamedEntry(_ bytes: [UInt8], _ from: String, _ to: String) throws -> [UInt8] {
    var b = bytes
    let f = Array(from.utf8), t = Array(to.utf8)
    var positions: [Int] = []
    var i = 0
    while let at = find(b, f, from: i) { positions.append(at); i = at + 1 }
    // The first hit is inside session.json's text; the others are the two headers.
    XCTAssertEqual(positions.count, 3)
    for at in positions.dropFirst() { b.replaceSubrange(at..<(at + f.count), with: t) }
    return b
}
