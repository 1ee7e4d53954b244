import Foundation
import XCTest
import PreflightData

final class IDXTests: XCTestCase {
    var dir: TempDir!
    override func setUp() { dir = TempDir("idx") }
    override func tearDown() { dir.cleanup() }

    func testRawAndGzipReadTheSame() throws {
        let content = Fixtures.idx(dims: [3, 28, 28], data: Fixtures.images(count: 3))
        let raw = dir.write("a-idx3-ubyte", content)
        let gz = dir.write("a-idx3-ubyte.gz", GzipWriter.gzip(content, blockSize: 1000))
        let r = try IDX.read(path: raw)
        let g = try IDX.read(path: gz)
        XCTAssertEqual(r.dims, [3, 28, 28])
        XCTAssertEqual(r.bytes, Fixtures.images(count: 3))
        XCTAssertEqual(g.dims, r.dims)
        XCTAssertEqual(g.bytes, r.bytes)
        XCTAssertEqual(try Gzip.decompressFile(path: gz), content)
        let labels = try IDX.read(path: dir.write("l", Fixtures.idx(dims: [5], data: [0, 1, 2, 3, 9])))
        XCTAssertEqual(labels.dims, [5])
        XCTAssertEqual(labels.bytes, [0, 1, 2, 3, 9])
    }

    func testConcatenatedGzipMembers() throws {
        let content = Fixtures.idx(dims: [4], data: [1, 2, 3, 4])
        let p = dir.write("two.gz", GzipWriter.gzip(Array(content[0..<6])) + GzipWriter.gzip(Array(content[6...])))
        XCTAssertEqual(try IDX.read(path: p).bytes, [1, 2, 3, 4])
    }

    func testEmptyFile() {
        let p = dir.write("empty", [])
        assertDataError(try IDX.read(path: p), startsWith: p, contains: ["empty"])
    }

    func testMissingFileAndDirectory() {
        let missing = dir.sub("nope")
        assertDataError(try IDX.read(path: missing), startsWith: missing, contains: ["no such file"])
        let folder = dir.folder("adir")
        assertDataError(try IDX.read(path: folder), startsWith: folder, contains: ["is a directory"])
    }

    func testUnreadableFile() throws {
        guard getuid() != 0 else { print("SKIPPED: running as root, permissions are not enforced"); return }
        let p = dir.write("locked", Fixtures.idx(dims: [1], data: [1]))
        chmod(p, 0)
        assertDataError(try IDX.read(path: p), startsWith: p, contains: ["permission denied"])
    }

    func testWrongMagic() {
        let p = dir.write("bad", [0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 5])
        assertDataError(try IDX.read(path: p), startsWith: p, contains: ["not an IDX file", "12 34 08 01"])
        let f = dir.write("float", Fixtures.idx(dims: [1], data: [0, 0, 0, 0], type: 0x0D))
        assertDataError(try IDX.read(path: f), startsWith: f, contains: ["0x0d", "float", "only unsigned bytes"])
        let z = dir.write("zero", [0, 0, 8, 0])
        assertDataError(try IDX.read(path: z), startsWith: z, contains: ["0 dimensions"])
    }

    func testTruncatedHeader() {
        let p = dir.write("short", [0, 0, 8])
        assertDataError(try IDX.read(path: p), startsWith: p, contains: ["truncated", "3 bytes"])
        let q = dir.write("shortdims", [0, 0, 8, 3, 0, 0, 0, 5, 0, 0])
        assertDataError(try IDX.read(path: q), startsWith: q, contains: ["truncated in the header", "16 header bytes"])
        let g = dir.write("shortdims.gz", GzipWriter.gzip([0, 0, 8, 3, 0, 0, 0, 5, 0, 0]))
        assertDataError(try IDX.read(path: g), startsWith: g, contains: ["truncated in the header", "decompressed data"])
    }

    func testTruncatedData() {
        let content = Fixtures.idx(dims: [60000, 28, 28], data: Fixtures.images(count: 2))
        let p = dir.write("trunc", content)
        assertDataError(try IDX.read(path: p), startsWith: p,
                        contains: ["truncated: header says 60000 images of 28x28 (47040000 bytes) but the file has only 1568"])
        let g = dir.write("trunc.gz", GzipWriter.gzip(content))
        assertDataError(try IDX.read(path: g), startsWith: g, contains: ["truncated", "60000 images of 28x28"])
        let l = dir.write("labels", Fixtures.idx(dims: [10], data: [1, 2, 3]))
        assertDataError(try IDX.read(path: l), startsWith: l, contains: ["10 labels (10 bytes)", "only 3"])
    }

    func testTrailingBytes() {
        let content = Fixtures.idx(dims: [2], data: [1, 2, 7, 7, 7])
        let p = dir.write("trail", content)
        assertDataError(try IDX.read(path: p), startsWith: p, contains: ["3 unexpected trailing bytes"])
        let g = dir.write("trail.gz", GzipWriter.gzip(content))
        assertDataError(try IDX.read(path: g), startsWith: g, contains: ["3 unexpected trailing bytes"])
        let junk = dir.write("junk.gz", GzipWriter.gzip(Fixtures.idx(dims: [2], data: [1, 2])) + [0x41, 0x42])
        assertDataError(try IDX.read(path: junk), startsWith: junk, contains: ["unexpected bytes after the end of the compressed data"])
    }

    func testGzipCorruptedMidway() {
        let content = Fixtures.idx(dims: [20, 28, 28], data: Fixtures.images(count: 20))
        var gz = GzipWriter.gzip(content, blockSize: 4096)
        gz[gz.count / 2] ^= 0xFF       // inside a stored block: the CRC check catches it
        let p = dir.write("crc.gz", gz)
        assertDataError(try IDX.read(path: p), startsWith: p, contains: ["corrupt compressed data", "zlib"])
        var gz2 = GzipWriter.gzip(content, blockSize: 4096)
        gz2[10 + 5 + 4096] = 0x07      // a block header turned into the reserved block type
        let q = dir.write("blocktype.gz", gz2)
        assertDataError(try IDX.read(path: q), startsWith: q, contains: ["corrupt compressed data"])
        let cut = dir.write("cut.gz", Array(GzipWriter.gzip(content)[0..<3000]))
        assertDataError(try IDX.read(path: cut), startsWith: cut, contains: ["truncated"])
        assertDataError(try Gzip.decompressFile(path: cut), startsWith: cut, contains: ["ends early"])
        let notGz = dir.write("plain", content)
        assertDataError(try Gzip.decompressFile(path: notGz), startsWith: notGz, contains: ["not gzip"])
    }
}
