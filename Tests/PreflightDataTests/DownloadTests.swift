import Foundation
import XCTest
import PreflightData

/// Downloads against a loopback HTTP server started by the test; only 127.0.0.1 is contacted.
final class DownloadTests: XCTestCase {
    var dir: TempDir!
    override func setUp() { dir = TempDir("download") }
    override func tearDown() { dir.cleanup() }

    let body: [UInt8] = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }

    private func filesIn(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    func testGoodFileLandsInTheCache() throws {
        let server = try LoopbackServer(routes: ["/d/file.gz": .init(body: body)])
        defer { server.stop() }
        let cache = dir.sub("cache/mnist")
        var calls: [(Int, Int?)] = []
        let written = try Downloader.fetch(fileName: "file.gz", mirrors: [server.baseURL + "d"], sha256: SHA256.hex(body),
                                           into: cache, timeout: 5) { calls.append(($0, $1)) }
        XCTAssertEqual(written, cache + "/file.gz")
        XCTAssertEqual(try FileBytesForTests.read(written), body)
        XCTAssertEqual(filesIn(cache), ["file.gz"], "no temporary file is left")
        XCTAssertEqual(calls.last?.0, body.count)
        XCTAssertEqual(calls.last?.1, body.count)
        XCTAssertEqual(server.requestedPaths, ["/d/file.gz"])
    }

    /// ^C during a download: the fetch stops at once, names the URL, and leaves no partial file.
    func testInterruptedDownloadLeavesNothing() throws {
        let server = try LoopbackServer(routes: ["/slow.gz": .init(body: body, stallAfter: 100_000, stallSeconds: 3)])
        defer { server.stop() }
        let cache = dir.sub("cache")
        var sawBytes = false
        Downloader.shouldCancel = { sawBytes }
        defer { Downloader.shouldCancel = nil }
        let t0 = Date()
        assertDataError(try Downloader.fetch(fileName: "slow.gz", mirrors: [server.baseURL, server.baseURL], sha256: SHA256.hex(body),
                                             into: cache, timeout: 10) { got, _ in if got > 0 { sawBytes = true } },
                        startsWith: "", contains: ["interrupted", "slow.gz"])
        XCTAssertLessThan(Date().timeIntervalSince(t0), 2.5, "stopped without waiting for the stalled mirror")
        XCTAssertEqual(filesIn(cache), [], "no partial file is kept")
        XCTAssertEqual(server.requestedPaths.count, 1, "the next mirror is not tried after an interrupt")
    }

    func testCorruptedBodyIsRejectedAndRemoved() throws {
        var bad = body
        bad[150_000] ^= 1
        let server = try LoopbackServer(routes: ["/file.gz": .init(body: bad)])
        defer { server.stop() }
        let cache = dir.sub("cache")
        let destination = cache + "/file.gz"
        assertDataError(try Downloader.fetch(url: server.baseURL + "file.gz", to: destination, sha256: SHA256.hex(body), timeout: 5),
                        startsWith: destination, contains: ["checksum mismatch", "file.gz", SHA256.hex(body), SHA256.hex(bad), "deleted"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination))
        XCTAssertEqual(filesIn(cache), [], "neither the file nor a temporary copy is kept")
    }

    func testNotFoundAndCutConnection() throws {
        let server = try LoopbackServer(routes: ["/short.gz": .init(body: Array(body[0..<1000]), declaredLength: body.count)])
        defer { server.stop() }
        let cache = dir.sub("cache")
        assertDataError(try Downloader.fetch(url: server.baseURL + "missing.gz", to: cache + "/missing.gz", sha256: nil, timeout: 5),
                        startsWith: server.baseURL + "missing.gz", contains: ["HTTP 404"])
        XCTAssertThrowsError(try Downloader.fetch(url: server.baseURL + "short.gz", to: cache + "/short.gz",
                                                  sha256: SHA256.hex(body), timeout: 5)) { error in
            XCTAssertTrue(error is DataError)
            XCTAssertTrue((error as? DataError)?.description.contains("short.gz") ?? false, "\(error)")
        }
        XCTAssertEqual(filesIn(cache), [])
    }

    func testMirrorFallback() throws {
        let server = try LoopbackServer(routes: ["/b/file.gz": .init(body: body)])
        defer { server.stop() }
        let cache = dir.sub("cache")
        try Downloader.fetch(fileName: "file.gz", mirrors: [server.baseURL + "a/", server.baseURL + "b/"], sha256: SHA256.hex(body),
                             into: cache, timeout: 5)
        XCTAssertEqual(server.requestedPaths, ["/a/file.gz", "/b/file.gz"])
        XCTAssertEqual(try FileBytesForTests.read(cache + "/file.gz"), body)
        // Both mirrors failing: every failure is reported.
        assertDataError(try Downloader.fetch(fileName: "other.gz", mirrors: [server.baseURL + "a/", server.baseURL + "c/"],
                                             sha256: SHA256.hex(body), into: cache, timeout: 5),
                        startsWith: cache + "/other.gz", contains: ["every mirror failed", "/a/other.gz: HTTP 404", "/c/other.gz: HTTP 404"])
    }

    /// `data mnist` with nothing local: downloads the four files into the cache, verifies, loads; then loads from the cache.
    func testLoaderDownloadsIntoTheCache() throws {
        let written = Fixtures.writeDataset(in: dir, folder: "origin", train: 40, test: 10, gz: true)
        var routes: [String: LoopbackServer.Response] = [:]
        var files: [RemoteFile] = []
        for name in DatasetLoader.idxNames.map({ $0 + ".gz" }) {
            let bytes = written[name]!
            routes["/mirror/" + name] = .init(body: bytes)
            files.append(RemoteFile(name: name, sha256: SHA256.hex(bytes), size: bytes.count))
        }
        let server = try LoopbackServer(routes: routes)
        defer { server.stop() }
        let remote = RemoteDataset(name: "mnist", mirrors: [server.baseURL + "mirror/"], files: files)
        let cache = dir.sub("cache")
        let paths = isolatedPaths(keras: dir.sub("no-keras"), mnist: remote)
        var last: (Int, Int?) = (0, nil)
        let d = try DatasetLoader.load("mnist", dataDir: dir.sub("no-data"), cacheDir: cache, syntheticCount: nil, seed: 0,
                                       allowDownload: true, progress: { last = ($0, $1) }, searchPaths: paths)
        XCTAssertEqual(d.name, "mnist")
        XCTAssertEqual(d.source, cache + "/mnist")
        XCTAssertEqual(d.train.count, 40)
        XCTAssertEqual(last.0, remote.totalBytes)
        XCTAssertEqual(last.1, remote.totalBytes)
        XCTAssertEqual(filesIn(cache + "/mnist"), DatasetLoader.idxNames.map { $0 + ".gz" }.sorted())
        XCTAssertEqual(server.requestedPaths.count, 4)
        let again = try DatasetLoader.load("mnist", dataDir: nil, cacheDir: cache, syntheticCount: nil, seed: 0,
                                           allowDownload: false, progress: nil, searchPaths: paths)
        XCTAssertEqual(again, d)
        XCTAssertEqual(server.requestedPaths.count, 4, "the second load comes from the cache")
    }

    /// A mirror serving a tampered file: the download fails verification and nothing is cached.
    func testLoaderNeverUsesAFileThatFailsVerification() throws {
        let written = Fixtures.writeDataset(in: dir, folder: "origin", gz: true)
        var routes: [String: LoopbackServer.Response] = [:]
        var files: [RemoteFile] = []
        for name in DatasetLoader.idxNames.map({ $0 + ".gz" }) {
            var bytes = written[name]!
            files.append(RemoteFile(name: name, sha256: SHA256.hex(bytes), size: bytes.count))
            if name.hasPrefix("t10k-images") { bytes[bytes.count / 2] ^= 0xFF }
            routes["/" + name] = .init(body: bytes)
        }
        let server = try LoopbackServer(routes: routes)
        defer { server.stop() }
        let remote = RemoteDataset(name: "mnist", mirrors: [server.baseURL], files: files)
        let cache = dir.sub("cache")
        do {
            _ = try DatasetLoader.load("mnist", dataDir: nil, cacheDir: cache, syntheticCount: nil, seed: 0, allowDownload: true,
                                       progress: nil, searchPaths: isolatedPaths(mnist: remote))
            XCTFail("expected a checksum error")
        } catch let e as DataError {
            XCTAssertTrue(e.description.contains("checksum mismatch"), e.description)
            XCTAssertTrue(e.description.contains("t10k-images-idx3-ubyte.gz"), e.description)
        }
        XCTAssertFalse(filesIn(cache + "/mnist").contains("t10k-images-idx3-ubyte.gz"))
        XCTAssertFalse(filesIn(cache + "/mnist").contains { $0.contains(".part") })
    }
}
