import Foundation
import XCTest
import PreflightShell
import PreflightChecks

/// Broken files and numerical faults end in a clear message; the session and its runs stay as they were.
final class HardeningTests: XCTestCase {
    func idx(_ dims: [Int], _ body: [UInt8], magicType: UInt8 = 0x08) -> [UInt8] {
        var b: [UInt8] = [0, 0, magicType, UInt8(dims.count)]
        for d in dims { b += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
        return b + body
    }

    /// A folder with the four IDX files; `mutate` may break one of them.
    func folder(train: Int = 50, test: Int = 20, labels: (Int) -> UInt8 = { UInt8($0 % 10) }, pixels: (Int) -> UInt8 = { UInt8($0 % 251) },
                mutate: (inout [String: [UInt8]]) -> Void = { _ in }) -> String {
        let dir = tempDir().path
        var files: [String: [UInt8]] = [
            "train-images-idx3-ubyte": idx([train, 28, 28], (0..<(train * 784)).map(pixels)),
            "train-labels-idx1-ubyte": idx([train], (0..<train).map(labels)),
            "t10k-images-idx3-ubyte": idx([test, 28, 28], (0..<(test * 784)).map(pixels)),
            "t10k-labels-idx1-ubyte": idx([test], (0..<test).map(labels)),
        ]
        mutate(&files)
        for (n, b) in files { XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/" + n, contents: Data(b))) }
        return dir
    }

    func testBrokenDataFilesNameTheFileAndChangeNothing() throws {
        let c = Captured()
        c.run("data synthetic 300; layers 784 16 10; train 1")
        let before = c.session.exportJSON(timings: false).serialized()
        let good = folder()
        c.run("data \(good)")   // a good folder loads
        XCTAssertEqual(c.session.data?.train.count, 50)
        let loaded = c.session.data!.spec
        let cases: [(String, (inout [String: [UInt8]]) -> Void, String)] = [
            ("empty", { $0["train-images-idx3-ubyte"] = [] }, "train-images-idx3-ubyte"),
            ("wrong magic", { $0["train-labels-idx1-ubyte"]![2] = 0x0D }, "train-labels-idx1-ubyte"),
            ("truncated header", { $0["t10k-images-idx3-ubyte"] = Array($0["t10k-images-idx3-ubyte"]!.prefix(10)) }, "t10k-images-idx3-ubyte"),
            ("truncated data", { $0["train-images-idx3-ubyte"]!.removeLast(100) }, "train-images-idx3-ubyte"),
            ("counts disagree", { $0["train-labels-idx1-ubyte"] = [0, 0, 8, 1, 0, 0, 0, 49] + Array(repeating: 1, count: 49) }, "train"),
            ("missing file", { $0["t10k-labels-idx1-ubyte"] = nil }, "t10k-labels-idx1-ubyte"),
        ]
        for (what, mutate, named) in cases {
            let dir = folder(mutate: mutate)
            XCTAssertThrowsError(try c.session.execute("data \(dir)"), what) { e in
                XCTAssertTrue("\(e)".contains(named), "\(what): \(e)")
                XCTAssertFalse("\(e)".contains("\n"), "\(what): one line: \(e)")
            }
            XCTAssertEqual(c.session.data?.spec, loaded, "\(what): the loaded data are unchanged")
        }
        // A gzip file corrupted midway.
        let gz = folder()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-f", gz + "/train-images-idx3-ubyte"]
        try p.run(); p.waitUntilExit()
        var bytes = [UInt8](FileManager.default.contents(atPath: gz + "/train-images-idx3-ubyte.gz")!)
        for i in (bytes.count / 2)..<(bytes.count / 2 + 40) { bytes[i] ^= 0x5A }
        XCTAssertTrue(FileManager.default.createFile(atPath: gz + "/train-images-idx3-ubyte.gz", contents: Data(bytes)))
        XCTAssertThrowsError(try c.session.execute("data \(gz)")) { e in XCTAssertTrue("\(e)".contains("train-images-idx3-ubyte.gz"), "\(e)") }
        // A directory where a file should be; a script that is binary; a script that sources itself.
        let d = folder(mutate: { $0["train-labels-idx1-ubyte"] = nil })
        try FileManager.default.createDirectory(atPath: d + "/train-labels-idx1-ubyte", withIntermediateDirectories: true)
        XCTAssertThrowsError(try c.session.execute("data \(d)")) { e in XCTAssertTrue("\(e)".contains("train-labels-idx1-ubyte"), "\(e)") }
        let bin = tempDir().path + "/bin.pf"
        XCTAssertTrue(FileManager.default.createFile(atPath: bin, contents: Data([0x7F, 0x45, 0x4C, 0x46, 0, 1, 2])))
        XCTAssertThrowsError(try c.session.execute("source \(bin)")) { e in XCTAssertTrue("\(e)".contains("binary"), "\(e)") }
        let selfish = tempDir().path + "/self.pf"
        try "seed 4\nsource \(selfish)\n".write(toFile: selfish, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try c.session.execute("source \(selfish)"))
        XCTAssertTrue(c.errors.contains("cannot source itself") || c.errors.contains("already being run"), c.errors)
        XCTAssertEqual(c.session.exportJSON(timings: false).serialized(), before, "the recorded run is intact")
    }

    func testNumericalFaultsEndInAVerdict() throws {
        // Learning rate 1e6.
        var c = Captured()
        c.run("data synthetic 500; seed 1; layers 784 32 10; optimizer sgd 1000000; train 3; check")
        XCTAssertTrue(c.output.contains("nonfinite") || c.output.contains("divergence"), c.output)
        XCTAssertTrue(c.session.findings(for: c.session.currentRun!).contains { $0.verdict == .fail })
        // All-zero inputs: nothing to learn from, a clear verdict, no crash.
        let zeros = folder(pixels: { _ in 0 })
        c = Captured()
        c.run("data \(zeros); layers 784 16 10; batch 10; train 2; check")
        XCTAssertTrue(c.output.contains("checks for run run1"))
        // A single class.
        let one = folder(labels: { _ in 3 })
        c = Captured()
        c.run("data \(one); layers 784 16 10; batch 10; train 2; check")
        XCTAssertEqual(c.session.runs[0].trainer.epochs.count, 2)
        // A single sample: batch larger than the data is refused with the numbers; batch 1 trains.
        let single = folder(train: 1, test: 1)
        c = Captured()
        c.run("data \(single); layers 784 8 10")
        XCTAssertThrowsError(try c.session.execute("train 1")) { e in XCTAssertTrue("\(e)".contains("1 training samples"), "\(e)") }
        c.run("batch 1; train 2; check")
        XCTAssertEqual(c.session.runs[0].trainer.epochs.count, 2)
    }

    func testMemoryBudgetRefusesHugeNetworks() throws {
        let c = Captured()
        c.run("data synthetic 300")
        XCTAssertThrowsError(try c.session.execute("layers 784 100000 100000 10")) { e in
            XCTAssertTrue("\(e)".contains("GiB") && "\(e)".contains("budget"), "\(e)")
        }
        c.run("set memory 0.000001")
        XCTAssertThrowsError(try c.session.execute("layers 784 4096 10")) { e in XCTAssertTrue("\(e)".contains("budget"), "\(e)") }
        XCTAssertThrowsError(try c.session.execute("set memory 2")) { e in XCTAssertTrue("\(e)".contains("memory"), "\(e)") }
        c.run("set memory 0.5; layers 784 4096 10")
    }
}
