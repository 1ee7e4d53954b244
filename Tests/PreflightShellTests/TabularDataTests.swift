import Foundation
import XCTest
import PreflightShell
import PreflightData

/// `data` with your own files: CSV tables, .npy pairs; the split, the scaling, the messages, and that a bad file
/// changes nothing.
final class TabularDataTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let u = dir.appendingPathComponent(name)
        try? FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: u.path, contents: Data(bytes))
        return u.path
    }

    /// A table of 3 features (the second constant, the third a thousand times the first's scale) and text labels,
    /// 60 rows of "a" and 40 of "b".
    func table() -> String {
        var t = "x,const,big,kind\n"
        for i in 0..<100 { t += "\(Double(i % 10) / 10),5,\(Double(i % 7) * 2000),\(i % 5 < 3 ? "a" : "b")\n" }
        return write("t.csv", t)
    }

    func error(_ c: Captured, _ command: String) -> String {
        do { try c.session.execute(command) } catch let e as CommandError { return e.message } catch { return "\(error)" }
        XCTFail("`\(command)` should have failed")
        return ""
    }

    func testCSVThroughTheSession() throws {
        let p = table()
        let c = Captured(dataDir: nil)
        c.run("seed 4; batch 20")
        c.run("data \(p) --scale standard")
        XCTAssertTrue(c.output.contains("\(p): 80 train, 20 test, 3 features, 2 classes"), c.output)
        XCTAssertTrue(c.output.contains("classes (text labels, in sorted order): 0=a 1=b"), c.output)
        XCTAssertTrue(c.output.contains("test split: 20% of each class, drawn with seed 4"), c.output)
        XCTAssertTrue(c.output.contains("standardised by the training mean and std"), c.output)
        XCTAssertTrue(c.errors.contains("1 constant feature (one value in every training sample, no information): column 2 (const) = 5"), c.errors)
        XCTAssertFalse(c.errors.contains("scales differ"), "standardised: no hint to standardise")
        let d = try XCTUnwrap(c.session.data)
        XCTAssertEqual(d.trainCounts, [48, 32])
        XCTAssertEqual(d.testCounts, [12, 8])
        XCTAssertEqual(d.train.features, 3)
        XCTAssertTrue(d.train.isFloat)
        // The network's defaults follow the data; it trains; the checks speak of the table.
        c.clear()
        c.run("show")
        XCTAssertTrue(c.output.contains("3 128 128 2 will be used"), c.output)
        c.run("train 2")
        XCTAssertEqual(c.session.currentRun?.trainer.epochs.count, 2)
        let findings = c.session.findings(for: c.session.currentRun!)
        XCTAssertEqual(findings.first { $0.rule == "input-range" }?.verdict, .ok)
        XCTAssertEqual(findings.first { $0.rule == "class-balance" }?.verdict, .ok)
        // The export records the scaling and the classes' names.
        let json = c.session.exportJSON(timings: false).serialized()
        XCTAssertTrue(json.contains("\"scale\":\"standard\"") || json.contains("\"scale\": \"standard\""), json)
        XCTAssertTrue(json.contains("\"class_names\""), json)
        // Unscaled, the same table fails input-range and is told to standardise.
        c.clear()
        c.run("data \(p) --scale none")
        XCTAssertTrue(c.errors.contains("the features' scales differ by"), c.errors)
        XCTAssertTrue(c.errors.contains("try --scale standard"), c.errors)
        c.run("run raw")
        let raw = c.session.findings(for: c.session.currentRun!).first { $0.rule == "input-range" }!
        XCTAssertEqual(raw.verdict, .fail)
        XCTAssertTrue(raw.hint.contains("--scale standard"), raw.hint)
    }

    func testABadFileChangesNothing() throws {
        let good = table()
        let c = Captured(dataDir: nil)
        c.run("batch 20; data \(good); train 1")
        let before = c.session.data!.dataset
        let spec = c.session.config.data
        let bad: [(String, [UInt8], String)] = [
            ("empty.csv", [], "is empty"),
            ("ragged.csv", Array("a,b,y\n1,2,0\n1,0\n".utf8), "line 3: 2 fields, but the header has 3"),
            ("word.csv", Array("a,b,y\n1,zz,0\n".utf8), "line 2: column 2 (b): 'zz' is not a number"),
            ("nan.csv", Array("a,b,y\n1,2,0\n1,-inf,1\n".utf8), "line 3: column 2 (b): non-finite value '-inf'"),
            ("binary.csv", [0x41, 0x2C, 0x00, 0x01], "binary file"),
            ("header.csv", Array("a,b,y\n".utf8), "has a header row but no data rows"),
        ]
        for (name, bytes, message) in bad {
            let p = write(name, bytes)
            let e = error(c, "data \(p)")
            XCTAssertTrue(e.hasPrefix(p), e)
            XCTAssertTrue(e.contains(message), "\(name): \(e)")
            XCTAssertEqual(c.session.data?.dataset, before, name)
            XCTAssertEqual(c.session.config.data, spec, name)
            XCTAssertEqual(c.session.runs.count, 1, name)
        }
        let folder = dir.appendingPathComponent("folder.csv").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        XCTAssertTrue(error(c, "data \(folder)").contains("is a directory"))
        XCTAssertEqual(c.session.data?.dataset, before)
    }

    func testOptionErrors() throws {
        let p = table()
        let c = Captured(dataDir: nil)
        let cases: [(String, String)] = [
            ("data synthetic 100 --label kind", "--label applies to CSV tables, not to synthetic"),
            ("data \(p) --x features", "--x applies to .npz archives"),
            ("data \(p) --test 1.5", "--test must be a fraction between 0 and 1"),
            ("data \(p) --test 0", "--test must be a fraction between 0 and 1"),
            ("data synthetic 100 --test 0.3", "--test applies to data without a test split"),
            ("data \(p) --scale fancy", "--scale must be unit, standard or none"),
            ("data \(p) --delimiter ab", "--delimiter must be one ASCII character"),
            ("data \(p) --label", "--label needs a column name or number"),
            ("data \(dir.path)/x.npy", "an .npy holds one array"),
            ("data \(p) --label nope", "--label nope: no such column; the header has x, const, big, kind"),
        ]
        for (command, message) in cases {
            let e = error(c, command)
            XCTAssertTrue(e.contains(message), "\(command): \(e)")
            XCTAssertNil(c.session.data, command)
        }
    }

    /// The recorded `data` command loads the same data again, and a saved session finds them even after the seed
    /// changed (the split's seed is recorded).
    func testReplayAndSaveLoadGiveTheSameData() throws {
        var t = "id;Label;f\n"
        for i in 0..<50 { t += "\(i);\(["x y", "z"][i % 2]);\(Double(i) * 0.5)\n" }
        let p = write("semi colon.csv", t)
        let c = Captured(dataDir: nil)
        c.run("seed 3; batch 10")
        try c.session.execute("data \"\(p)\" --label Label --delimiter ';' --test 0.3 --scale standard --drop-missing")
        let d = c.session.data!
        XCTAssertEqual(d.dataset.classNames, ["x y", "z"])
        XCTAssertEqual(d.dataset.test.count, 16)   // 30% of 25 is 7.5 → 8, per class
        let command = d.spec.command
        XCTAssertTrue(command.contains("--delimiter \";\""), command)
        let again = Captured(dataDir: nil)
        again.run("seed 3")
        try again.session.execute(command)
        XCTAssertEqual(again.session.data?.dataset, d.dataset, command)
        XCTAssertEqual(again.session.data?.spec, d.spec)
        // Another seed draws another split.
        let other = Captured(dataDir: nil)
        other.run("seed 4")
        try other.session.execute(command)
        XCTAssertNotEqual(other.session.data?.dataset.test.values, d.dataset.test.values)
        // Save after changing the seed; load elsewhere: the same data, no warning.
        c.run("train 1; seed 99")
        let file = dir.appendingPathComponent("s.npz").path
        try c.session.execute("save \(file)")
        let loaded = Captured(dataDir: nil)
        try loaded.session.execute("load \(file)")
        XCTAssertEqual(loaded.session.data?.dataset, d.dataset)
        XCTAssertFalse(loaded.errors.contains("differ"), loaded.errors)
    }

    func testNPYPairThroughTheSession() throws {
        func npy(_ descr: String, _ shape: [Int], _ data: [UInt8]) -> [UInt8] {
            var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", "))\(shape.count == 1 ? "," : "")), }"
            while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
            header += "\n"
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 255), UInt8(header.utf8.count >> 8)] + Array(header.utf8) + data
        }
        let n = 40
        var xs: [UInt8] = [], ys: [UInt8] = []
        for i in 0..<n {
            for v in [Float(i), Float(i % 4) * 0.25] { withUnsafeBytes(of: v.bitPattern.littleEndian) { xs += $0 } }
            withUnsafeBytes(of: Int64(i % 4).littleEndian) { ys += $0 }
        }
        let x = write("x.npy", npy("<f4", [n, 2], xs)), y = write("y.npy", npy("<i8", [n], ys))
        let c = Captured(dataDir: nil)
        c.run("batch 10; data \(x) \(y) --test 0.3 --scale none")
        XCTAssertTrue(c.output.contains("28 train, 12 test, 2 features, 4 classes"), c.output)
        XCTAssertEqual(c.session.data?.testCounts, [3, 3, 3, 3])
        XCTAssertEqual(c.session.data?.spec.command, "data \(x) \(y) --test 0.3 --scale none")
        c.run("train 1")
        // uint8 features that are not pictures stay bytes, divided by 255 like pixels.
        let u = write("u.npy", npy("|u1", [n, 3], (0..<(n * 3)).map { UInt8(10 + $0 % 200) }))
        c.clear()
        c.run("data \(u) \(y)")
        XCTAssertTrue(c.output.contains("3 features, 4 classes"), c.output)
        XCTAssertTrue(c.output.contains("features 10-129, scaled to [0.03922, 0.5059]"), c.output)
        XCTAssertFalse(c.session.data!.train.isFloat)
    }

    /// An IDX folder whose test labels hold a class the training labels never have: class-balance fails.
    func testClassSeenOnlyInTestFails() throws {
        func idx(_ dims: [Int], _ data: [UInt8]) -> [UInt8] {
            [0, 0, 8, UInt8(dims.count)] + dims.flatMap { d in [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] } + data
        }
        _ = write("set/train-images-idx3-ubyte", idx([20, 2, 2], (0..<80).map { UInt8($0 % 251) }))
        _ = write("set/train-labels-idx1-ubyte", idx([20], (0..<20).map { UInt8($0 % 2) }))
        _ = write("set/t10k-images-idx3-ubyte", idx([6, 2, 2], (0..<24).map { UInt8($0) }))
        _ = write("set/t10k-labels-idx1-ubyte", idx([6], [0, 1, 2, 2, 0, 1]))
        let c = Captured(dataDir: nil)
        c.run("data \(dir.path)/set; layers 4 8 3")
        c.run("run r")
        let f = c.session.findings(for: c.session.currentRun!).first { $0.rule == "class-balance" }!
        XCTAssertEqual(f.verdict, .fail)
        XCTAssertTrue(f.measured.contains("class 2 occurs in the test split (2 samples) but never in training"), f.measured)
    }
}
