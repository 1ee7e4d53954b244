import Foundation
import XCTest
import ZIPFoundation
import PreflightData

final class NPZTests: XCTestCase {
    var dir: TempDir!
    override func setUp() { dir = TempDir("npz") }
    override func tearDown() { dir.cleanup() }

    /// A .npy file: version 1 unless `version` says otherwise; header padded to a multiple of 64 as NumPy does.
    static func npy(shape: [Int], data: [UInt8], descr: String = "|u1", fortran: Bool = false, version: UInt8 = 1) -> [UInt8] {
        let shapeText = "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shapeText), }"
        let prefix = version == 1 ? 10 : 12
        while (prefix + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let h = Array(header.utf8)
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        if version == 1 {
            out += [UInt8(h.count & 255), UInt8(h.count >> 8)]
        } else {
            out += [UInt8(h.count & 255), UInt8(h.count >> 8 & 255), UInt8(h.count >> 16 & 255), UInt8(h.count >> 24)]
        }
        return out + h + data
    }

    func writeNPZ(_ name: String, entries: [(String, [UInt8])], compressed: Bool = true) throws -> String {
        try Self.writeNPZ(in: dir, name, entries: entries, compressed: compressed)
    }

    static func writeNPZ(in dir: TempDir, _ name: String, entries: [(String, [UInt8])], compressed: Bool = true) throws -> String {
        let path = dir.sub(name)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        for (entryName, bytes) in entries {
            let data = Data(bytes)
            try archive.addEntry(with: entryName, type: .file, uncompressedSize: Int64(data.count),
                                 compressionMethod: compressed ? .deflate : .none) { position, size in
                data.subdata(in: Int(position)..<(Int(position) + size))
            }
        }
        return path
    }

    func goodEntries(train: Int = 12, test: Int = 4) -> [(String, [UInt8])] {
        [("x_train.npy", Self.npy(shape: [train, 28, 28], data: Fixtures.images(count: train))),
         ("y_train.npy", Self.npy(shape: [train], data: Fixtures.labels(count: train))),
         ("x_test.npy", Self.npy(shape: [test, 28, 28], data: Fixtures.images(count: test, seed: 3), version: 2)),
         ("y_test.npy", Self.npy(shape: [test], data: Fixtures.labels(count: test), descr: "<u1"))]
    }

    func testGoodNPZ() throws {
        let p = try writeNPZ("mnist.npz", entries: goodEntries())
        let d = try NPZ.readMNIST(path: p)
        XCTAssertEqual(d.train.count, 12)
        XCTAssertEqual(d.test.count, 4)
        XCTAssertEqual(d.rows, 28)
        XCTAssertEqual(d.classes, 10)
        XCTAssertEqual(d.train.images, Fixtures.images(count: 12))
        XCTAssertEqual(d.test.images, Fixtures.images(count: 4, seed: 3))
        XCTAssertEqual(d.test.labels, Fixtures.labels(count: 4).map(UInt16.init))
        // Through the loader, as a PATH and as the data folder's mnist.npz; stored (uncompressed) entries too.
        XCTAssertEqual(try DatasetLoader.load(p, dataDir: nil, cacheDir: dir.sub("cache"), syntheticCount: nil, seed: 0,
                                              allowDownload: false, progress: nil, searchPaths: isolatedPaths()).train, d.train)
        let stored = try writeNPZ("data/mnist.npz", entries: goodEntries(), compressed: false)
        let viaDataDir = try DatasetLoader.load("mnist", dataDir: dir.sub("data"), cacheDir: dir.sub("cache"), syntheticCount: nil,
                                                seed: 0, allowDownload: false, progress: nil, searchPaths: isolatedPaths())
        XCTAssertEqual(viaDataDir.source, stored)
        XCTAssertEqual(viaDataDir.name, "mnist")
        XCTAssertEqual(viaDataDir.test, d.test)
    }

    func testFlatImagesAndKerasCache() throws {
        let keras = dir.folder("keras")
        var entries = goodEntries()
        entries[0] = ("x_train.npy", Self.npy(shape: [12, 784], data: Fixtures.images(count: 12)))
        _ = try writeNPZ("keras/mnist.npz", entries: entries)
        let d = try DatasetLoader.load("mnist", dataDir: nil, cacheDir: dir.sub("cache"), syntheticCount: nil, seed: 0,
                                       allowDownload: false, progress: nil, searchPaths: isolatedPaths(keras: keras))
        XCTAssertEqual(d.rows, 28)
        XCTAssertEqual(d.source, keras + "/mnist.npz")
    }

    func testBrokenNPZ() throws {
        // Float images and Fortran order were refused before the reader was shared with `data X.npy Y.npy`; now
        // they load (float pictures as floats, Fortran order turned into C order).
        var e = goodEntries()
        e[0] = ("x_train.npy", Self.npy(shape: [12, 28, 28], data: leF32((0..<(12 * 784)).map { Float($0 % 255) }), descr: "<f4"))
        e[2] = ("x_test.npy", Self.npy(shape: [4, 28, 28], data: leF32([Float](repeating: 1, count: 4 * 784)), descr: "<f4"))
        let floats = try NPZ.readMNIST(path: try writeNPZ("floats.npz", entries: e))
        XCTAssertTrue(floats.isFloat)
        XCTAssertEqual(floats.features, 784)
        XCTAssertEqual(Array(floats.train.values.prefix(3)), [0, 1, 2])
        e = goodEntries()
        e[0] = ("x_train.npy", Self.npy(shape: [12, 28, 28], data: [UInt8](repeating: 0, count: 12 * 784 * 4), descr: "<f4"))
        let mixed = try writeNPZ("mixed.npz", entries: e)
        assertDataError(try NPZ.readMNIST(path: mixed), startsWith: mixed + " [x_test.npy]", contains: ["test features are uint8 but the training features are float32"])

        e = goodEntries()
        e.remove(at: 3)
        let missing = try writeNPZ("missing.npz", entries: e)
        assertDataError(try NPZ.readMNIST(path: missing), startsWith: missing, contains: ["missing entry y_test.npy", "x_train.npy"])

        e = goodEntries()
        e[1] = ("y_train.npy", Self.npy(shape: [12], data: Fixtures.labels(count: 11)))
        let short = try writeNPZ("short.npz", entries: e)
        assertDataError(try NPZ.readMNIST(path: short), startsWith: short + " [y_train.npy]", contains: ["declares shape (12,) of uint8, 12 bytes", "only 11 follow"])

        e = goodEntries()
        e[1] = ("y_train.npy", Self.npy(shape: [11], data: Fixtures.labels(count: 11)))
        let counts = try writeNPZ("counts.npz", entries: e)
        assertDataError(try NPZ.readMNIST(path: counts), startsWith: counts + " [y_train.npy]", contains: ["11 labels but", "[x_train.npy] has 12 samples"])

        e = goodEntries()
        e[1] = ("y_train.npy", Array("not numpy at all".utf8))
        let notNpy = try writeNPZ("notnpy.npz", entries: e)
        assertDataError(try NPZ.readMNIST(path: notNpy), startsWith: notNpy + " [y_train.npy]", contains: ["NUMPY"])

        e = goodEntries()
        e[3] = ("y_test.npy", Self.npy(shape: [4], data: [0, 1, 2, 11]))
        let range = try writeNPZ("range.npz", entries: e)
        XCTAssertEqual(try NPZ.readMNIST(path: range).classes, 12)
        assertDataError(try NPZ.readMNIST(path: range, classes: 10), startsWith: range + " [y_test.npy]", contains: ["index 3", "label 11 is out of range"])

        let garbage = dir.write("garbage.npz", Array("this is not a zip archive".utf8))
        assertDataError(try NPZ.readMNIST(path: garbage), startsWith: garbage, contains: ["not a valid .npz"])
        let empty = dir.write("empty.npz", [])
        assertDataError(try NPZ.readMNIST(path: empty), startsWith: empty, contains: ["empty"])
        let folder = dir.folder("folder.npz")
        assertDataError(try NPZ.readMNIST(path: folder), startsWith: folder, contains: ["is a directory"])
    }

    /// A byte changed inside an entry's data is caught by the entry's CRC (ZIPFoundation only computes it).
    func testAChangedByteFailsTheCRC() throws {
        let path = try writeNPZ("flip.npz", entries: goodEntries(), compressed: false)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // The first array's magic, then a pixel well inside its data.
        let magic = [0x93] + Array("NUMPY".utf8)
        let at = try XCTUnwrap((0..<(bytes.count - 6)).first { Array(bytes[$0..<($0 + 6)]) == magic })
        bytes[at + 128 + 100] ^= 0x01
        let flipped = dir.write("flipped.npz", bytes)
        assertDataError(try NPZ.readMNIST(path: flipped), startsWith: flipped, contains: ["x_train.npy", "CRC"])
        assertDataError(try NPZ.entries(path: flipped), startsWith: flipped, contains: ["x_train.npy", "CRC"])
    }

    /// Whole archives, as `save` writes and `load` reads them: stored entries in order, the same bytes for the same
    /// entries, and one clear error naming the file for each kind of broken file.
    func testWholeArchives() throws {
        let entries: [(name: String, data: [UInt8])] = [("session.json", Array("{}".utf8)),
                                                        ("run1/W1.npy", NPY.encode([1, 2, 3, 4], shape: [2, 2])),
                                                        ("empty.npy", [])]
        let bytes = try NPZ.archive(entries)
        XCTAssertEqual(try NPZ.archive(entries), bytes, "the same entries give the same bytes")
        let path = dir.write("whole.npz", bytes)
        let back = try NPZ.entries(path: path)
        XCTAssertEqual(back.map(\.name), entries.map(\.name))
        XCTAssertEqual(back.map(\.data), entries.map(\.data))
        // A deflated archive (numpy.savez_compressed) reads the same.
        let deflated = try writeNPZ("deflated.npz", entries: entries.map { ($0.name, $0.data) })
        XCTAssertEqual(try NPZ.entries(path: deflated).map(\.data), entries.map(\.data))

        let text = dir.write("text.npz", Array("data mnist\ntrain 1\n".utf8))
        assertDataError(try NPZ.entries(path: text, expected: "a saved session"), startsWith: text,
                        contains: ["not a saved session (not a ZIP archive)"])
        let empty = dir.write("empty.npz", [])
        assertDataError(try NPZ.entries(path: empty), startsWith: empty, contains: ["empty or truncated"])
        let half = dir.write("half.npz", Array(bytes.prefix(bytes.count / 2)))
        assertDataError(try NPZ.entries(path: half), startsWith: half, contains: ["truncated"])
        let missing = dir.sub("missing.npz")
        assertDataError(try NPZ.entries(path: missing), startsWith: missing, contains: ["no such file"])
    }

    func testNPYHeaderParsing() throws {
        func parse(_ bytes: [UInt8], _ name: String) throws -> NPYArray {
            let r = NPYReader(name: name, purpose: .values)
            try bytes.withUnsafeBytes { try r.feed($0) }
            return try r.finish()
        }
        let a = try parse(Self.npy(shape: [2, 3], data: [1, 2, 3, 4, 5, 6], version: 3), "a.npy")
        XCTAssertEqual(a.shape, [2, 3])
        guard case .bytes(let b) = a.data else { return XCTFail("uint8 features stay bytes") }
        XCTAssertEqual(b, [1, 2, 3, 4, 5, 6])
        var v9 = Self.npy(shape: [1], data: [1])
        v9[6] = 9
        assertDataError(try parse(v9, "v9.npy"), startsWith: "v9.npy", contains: ["version 9.0"])
        let extra = Self.npy(shape: [1], data: [1, 2])
        assertDataError(try parse(extra, "x.npy"), startsWith: "x.npy", contains: ["1+ unexpected trailing bytes"])
        // Fed a byte at a time, the same array.
        let f = Self.npy(shape: [3], data: leF64([1.5, -2, 1e300]), descr: "<f8")
        let r = NPYReader(name: "f", purpose: .values)
        for byte in f { try [byte].withUnsafeBytes { try r.feed($0) } }
        guard case .floats(let v) = try r.finish().data else { return XCTFail("float64 becomes float32") }
        XCTAssertEqual(v, [1.5, -2, .infinity])
        // The shell's session files: float32 written and read back by the same code.
        let enc = NPY.encode([0.25, -1, 3e-8], shape: [3, 1])
        XCTAssertEqual(enc.count % 64, 12 % 64, "header padded to 64 bytes, then 12 bytes of data")
        let dec = try NPY.decodeFloats(enc, name: "w.npy")
        XCTAssertEqual(dec.shape, [3, 1])
        XCTAssertEqual(dec.values, [0.25, -1, 3e-8])
    }
}
