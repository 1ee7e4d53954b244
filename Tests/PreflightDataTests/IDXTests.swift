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
        if getuid() != 0 {
            let p = dir.write("locked", Fixtures.idx(dims: [1], data: [1]))
            chmod(p, 0)
            assertDataError(try IDX.read(path: p), startsWith: p, contains: ["permission denied"])
            return
        }
        // As root, permissions bind only once the filesystem user is not root: a thread of our own reads as
        // `nobody` (setfsuid is per thread and drops the DAC override capabilities while the id is not 0). Its
        // folder must be one `nobody` can enter, so not the suite's private TMPDIR.
        var template = Array("/tmp/preflight-perm-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { return XCTFail("mkdtemp: \(String(cString: strerror(errno)))") }
        let folder = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        chmod(folder, 0o755)
        let bytes = Fixtures.idx(dims: [1], data: [1])
        let locked = folder + "/locked", open = folder + "/open"
        XCTAssertTrue(FileManager.default.createFile(atPath: locked, contents: Data(bytes)))
        XCTAssertTrue(FileManager.default.createFile(atPath: open, contents: Data(bytes)))
        chmod(locked, 0)
        chmod(open, 0o644)
        let results = try readAsNobody([locked, open])
        XCTAssertTrue(results.fsuidChanged, "setfsuid(nobody) did not take")
        assertDataError(try results.outcomes[0].get(), startsWith: locked, contains: ["permission denied"])
        XCTAssertEqual(try results.outcomes[1].get().bytes, [1], "the same thread reads a readable file beside it")
        // Back on the test's own thread, root reads the locked file: the failure above was the permission.
        XCTAssertEqual(try IDX.read(path: locked).bytes, [1])
    }

    /// Reads each path with IDX.read on a new thread whose filesystem user id is `nobody` (65534).
    private func readAsNobody(_ paths: [String]) throws -> (fsuidChanged: Bool, outcomes: [Result<(dims: [Int], bytes: [UInt8]), Error>]) {
        typealias SetFSUID = @convention(c) (UInt32) -> Int32
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setfsuid") else { throw XCTSkip("libc has no setfsuid") }
        let setfsuid = unsafeBitCast(sym, to: SetFSUID.self)
        final class Box: @unchecked Sendable { var changed = false; var outcomes: [Result<(dims: [Int], bytes: [UInt8]), Error>] = [] }
        let box = Box(), done = DispatchSemaphore(value: 0)
        let t = Thread {
            let old = setfsuid(65534)
            box.changed = setfsuid(65534) == 65534   // the call returns the previous id
            for p in paths { box.outcomes.append(Result { try IDX.read(path: p) }) }
            _ = setfsuid(UInt32(bitPattern: old))
            done.signal()
        }
        t.start()
        done.wait()
        return (box.changed, box.outcomes)
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
