import Foundation
import XCTest
import PreflightData

/// Inputs found by the fuzz targets (Fuzz/, scripts/fuzz), replayed in the normal suite. Each file in
/// Tests/FuzzReproducers/ is the fuzzer's input byte for byte; the comment says what went wrong before the fix.
final class FuzzRegressionTests: XCTestCase {
    static let reproducers = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzReproducers")

    func reproducer(_ name: String) throws -> [UInt8] {
        let url = Self.reproducers.appendingPathComponent(name)
        return Array(try Data(contentsOf: url))
    }

    var dir: TempDir!
    override func setUp() { dir = TempDir("fuzz") }
    override func tearDown() { dir.cleanup() }

    /// fuzz-idx, out-of-memory: a 57-byte file whose header declares 4294967295 labels made IDX.read allocate
    /// 4 GiB before reading (16 GiB for a header at the 2^34-byte limit), which kills the process where memory
    /// is short. The reader now allocates no more than the file (or, for gzip, 1032 times the compressed size)
    /// can hold, and the error is unchanged.
    func testHeaderDeclaringGigabytesIsTruncatedWithoutAllocatingThem() throws {
        let bytes = try reproducer("idx-huge-dims-oom")
        XCTAssertEqual(bytes.count, 57)
        let raw = dir.write("train-labels-idx1-ubyte", bytes)
        assertDataError(try IDX.read(path: raw), startsWith: raw + ": truncated",
                        contains: ["4294967295 labels (4294967295 bytes)", "the file has only 49 after the 8-byte header"])
        let gz = dir.write("train-labels-idx1-ubyte.gz", GzipWriter.gzip(bytes))
        assertDataError(try IDX.read(path: gz), startsWith: gz + ": truncated",
                        contains: ["4294967295 labels", "the decompressed data has only 49 after the 8-byte header"])
        // Above the reader's 2^34-byte limit: refused from the header alone; at the limit: 16 GiB declared by a
        // 16-byte file, which is truncated.
        var huge: [UInt8] = [0, 0, 8, 2, 0, 4, 0, 0, 0, 4, 0, 0]   // 262144 x 262144 = 2^36 > limit
        let tooBig = dir.write("too-big-idx", huge)
        assertDataError(try IDX.read(path: tooBig), startsWith: tooBig, contains: ["implausible dimensions"])
        huge = [0, 0, 8, 2, 0, 2, 0, 0, 0, 2, 0, 0, 1, 2, 3, 4]    // 131072 x 131072 = 2^34, 4 bytes present
        let atLimit = dir.write("at-limit-idx", huge)
        assertDataError(try IDX.read(path: atLimit), startsWith: atLimit + ": truncated",
                        contains: ["(17179869184 bytes)", "has only 4 after the 12-byte header"])
    }

    /// A valid file is still read completely, raw and gzip (the bound is never below the real size).
    func testExactFilesStillRead() throws {
        let data = Fixtures.images(count: 3, rows: 4, cols: 4)
        let bytes = Fixtures.idx(dims: [3, 4, 4], data: data)
        for (name, content) in [("raw-idx", bytes), ("gz-idx.gz", GzipWriter.gzip(bytes)), ("one-block.gz", GzipWriter.gzip(bytes, blockSize: 7))] {
            let p = dir.write(name, content)
            let r = try IDX.read(path: p)
            XCTAssertEqual(r.dims, [3, 4, 4], name)
            XCTAssertEqual(r.bytes, data, name)
        }
    }

    /// fuzz-npz, out-of-memory: a 1155-byte .npz whose x_train.npy entry declares a 16 GiB uncompressed size
    /// (a ZIP64 field) made NPZ.readMNIST reserve 16 GiB before extracting. The reservation is now bounded by
    /// what the file can expand to; the archive is rejected with an error naming it.
    func testNpzEntryDeclaringGigabytesIsRejectedWithoutReservingThem() throws {
        let bytes = try reproducer("npz-huge-declared-size-oom")
        XCTAssertEqual(bytes.count, 1155)
        let path = dir.write("mnist.npz", bytes)
        do {
            _ = try NPZ.readMNIST(path: path)
            XCTFail("expected a DataError")
        } catch let e as DataError {
            XCTAssertTrue(e.description.hasPrefix(path), e.description)
            XCTAssertFalse(e.description.contains("\n"), e.description)
        }
    }
}

