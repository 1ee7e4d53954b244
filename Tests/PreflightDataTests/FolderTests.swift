import Foundation
import XCTest
import PreflightData

final class FolderTests: XCTestCase {
    var dir: TempDir!
    override func setUp() { dir = TempDir("folder") }
    override func tearDown() { dir.cleanup() }

    private func load(_ spec: String, dataDir: String? = nil, cache: String? = nil, download: Bool = false,
                      paths: DataSearchPaths? = nil) throws -> Dataset {
        try DatasetLoader.load(spec, dataDir: dataDir, cacheDir: cache ?? dir.sub("cache"), syntheticCount: nil, seed: 1,
                               allowDownload: download, progress: nil, searchPaths: paths ?? isolatedPaths())
    }

    func testGzFolderAsPath() throws {
        let folder = dir.folder("set")
        _ = Fixtures.writeDataset(in: dir, folder: "set", gz: true)
        let d = try load(folder)
        XCTAssertEqual(d.name, folder)
        XCTAssertEqual(d.source, folder)
        XCTAssertEqual(d.train.count, 30)
        XCTAssertEqual(d.test.count, 10)
        XCTAssertEqual(d.rows, 28)
        XCTAssertEqual(d.cols, 28)
        XCTAssertEqual(d.features, 784)
        XCTAssertEqual(d.classes, 10)
        XCTAssertEqual(d.train.images, Fixtures.images(count: 30))
        XCTAssertEqual(d.train.labels, Fixtures.labels(count: 30).map(UInt16.init))
        XCTAssertEqual(d.test.images, Fixtures.images(count: 10, seed: 2))
    }

    func testRawDottedFolderAndSmallClassCount() throws {
        _ = Fixtures.writeDataset(in: dir, folder: "raw", train: 12, test: 4, rows: 5, cols: 7, gz: false, dotted: true)
        let d = try load(dir.sub("raw"))
        XCTAssertEqual(d.rows, 5)
        XCTAssertEqual(d.cols, 7)
        XCTAssertEqual(d.train.images.count, 12 * 35)
        XCTAssertEqual(d.classes, 10)
        // Passing one of the files means its folder.
        let viaFile = try load(dir.sub("raw/train-images.idx3-ubyte"))
        XCTAssertEqual(viaFile.train, d.train)
    }

    func testLimited() throws {
        _ = Fixtures.writeDataset(in: dir, folder: "set", gz: false)
        let d = try load(dir.sub("set"))
        let small = d.limited(to: 5)
        XCTAssertEqual(small.train.count, 5)
        XCTAssertEqual(small.test.count, 5)
        XCTAssertEqual(small.train.images, Array(d.train.images[0..<(5 * 784)]))
        XCTAssertEqual(small.train.labels, Array(d.train.labels[0..<5]))
        let mid = d.limited(to: 20)
        XCTAssertEqual(mid.train.count, 20)
        XCTAssertEqual(mid.test.count, 10)
        XCTAssertEqual(d.limited(to: 1000), d)
    }

    func testMissingFilesAreListed() {
        let folder = dir.folder("partial")
        _ = dir.write("partial/train-images-idx3-ubyte.gz", GzipWriter.gzip(Fixtures.idx(dims: [1, 28, 28], data: Fixtures.images(count: 1))))
        assertDataError(try load(folder), startsWith: folder,
                        contains: ["missing train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]"])
        let nothing = dir.sub("nothing")
        assertDataError(try load(nothing), startsWith: nothing, contains: ["no such file or folder"])
    }

    func testDirectoryInsteadOfFile() {
        _ = Fixtures.writeDataset(in: dir, folder: "d", gz: false)
        let p = dir.sub("d/t10k-labels-idx1-ubyte")
        try? FileManager.default.removeItem(atPath: p)
        dir.folder("d/t10k-labels-idx1-ubyte")
        assertDataError(try load(dir.sub("d")), startsWith: p, contains: ["is a directory"])
    }

    func testCountsDisagree() {
        _ = Fixtures.writeDataset(in: dir, folder: "c", gz: false)
        let p = dir.write("c/train-labels-idx1-ubyte", Fixtures.idx(dims: [29], data: Fixtures.labels(count: 29)))
        assertDataError(try load(dir.sub("c")), startsWith: p, contains: ["29 labels but", "has 30 images"])
    }

    func testTrainTestShapesDisagree() {
        _ = Fixtures.writeDataset(in: dir, folder: "s", gz: false)
        let p = dir.write("s/t10k-images-idx3-ubyte", Fixtures.idx(dims: [10, 27, 29], data: Fixtures.images(count: 10, rows: 27, cols: 29)))
        assertDataError(try load(dir.sub("s")), startsWith: p, contains: ["27x29", "are 28x28"])
    }

    func testWrongDimensionCounts() {
        _ = Fixtures.writeDataset(in: dir, folder: "w", gz: false)
        let p = dir.write("w/train-images-idx3-ubyte", Fixtures.idx(dims: [30], data: Fixtures.labels(count: 30)))
        assertDataError(try load(dir.sub("w")), startsWith: p, contains: ["expected images (3 dimensions", "declares 1 dimension"])
        _ = Fixtures.writeDataset(in: dir, folder: "w2", gz: false)
        let q = dir.write("w2/t10k-labels-idx1-ubyte", Fixtures.idx(dims: [10, 1, 1], data: Fixtures.labels(count: 10)))
        assertDataError(try load(dir.sub("w2")), startsWith: q, contains: ["expected labels (1 dimension)", "declares 3 dimensions"])
    }

    func testLabelsOutOfRangeForMNIST() throws {
        let data = dir.folder("data")
        _ = Fixtures.writeDataset(in: dir, folder: "data/mnist", gz: true)
        var labels = Fixtures.labels(count: 10)
        labels[7] = 12
        let p = dir.write("data/mnist/t10k-labels-idx1-ubyte.gz", GzipWriter.gzip(Fixtures.idx(dims: [10], data: labels)))
        assertDataError(try load("mnist", dataDir: data), startsWith: p,
                        contains: ["label 12 at index 7 is out of range", "mnist has 10 classes (0-9)"])
        // As a plain path the same folder is fine: classes = max label + 1.
        let d = try load(dir.sub("data/mnist"))
        XCTAssertEqual(d.classes, 13)
    }

    func testMNISTFromDataDirSubfolderAndItself() throws {
        let data = dir.folder("data")
        _ = Fixtures.writeDataset(in: dir, folder: "data/mnist", gz: true)
        let d = try load("mnist", dataDir: data)
        XCTAssertEqual(d.name, "mnist")
        XCTAssertEqual(d.source, dir.sub("data/mnist"))
        XCTAssertEqual(d.classes, 10)
        let direct = try load("mnist", dataDir: dir.sub("data/mnist"))
        XCTAssertEqual(direct.source, dir.sub("data/mnist"))
        // fashion under the Fashion-MNIST folder name
        _ = Fixtures.writeDataset(in: dir, folder: "data/fashion-mnist", train: 7, test: 3, gz: false)
        let f = try load("fashion", dataDir: data)
        XCTAssertEqual(f.name, "fashion")
        XCTAssertEqual(f.train.count, 7)
    }

    func testCacheKerasAndSystemOrder() throws {
        let cache = dir.folder("cache")
        let keras = dir.folder("keras")
        let system = dir.folder("system")
        _ = Fixtures.writeDataset(in: dir, folder: "system", train: 3, test: 2, gz: true)
        let paths = isolatedPaths(keras: keras, system: [system])
        XCTAssertEqual(try load("fashion", cache: cache, paths: paths).source, system)
        _ = Fixtures.writeDataset(in: dir, folder: "keras/fashion-mnist", train: 4, test: 2, gz: true)
        XCTAssertEqual(try load("fashion", cache: cache, paths: paths).source, dir.sub("keras/fashion-mnist"))
        _ = Fixtures.writeDataset(in: dir, folder: "cache/fashion", train: 5, test: 2, gz: true)
        XCTAssertEqual(try load("fashion", cache: cache, paths: paths).source, dir.sub("cache/fashion"))
        let data = dir.folder("data")
        _ = Fixtures.writeDataset(in: dir, folder: "data/fashion", train: 6, test: 2, gz: true)
        let first = try load("fashion", dataDir: data, cache: cache, paths: paths)
        XCTAssertEqual(first.source, dir.sub("data/fashion"))
        XCTAssertEqual(first.train.count, 6)
    }

    func testNotFoundListsThePlaces() {
        let data = dir.folder("data")
        let cache = dir.folder("cache")
        let keras = dir.folder("keras")
        let system = dir.sub("system-absent")
        let paths = isolatedPaths(keras: keras, system: [system])
        do {
            _ = try load("fashion", dataDir: data, cache: cache, paths: paths)
            XCTFail("expected not found")
        } catch let e as DataError {
            let s = e.description
            XCTAssertTrue(s.hasPrefix("fashion: not found; looked in "), s)
            for place in [data + "/fashion/", data + "/", cache + "/fashion/", keras + "/fashion-mnist/", system + "/"] {
                XCTAssertTrue(s.contains(place), "\(s) should list \(place)")
            }
            XCTAssertTrue(s.contains("downloading is off"), s)
            XCTAssertTrue(s.contains("data PATH"), s)
            XCTAssertTrue(s.contains("--data-dir"), s)
            XCTAssertTrue(s.contains("PREFLIGHT_DATA"), s)
            XCTAssertFalse(s.contains("\n"))
        } catch { XCTFail("\(error)") }
        do {
            _ = try load("mnist", dataDir: data, cache: cache, paths: paths)
            XCTFail("expected not found")
        } catch let e as DataError {
            XCTAssertTrue(e.description.contains(keras + "/mnist.npz"), e.description)
            XCTAssertTrue(e.description.contains(data + "/mnist/"), e.description)
        } catch { XCTFail("\(error)") }
    }

    func testDownloadFailureIsReportedWithThePlaces() {
        // Mirrors point at a closed port on 127.0.0.1.
        do {
            _ = try load("mnist", cache: dir.folder("cache"), download: true, paths: isolatedPaths())
            XCTFail("expected an error")
        } catch let e as DataError {
            XCTAssertTrue(e.description.hasPrefix("mnist: not found; looked in "), e.description)
            XCTAssertTrue(e.description.contains("the download failed"), e.description)
            XCTAssertTrue(e.description.contains("127.0.0.1:9"), e.description)
            XCTAssertFalse(e.description.contains("\n"))
        } catch { XCTFail("\(error)") }
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: dir.sub("cache/mnist"))) ?? []
        XCTAssertEqual(leftovers, [], "nothing is left in the cache after a failed download")
    }

    func testEmptySpec() {
        assertDataError(try load("  "), startsWith: "data:", contains: ["mnist, fashion, synthetic"])
    }
}
