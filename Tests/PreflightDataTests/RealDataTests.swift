import Foundation
import XCTest
import PreflightData

/// Real MNIST from $PREFLIGHT_DATA/mnist and Fashion-MNIST from Debian's package, when present.
final class RealDataTests: XCTestCase {
    static var mnistFolder: String? {
        guard let root = ProcessInfo.processInfo.environment["PREFLIGHT_DATA"], !root.isEmpty else { return nil }
        let folder = (root as NSString).appendingPathComponent("mnist")
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) && isDir.boolValue ? folder : nil
    }

    static let debianFashion = "/usr/share/datasets/fashion-mnist"
    static var hasDebianFashion: Bool { FileManager.default.fileExists(atPath: debianFashion + "/train-images-idx3-ubyte.gz") }

    func testRealMNIST() throws {
        guard let folder = Self.mnistFolder else {
            throw XCTSkip("needs MNIST itself: set PREFLIGHT_DATA to a folder holding mnist/ with the four IDX files")
        }
        let root = (folder as NSString).deletingLastPathComponent
        let cache = TempDir("mnist-cache"); defer { cache.cleanup() }
        let start = Date()
        let d = try DatasetLoader.load("mnist", dataDir: root, cacheDir: cache.path, syntheticCount: nil, seed: 0,
                                       allowDownload: false, progress: nil, searchPaths: isolatedPaths())
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "MNIST load time (4 files, gz, 60000+10000 images): %.1f ms", seconds * 1000))
        XCTAssertEqual(d.name, "mnist")
        XCTAssertEqual(d.source, folder)
        XCTAssertEqual(d.train.count, 60000)
        XCTAssertEqual(d.test.count, 10000)
        XCTAssertEqual(d.rows, 28)
        XCTAssertEqual(d.cols, 28)
        XCTAssertEqual(d.classes, 10)
        XCTAssertEqual(d.train.images.count, 60000 * 784)
        XCTAssertEqual(d.train.labelCounts(classes: 10), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        XCTAssertEqual(d.test.labelCounts(classes: 10), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        XCTAssertEqual(d.train.images.max(), 255)
        // The decompressed files' published SHA-256 (header + data) match.
        let header: [UInt8] = [0, 0, 8, 3, 0, 0, 0xEA, 0x60, 0, 0, 0, 28, 0, 0, 0, 28]
        XCTAssertEqual(SHA256.hex(header + d.train.images), "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db")
        print("MNIST loaded in \(Int(seconds * 1000)) ms (the target, < 300 ms, is measured by scripts/bench)")
        // The .gz files are the well-known ones.
        for file in RemoteDataset.mnist.files {
            XCTAssertEqual(try SHA256.hexOfFile(path: (folder as NSString).appendingPathComponent(file.name)), file.sha256, file.name)
        }
    }

    /// A real gz file (MNIST's, else Debian's Fashion-MNIST: any large deflate stream will do) corrupted midway.
    func testRealDataCorruptedMidway() throws {
        guard let folder = Self.mnistFolder ?? (Self.hasDebianFashion ? Self.debianFashion : nil) else {
            throw XCTSkip("needs MNIST ($PREFLIGHT_DATA) or Debian's dataset-fashion-mnist (scripts/setup installs it)")
        }
        let dir = TempDir("corrupt"); defer { dir.cleanup() }
        var gz = try FileBytesForTests.read((folder as NSString).appendingPathComponent("t10k-images-idx3-ubyte.gz"))
        for i in stride(from: gz.count / 2, to: gz.count / 2 + 64, by: 1) { gz[i] ^= 0x5A }
        let p = dir.write("t10k-images-idx3-ubyte.gz", gz)
        assertDataError(try IDX.read(path: p), startsWith: p, contains: ["corrupt compressed data", "zlib"])
    }

    func testDebianFashionMNIST() throws {
        let system = Self.debianFashion
        guard Self.hasDebianFashion else {
            throw XCTSkip("Debian's dataset-fashion-mnist is not installed (scripts/setup installs it)")
        }
        let cache = TempDir("fashion-cache"); defer { cache.cleanup() }
        let start = Date()
        let d = try DatasetLoader.load("fashion", dataDir: nil, cacheDir: cache.path, syntheticCount: nil, seed: 0,
                                       allowDownload: false, progress: nil, searchPaths: isolatedPaths(system: [system]))
        print(String(format: "Fashion-MNIST load time: %.1f ms", Date().timeIntervalSince(start) * 1000))
        XCTAssertEqual(d.name, "fashion")
        XCTAssertEqual(d.source, system)
        XCTAssertEqual(d.train.count, 60000)
        XCTAssertEqual(d.test.count, 10000)
        XCTAssertEqual(d.classes, 10)
        XCTAssertEqual(d.train.labelCounts(classes: 10), [Int](repeating: 6000, count: 10))
        XCTAssertEqual(d.test.labelCounts(classes: 10), [Int](repeating: 1000, count: 10))
    }
}

enum FileBytesForTests {
    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError(path: path, "unreadable") }
        return [UInt8](data)
    }
}
