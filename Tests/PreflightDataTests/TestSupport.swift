import Foundation
import XCTest
import PreflightData

/// A fresh temporary folder, removed by `cleanup`.
final class TempDir {
    let path: String

    init(_ tag: String = "data") {
        let base = NSTemporaryDirectory()
        path = (base as NSString).appendingPathComponent("preflight-\(tag)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func sub(_ name: String) -> String {
        let p = (path as NSString).appendingPathComponent(name)
        return p
    }

    @discardableResult
    func folder(_ name: String) -> String {
        let p = sub(name)
        try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let p = sub(name)
        try! FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

enum Fixtures {
    /// An IDX byte file: header for `dims` then `data`.
    static func idx(dims: [Int], data: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
        var out: [UInt8] = [0, 0, type, UInt8(dims.count)]
        for d in dims { out += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
        return out + data
    }

    static func images(count: Int, rows: Int = 28, cols: Int = 28, seed: Int = 1) -> [UInt8] {
        (0..<(count * rows * cols)).map { UInt8(truncatingIfNeeded: ($0 &* 31 &+ seed &* 7) % 256) }
    }

    static func labels(count: Int, classes: Int = 10) -> [UInt8] { (0..<count).map { UInt8($0 % classes) } }

    /// Writes a complete four-file IDX dataset into `folder`; gzip-compressed when `gz`.
    static func writeDataset(in dir: TempDir, folder: String, train: Int = 30, test: Int = 10, rows: Int = 28, cols: Int = 28,
                             gz: Bool, dotted: Bool = false) -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [
            "train-images-idx3-ubyte": idx(dims: [train, rows, cols], data: images(count: train, rows: rows, cols: cols)),
            "train-labels-idx1-ubyte": idx(dims: [train], data: labels(count: train)),
            "t10k-images-idx3-ubyte": idx(dims: [test, rows, cols], data: images(count: test, rows: rows, cols: cols, seed: 2)),
            "t10k-labels-idx1-ubyte": idx(dims: [test], data: labels(count: test)),
        ]
        var written: [String: [UInt8]] = [:]
        for (name, content) in files {
            var fileName = dotted ? name.replacingOccurrences(of: "-idx", with: ".idx") : name
            var bytes = content
            if gz { fileName += ".gz"; bytes = GzipWriter.gzip(content) }
            _ = dir.write((folder as NSString).appendingPathComponent(fileName), bytes)
            written[fileName] = bytes
        }
        files.removeAll()
        return written
    }
}

/// Minimal gzip writer for tests: deflate "stored" blocks, CRC-32 and ISIZE trailer (RFC 1951/1952).
enum GzipWriter {
    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    static func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 255), UInt8(v >> 8 & 255), UInt8(v >> 16 & 255), UInt8(v >> 24 & 255)] }

    static func gzip(_ data: [UInt8], blockSize: Int = 65535) -> [UInt8] {
        var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]
        var offset = 0
        repeat {
            let n = min(blockSize, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out.append(final)
            out += [UInt8(n & 255), UInt8(n >> 8), UInt8(~n & 255), UInt8((~n >> 8) & 255)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        out += le32(crc32(data))
        out += le32(UInt32(truncatingIfNeeded: data.count))
        return out
    }
}

/// Asserts that `body` throws a DataError whose description starts with `prefix` and contains every fragment.
func assertDataError<T>(_ body: @autoclosure () throws -> T, startsWith prefix: String, contains fragments: [String],
                        file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected a DataError", file: file, line: line)
    } catch let e as DataError {
        XCTAssertTrue(e.description.hasPrefix(prefix), "«\(e.description)» should start with «\(prefix)»", file: file, line: line)
        for f in fragments {
            XCTAssertTrue(e.description.contains(f), "«\(e.description)» should contain «\(f)»", file: file, line: line)
        }
        XCTAssertFalse(e.description.contains("\n"), "one line: «\(e.description)»", file: file, line: line)
    } catch {
        XCTFail("expected a DataError, got \(error)", file: file, line: line)
    }
}

/// Search paths that look nowhere outside the test's own folders and download only from `mirrors`.
func isolatedPaths(keras: String? = nil, system: [String] = [], mnist: RemoteDataset? = nil, fashion: RemoteDataset? = nil) -> DataSearchPaths {
    var m = RemoteDataset.mnist
    m.mirrors = ["http://127.0.0.1:9/"]
    var f = RemoteDataset.fashion
    f.mirrors = ["http://127.0.0.1:9/"]
    return DataSearchPaths(kerasDatasets: keras, systemFashion: system, mnist: mnist ?? m, fashion: fashion ?? f, downloadTimeout: 5)
}
