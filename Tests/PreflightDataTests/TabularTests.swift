import Foundation
import XCTest
import ZIPFoundation
import PreflightData

/// Bytes of little-endian numbers, for .npy fixtures.
func le<T: FixedWidthInteger>(_ xs: [T]) -> [UInt8] { xs.flatMap { x in withUnsafeBytes(of: x.littleEndian) { Array($0) } } }
func leF64(_ xs: [Double]) -> [UInt8] { le(xs.map(\.bitPattern)) }
func leF32(_ xs: [Float]) -> [UInt8] { le(xs.map(\.bitPattern)) }

final class CSVTests: XCTestCase {
    var dir: TempDir!
    override func setUp() { dir = TempDir("csv") }
    override func tearDown() { dir.cleanup() }

    func csv(_ name: String, _ text: String) -> String { dir.write(name, Array(text.utf8)) }

    func load(_ path: String, _ o: CSVOptions = CSVOptions()) throws -> Dataset {
        try DatasetLoader.loadPath(path, options: FileOptions(csv: o))
    }

    func testHeaderTextLabelsSortedAndValuesExact() throws {
        let p = csv("pets.csv", "weight,height,kind\n4.5,30,dog\n3.25,25,cat\n-1e3,0.001,dog\n7,+2.5E2,bird\n")
        let d = try load(p)
        XCTAssertEqual(d.features, 2)
        XCTAssertFalse(d.isImage)
        XCTAssertTrue(d.isFloat)
        XCTAssertEqual(d.classes, 3)
        XCTAssertEqual(d.classNames, ["bird", "cat", "dog"])          // sorted, not in order of appearance
        XCTAssertEqual(d.featureNames, ["weight", "height"])
        XCTAssertEqual(d.train.labels, [2, 1, 2, 0])
        XCTAssertEqual(d.train.values, [4.5, 30, 3.25, 25, -1000, 0.001, 7, 250])
        XCTAssertEqual(d.test.count, 0, "a CSV has no test split of its own")
        XCTAssertEqual(d.name, p)
    }

    func testLabelColumnByNameNumberAndTheOtherOptions() throws {
        let text = "id;Class;x\n1;0;0.5\n2;1;1.5\n3;1;2.5\n"
        let p = csv("semi.txt", text)
        let byName = try load(p, CSVOptions(label: "class", delimiter: UInt8(ascii: ";")))   // case-insensitive when unique
        XCTAssertEqual(byName.train.values, [1, 0.5, 2, 1.5, 3, 2.5])
        XCTAssertEqual(byName.train.labels, [0, 1, 1])
        XCTAssertNil(byName.classNames)
        let byNumber = try load(p, CSVOptions(label: "2", delimiter: UInt8(ascii: ";")))
        XCTAssertEqual(byNumber.train, byName.train)
        assertDataError(try load(p, CSVOptions(label: "7", delimiter: UInt8(ascii: ";"))), startsWith: p, contains: ["--label 7", "columns 1-3"])
        assertDataError(try load(p, CSVOptions(label: "colour", delimiter: UInt8(ascii: ";"))), startsWith: p,
                        contains: ["--label colour: no such column", "id, Class, x"])
        // No header: the first line is data; a label name cannot be looked up.
        let bare = csv("bare.csv", "1,2,0\n3,4,1\n")
        let d = try load(bare, CSVOptions(header: false))
        XCTAssertEqual(d.train.count, 2)
        XCTAssertEqual(d.train.values, [1, 2, 3, 4])
        assertDataError(try load(bare, CSVOptions(label: "y", header: false)), startsWith: bare, contains: ["--no-header", "number"])
        // Without --no-header the numeric first line is taken as the header, and a note says so.
        let guessed = try load(bare)
        XCTAssertEqual(guessed.train.count, 1)
        XCTAssertTrue(guessed.notes.contains { $0.contains("--no-header") }, "\(guessed.notes)")
        // Tabs for .tsv; CRLF line ends, a byte-order mark, blank lines, quoted fields and spaces around fields.
        let tsv = dir.write("t.tsv", [0xEF, 0xBB, 0xBF] + Array("a\tb\tlabel\r\n\r\n 1\t\"2.5\"\t\"x, y\"\r\n3\t4\tz\r\n".utf8))
        let t = try load(tsv)
        XCTAssertEqual(t.featureNames, ["a", "b"])
        XCTAssertEqual(t.train.values, [1, 2.5, 3, 4])
        XCTAssertEqual(t.classNames, ["x, y", "z"])
    }

    func testIntegerLabelsFarOffAndEmptyClasses() throws {
        let gap = try load(csv("gap.csv", "x,y\n1,0\n2,2\n3,2.0\n"))
        XCTAssertEqual(gap.classes, 3)
        XCTAssertEqual(gap.train.labels, [0, 2, 2], "2.0 is the integer 2")
        XCTAssertTrue(gap.notes.contains { $0.contains("1 of 3 classes have no samples: 1") }, "\(gap.notes)")
        let far = try load(csv("far.csv", "x,y\n1,0\n2,1\n3,1\n4,99\n"))
        XCTAssertEqual(far.classes, 100)
        XCTAssertTrue(far.notes.contains { $0.contains("label 99 (1 sample) is far beyond the others (up to 1)") }, "\(far.notes)")
        let neg = csv("neg.csv", "x,y\n1,0\n2,-1\n")
        assertDataError(try load(neg), startsWith: neg, contains: ["line 3", "label -1 is negative"])
        let big = csv("big.csv", "x,y\n1,0\n2,1000\n")
        assertDataError(try load(big), startsWith: big, contains: ["line 3", "label 1000 is out of range", "at most 1000 classes"])
        let mixed = try load(csv("mixed.csv", "x,y\n1,10\n2,9\n3,a\n"))
        XCTAssertEqual(mixed.classNames, ["10", "9", "a"])
        XCTAssertTrue(mixed.notes.contains { $0.contains("labels mix numbers") })
        var many = "x,y\n"
        for i in 0..<1001 { many += "\(i),c\(i)\n" }
        let m = csv("many.csv", many)
        assertDataError(try load(m), startsWith: m, contains: ["1001 distinct labels", "at most 1000 classes"])
    }

    func testMissingCellsNameLineAndColumnOrAreDropped() throws {
        let p = csv("m.csv", "a,b,label\n1,2,x\n3,,y\n4,NA,x\n5,6,\n7,8,y\n")
        assertDataError(try load(p), startsWith: p, contains: ["line 3", "column 2 (b)", "missing value (empty)", "--drop-missing"])
        let d = try load(p, CSVOptions(dropMissing: true))
        XCTAssertEqual(d.train.count, 2)
        XCTAssertEqual(d.train.values, [1, 2, 7, 8])
        XCTAssertEqual(d.notes.first, "--drop-missing: dropped 3 rows with a missing value (the first at line 3); 2 remain")
        let all = csv("all.csv", "a,label\nNaN,x\n?,y\n")
        assertDataError(try load(all, CSVOptions(dropMissing: true)), startsWith: all, contains: ["every one of its 2 data rows has a missing value"])
        let label = csv("l.csv", "a,label\n1,x\n2,NA\n")
        assertDataError(try load(label), startsWith: label, contains: ["line 3", "column 2 (label)", "the label is missing"])
    }

    /// Every bad file gets one error that starts with the file's path and says where and what.
    func testBadFiles() throws {
        let cases: [(String, [UInt8], [String])] = [
            ("empty.csv", [], ["is empty (0 bytes)"]),
            ("blank.csv", Array("\n  \n\n".utf8), ["only blank lines"]),
            ("header.csv", Array("a,b,label\n".utf8), ["has a header row but no data rows"]),
            ("longer.csv", Array("a,b,label\n1,2,x\n1,2,3,x\n".utf8), ["line 3", "4 fields, but the header has 3"]),
            ("shorter.csv", Array("a,b,label\n1,2,x\n\n1,x\n".utf8), ["line 4", "2 fields, but the header has 3"]),
            ("word.csv", Array("a,b,label\n1,2,x\n1,two,x\n".utf8), ["line 3", "column 2 (b)", "'two' is not a number"]),
            ("inf.csv", Array("a,b,label\n1,inf,x\n".utf8), ["line 2", "column 2 (b)", "non-finite value 'inf'"]),
            ("huge.csv", Array("a,b,label\n1,1e39,x\n".utf8), ["line 2", "'1e39' is beyond the float range"]),
            ("quote.csv", Array("a,b,label\n1,\"2,x\n".utf8), ["line 2", "quoted field is not closed"]),
            ("onecol.csv", Array("a\n1\n".utf8), ["line 1 has 1 column", "--delimiter"]),
            ("nul.csv", Array("a,b\n1,".utf8) + [0, 1, 2], ["binary file", "NUL byte at offset 6"]),
            ("gz.csv", [0x1F, 0x8B, 8, 0, 0, 0], ["gzip-compressed"]),
        ]
        for (name, bytes, parts) in cases {
            let p = dir.write(name, bytes)
            assertDataError(try load(p), startsWith: p, contains: parts)
        }
        let folder = dir.folder("folder.csv")
        assertDataError(try load(folder), startsWith: folder, contains: ["is a directory"])
        let missing = dir.sub("nope.csv")
        assertDataError(try load(missing), startsWith: missing, contains: ["no such file"])
    }

    /// Reading in small pieces (lines cut across reads, blocks split for the two threads) gives the same data,
    /// and errors still name the right line.
    func testStreamingAcrossChunksAndThreads() throws {
        var text = "a,b,c,label\n"
        var expected: [Float] = []
        var labels: [UInt16] = []
        for i in 0..<6000 {
            let a = Float(i), b = Float(i % 97) / 8, c = -Float(i % 13) * 1.5
            text += "\(Int(a)),\(b),\(c),\(i % 3)\n"
            expected += [a, b, c]
            labels.append(UInt16(i % 3))
        }
        let p = csv("long.csv", text)
        for chunk in [1 << 20, 70_000, 4096, 37] {
            let d = try CSV.read(path: p, options: CSVOptions(), cancel: nil, chunkSize: chunk)
            XCTAssertEqual(d.train.count, 6000, "chunk \(chunk)")
            XCTAssertEqual(d.train.values, expected, "chunk \(chunk)")
            XCTAssertEqual(d.train.labels, labels, "chunk \(chunk)")
        }
        let bad = csv("bad.csv", text.replacingOccurrences(of: "\n5000,", with: "\nx5000,"))
        for chunk in [1 << 20, 70_000, 37] {
            assertDataError(try CSV.read(path: bad, options: CSVOptions(), cancel: nil, chunkSize: chunk), startsWith: bad,
                            contains: ["line 5002: column 1 (a): 'x5000' is not a number"])
        }
        // A cancel request stops the read with an error naming the file.
        assertDataError(try CSV.read(path: p, options: CSVOptions(), cancel: { true }, chunkSize: 4096), startsWith: p, contains: ["interrupted"])
    }
}

final class ArrayDataTests: XCTestCase {
    var dir: TempDir!
    override func setUp() { dir = TempDir("npy") }
    override func tearDown() { dir.cleanup() }

    func npy(_ name: String, shape: [Int], _ data: [UInt8], descr: String, fortran: Bool = false) -> String {
        dir.write(name, NPZTests.npy(shape: shape, data: data, descr: descr, fortran: fortran))
    }

    func testPairOfNPYFiles() throws {
        let x = npy("x.npy", shape: [4, 3], leF64([0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11.25]), descr: "<f8")
        let y = npy("y.npy", shape: [4], le([Int64(1), 0, 1, 2]), descr: "<i8")
        let d = try DatasetLoader.loadPath(x, options: FileOptions(labelsPath: y))
        XCTAssertEqual(d.features, 3)
        XCTAssertFalse(d.isImage)
        XCTAssertEqual(d.train.values, [0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11.25])
        XCTAssertEqual(d.train.labels, [1, 0, 1, 2])
        XCTAssertEqual(d.classes, 3)
        XCTAssertEqual(d.test.count, 0)
        // Text labels (NumPy's '<U5'), sorted into classes.
        func utf32(_ s: [String], width: Int) -> [UInt8] {
            s.flatMap { w -> [UInt8] in
                let scalars = w.unicodeScalars.map { $0.value } + [UInt32](repeating: 0, count: width - w.unicodeScalars.count)
                return le(scalars)
            }
        }
        let names = npy("names.npy", shape: [4], utf32(["zebra", "ant", "zebra", "émeu"], width: 5), descr: "<U5")
        let t = try NPZ.readPair(x: x, y: names)
        XCTAssertEqual(t.classNames, ["ant", "zebra", "émeu"])
        XCTAssertEqual(t.train.labels, [1, 0, 1, 2])
        // An .npy needs its labels file.
        assertDataError(try DatasetLoader.loadPath(x), startsWith: x, contains: ["data X.npy Y.npy"])
    }

    func testDtypesShapesAndFortranOrder() throws {
        let y = npy("y.npy", shape: [2], [1, 0], descr: "|b1")
        func values(_ name: String, shape: [Int], _ data: [UInt8], _ descr: String, fortran: Bool = false) throws -> Dataset {
            try NPZ.readPair(x: npy(name, shape: shape, data, descr: descr, fortran: fortran), y: y)
        }
        XCTAssertEqual(try values("f4.npy", shape: [2, 2], leF32([1.5, -2, 3, 4]), "<f4").train.values, [1.5, -2, 3, 4])
        XCTAssertEqual(try values("bf4.npy", shape: [2, 2], leF32([1.5, -2, 3, 4]).chunked4.flatMap { $0.reversed() }, ">f4").train.values,
                       [1.5, -2, 3, 4])
        XCTAssertEqual(try values("f2.npy", shape: [2, 1], le([UInt16(0x3E00), 0xC000]), "<f2").train.values, [1.5, -2])
        XCTAssertEqual(try values("i2.npy", shape: [2, 2], le([Int16(-300), 7, 0, 32767]), "<i2").train.values, [-300, 7, 0, 32767])
        XCTAssertEqual(try values("u4.npy", shape: [2, 1], le([UInt32(4_000_000), 1]), "<u4").train.values, [4_000_000, 1])
        // Any sample shape is flattened: (2, 2, 3) is 2 samples of 6 features.
        let cube = try values("cube.npy", shape: [2, 2, 3], leF64((0..<12).map(Double.init)), "<f8")
        XCTAssertEqual(cube.features, 6)
        XCTAssertEqual(cube.train.values, (0..<12).map(Float.init))
        // Fortran order (what np.save writes for a column-major array, e.g. a pandas frame's .values): stored
        // column after column, read back row after row.
        let f = try values("fortran.npy", shape: [2, 3], leF64([1, 4, 2, 5, 3, 6]), "<f8", fortran: true)
        XCTAssertEqual(f.train.values, [1, 2, 3, 4, 5, 6])
        // Bool labels are classes 0 and 1.
        XCTAssertEqual(f.train.labels, [1, 0])
        // uint8 pictures stay bytes.
        let pics = try values("pics.npy", shape: [2, 3, 4], (0..<24).map(UInt8.init), "|u1")
        XCTAssertTrue(pics.isImage)
        XCTAssertFalse(pics.isFloat)
        XCTAssertEqual(pics.rows, 3)
        XCTAssertEqual(pics.train.images, (0..<24).map(UInt8.init))
    }

    func testBadArrays() throws {
        let y2 = npy("y2.npy", shape: [2], le([Int64(0), 1]), descr: "<i8")
        let cases: [(String, [UInt8], String, [String])] = [
            ("object.npy", [0, 0], "|O", ["holds Python objects"]),
            ("complex.npy", [UInt8](repeating: 0, count: 32), "<c16", ["dtype '<c16' is not supported"]),
            ("text.npy", [UInt8](repeating: 65, count: 2), "|S1", ["features must be numbers"]),
        ]
        for (name, bytes, descr, parts) in cases {
            let p = npy(name, shape: [2, 1], bytes, descr: descr)
            assertDataError(try NPZ.readPair(x: p, y: y2), startsWith: p, contains: parts)
        }
        // A header that declares far more than the file holds: refused before anything is allocated.
        let huge = npy("huge.npy", shape: [100_000_000, 10], [0, 0, 0, 0], descr: "<f4")
        assertDataError(try NPZ.readPair(x: huge, y: y2), startsWith: huge, contains: ["declares shape (100000000, 10) of float32, 4000000000 bytes", "only 4 follow"])
        let absurd = npy("absurd.npy", shape: [1 << 40, 1 << 20], [], descr: "<f8")
        assertDataError(try NPZ.readPair(x: absurd, y: y2), startsWith: absurd, contains: ["implausible shape"])
        let short = npy("short.npy", shape: [2, 2], leF64([1, 2, 3]), descr: "<f8")
        assertDataError(try NPZ.readPair(x: short, y: y2), startsWith: short, contains: ["32 bytes", "only 24 follow"])
        let nan = npy("nan.npy", shape: [2, 3], leF64([1, 2, 3, 4, .nan, .infinity]), descr: "<f8")
        assertDataError(try NPZ.readPair(x: nan, y: y2), startsWith: nan, contains: ["non-finite value nan at sample 1", "feature 2", "2 non-finite values"])
        let x = npy("x.npy", shape: [2, 1], leF64([1, 2]), descr: "<f8")
        let frac = npy("frac.npy", shape: [2], leF64([0, 0.5]), descr: "<f8")
        assertDataError(try NPZ.readPair(x: x, y: frac), startsWith: frac, contains: ["index 1 is not a whole number"])
        let onehot = npy("onehot.npy", shape: [2, 3], leF64([1, 0, 0, 0, 1, 0]), descr: "<f8")
        assertDataError(try NPZ.readPair(x: x, y: onehot), startsWith: onehot, contains: ["one-hot", "argmax"])
        let three = npy("three.npy", shape: [3], le([Int64(0), 1, 1]), descr: "<i8")
        assertDataError(try NPZ.readPair(x: x, y: three), startsWith: three, contains: ["3 labels but", "has 2 samples"])
        let folder = dir.folder("dir.npy")
        assertDataError(try NPZ.readPair(x: folder, y: y2), startsWith: folder, contains: ["is a directory"])
        let empty = dir.write("empty.npy", [])
        assertDataError(try NPZ.readPair(x: empty, y: y2), startsWith: empty, contains: ["empty"])
        let notNPY = dir.write("not.npy", Array("hello, world".utf8))
        assertDataError(try NPZ.readPair(x: notNPY, y: y2), startsWith: notNPY, contains: ["NUMPY magic"])
    }

    func testAnyNPZWithChosenKeys() throws {
        let x = NPZTests.npy(shape: [3, 2], data: leF32([1, 2, 3, 4, 5, 6]), descr: "<f4")
        let y = NPZTests.npy(shape: [3], data: le([Int32(0), 1, 0]), descr: "<i4")
        let p = try NPZTests.writeNPZ(in: dir, "table.npz", entries: [("features.npy", x), ("target.npy", y)])
        assertDataError(try NPZ.read(path: p), startsWith: p, contains: ["missing entry x_train.npy", "features.npy, target.npy", "--x KEY --y KEY"])
        let d = try NPZ.read(path: p, x: "features", y: "target")
        XCTAssertEqual(d.train.values, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(d.train.labels, [0, 1, 0])
        XCTAssertEqual(d.test.count, 0)
        assertDataError(try NPZ.read(path: p, x: "features", y: "nope"), startsWith: p, contains: ["missing entry nope.npy"])
        // Test arrays must match the training features.
        let wide = NPZTests.npy(shape: [1, 3], data: leF32([1, 2, 3]), descr: "<f4")
        let yt = NPZTests.npy(shape: [1], data: le([Int32(1)]), descr: "<i4")
        let q = try NPZTests.writeNPZ(in: dir, "split.npz", entries: [("x_train.npy", x), ("y_train.npy", y), ("x_test.npy", wide), ("y_test.npy", yt)])
        assertDataError(try NPZ.read(path: q), startsWith: q + " [x_test.npy]", contains: ["test samples have 3 features", "training samples have 2"])
    }
}

final class SplitAndScaleTests: XCTestCase {
    /// A dataset whose feature 0 is the sample's index, so rows can be traced through the split.
    func indexed(_ labels: [UInt16], classes: Int) -> Dataset {
        let n = labels.count
        let values = (0..<n).flatMap { [Float($0), Float($0 % 7)] }
        var d = Dataset(name: "t", source: "t", rows: 1, cols: 2, classes: classes,
                        train: DataSplit(values: values, labels: labels, count: n), test: DataSplit(values: [], labels: [], count: 0))
        d.isImage = false
        return d
    }

    func testSplitIsStratifiedOrderedAndDeterministic() {
        let labels: [UInt16] = Array(repeating: 0, count: 50) + Array(repeating: 1, count: 30) + Array(repeating: 2, count: 20) + [3]
        var shuffled = labels
        var g = SplitMix64(seed: 9)
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, g.below(i + 1)) }
        var d = indexed(shuffled, classes: 4)
        Tabular.split(&d, fraction: 0.2, seed: 1)
        XCTAssertEqual(d.test.labelCounts(classes: 4), [10, 6, 4, 0], "a fifth of each class; a lone sample stays in training")
        XCTAssertEqual(d.train.labelCounts(classes: 4), [40, 24, 16, 1])
        XCTAssertEqual(d.train.count + d.test.count, 101)
        let trainIdx = stride(from: 0, to: d.train.values.count, by: 2).map { Int(d.train.values[$0]) }
        let testIdx = stride(from: 0, to: d.test.values.count, by: 2).map { Int(d.test.values[$0]) }
        XCTAssertEqual(trainIdx, trainIdx.sorted(), "the training split keeps the file's order")
        XCTAssertEqual(testIdx, testIdx.sorted(), "the test split keeps the file's order")
        XCTAssertEqual(Set(trainIdx).union(testIdx), Set(0..<101), "every sample lands in exactly one split")
        for (k, i) in trainIdx.enumerated() {
            XCTAssertEqual(d.train.labels[k], shuffled[i]); XCTAssertEqual(d.train.values[2 * k + 1], Float(i % 7))
        }
        for (k, i) in testIdx.enumerated() { XCTAssertEqual(d.test.labels[k], shuffled[i]) }
        // Same seed, same split; another seed, another.
        var again = indexed(shuffled, classes: 4)
        Tabular.split(&again, fraction: 0.2, seed: 1)
        XCTAssertEqual(again, d)
        var other = indexed(shuffled, classes: 4)
        Tabular.split(&other, fraction: 0.2, seed: 2)
        XCTAssertNotEqual(other.test.values, d.test.values)
        XCTAssertEqual(other.test.labelCounts(classes: 4), [10, 6, 4, 0])
    }

    func testStandardisationUsesTrainingStatisticsOnly() {
        // Feature 0: train 1, 2, 3, 4 (mean 2.5, std √1.25); feature 1 constant 7 in training.
        // The test samples are far off, and would give different numbers if their own statistics were used.
        let train = DataSplit(values: [1, 7, 2, 7, 3, 7, 4, 7], labels: [0, 1, 0, 1], count: 4)
        let test = DataSplit(values: [100, 9, -50, 5], labels: [0, 1], count: 2)
        var d = Dataset(name: "s", source: "s", rows: 1, cols: 2, classes: 2, train: train, test: test)
        d.isImage = false
        let stats = FeatureStats(d.train, features: 2)
        XCTAssertEqual(stats.mean[0], 2.5, accuracy: 1e-12)
        XCTAssertEqual(stats.std[0], 1.25.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(stats.constant, [1])
        var s = d
        let range = Tabular.scale(&s, mode: .standard, stats: stats)
        XCTAssertEqual(range, s.train.values.min()!...s.train.values.max()!, "the range from the statistics is the scanned one")
        let sd = Float(1.25.squareRoot())
        let expectTrain: [Float] = [(1 - 2.5) / sd, 0, (2 - 2.5) / sd, 0, (3 - 2.5) / sd, 0, (4 - 2.5) / sd, 0]
        for (a, b) in zip(s.train.values, expectTrain) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        let expectTest: [Float] = [(100 - 2.5) / sd, 0, (-50 - 2.5) / sd, 0]
        for (a, b) in zip(s.test.values, expectTest) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        // unit: the training range maps to [0, 1]; test values may fall outside it.
        var u = d
        Tabular.scale(&u, mode: .unit, stats: stats)
        XCTAssertEqual(u.train.values, [0, 0, 1 / 3, 0, 2 / 3, 0, 1, 0])
        XCTAssertEqual(u.test.values[0], 33, accuracy: 1e-5)
        XCTAssertEqual(u.test.values[2], -17, accuracy: 1e-5)
        // Bytes standardised become floats; unit bytes stay bytes (the engine divides by 255).
        var b = Dataset(name: "b", source: "b", rows: 1, cols: 1, classes: 2,
                        train: DataSplit(images: [0, 10, 20, 30], labels: [UInt16]([0, 1, 0, 1]), count: 4),
                        test: DataSplit(images: [40], labels: [UInt16]([1]), count: 1))
        let bs = FeatureStats(b.train, features: 1)
        var bu = b
        Tabular.scale(&bu, mode: .unit, stats: bs)
        XCTAssertEqual(bu, b)
        Tabular.scale(&b, mode: .standard, stats: bs)
        XCTAssertTrue(b.isFloat)
        XCTAssertEqual(b.test.values[0], Float((40 - 15) / (125.0).squareRoot()), accuracy: 1e-6)
    }

    func testStatisticsSurviveALargeOffset() {
        let n = 1000
        let values = (0..<n).map { Float(1e6) + Float($0 % 2) }   // 1e6 and 1e6 + 1: std 0.5
        let stats = FeatureStats(DataSplit(values: values, labels: [UInt16](repeating: 0, count: n), count: n), features: 1)
        XCTAssertEqual(stats.std[0], 0.5, accuracy: 1e-9)
        XCTAssertEqual(stats.mean[0], 1e6 + 0.5, accuracy: 1e-6)
    }
}

private extension Array where Element == UInt8 {
    var chunked4: [[UInt8]] { stride(from: 0, to: count, by: 4).map { Array(self[$0..<($0 + 4)]) } }
}
