import Foundation
import ZIPFoundation

/// A parsed .npy array of unsigned bytes.
public struct NPYArray: Sendable {
    public var shape: [Int]
    public var bytes: [UInt8]
}

/// Reader for .npy arrays (uint8 only).
public enum NPY {
    /// Parses a whole .npy file held in memory. `name` names it in errors (e.g. "data.npz [x_train.npy]").
    /// Accepts format versions 1, 2 and 3, descr '|u1' or '<u1', fortran_order False.
    public static func parse(_ data: [UInt8], name: String) throws -> NPYArray {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // \x93NUMPY
        guard data.count >= 10, Array(data[0..<6]) == magic else {
            throw DataError(path: name, "not a .npy array (missing the \\x93NUMPY magic)")
        }
        let major = data[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(data[8]) | Int(data[9]) << 8
            headerStart = 10
        case 2, 3:
            guard data.count >= 12 else { throw DataError(path: name, "truncated .npy header") }
            headerLength = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
            headerStart = 12
        default:
            throw DataError(path: name, ".npy format version \(major).\(data[7]) is not supported (1, 2 or 3)")
        }
        guard headerStart + headerLength <= data.count else {
            throw DataError(path: name, "truncated .npy header: it declares \(headerLength) bytes but only \(data.count - headerStart) follow")
        }
        let header = String(decoding: data[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let dict: [String: PyValue]
        var parser = PyLiteralParser(header)
        do { dict = try parser.parseDict() } catch let e as PyLiteralParser.Failure {
            throw DataError(path: name, "malformed .npy header (\(e.message)): \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard case .string(let descr)? = dict["descr"] else { throw DataError(path: name, ".npy header has no 'descr'") }
        guard descr == "|u1" || descr == "<u1" else {
            throw DataError(path: name, "dtype '\(descr)' is not supported; only uint8 ('|u1')")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else { throw DataError(path: name, ".npy header has no 'fortran_order'") }
        guard !fortran else { throw DataError(path: name, "fortran_order is True; only C-order arrays are supported") }
        guard case .tuple(let shape)? = dict["shape"] else { throw DataError(path: name, ".npy header has no 'shape'") }
        var total = 1
        for d in shape {
            guard d >= 0 else { throw DataError(path: name, "negative dimension in shape \(shape)") }
            let (p, o) = total.multipliedReportingOverflow(by: d)
            guard !o, p <= (1 << 34) else { throw DataError(path: name, "implausible shape \(shape)") }
            total = p
        }
        let dataStart = headerStart + headerLength
        let have = data.count - dataStart
        if have < total {
            throw DataError(path: name, "truncated: shape \(shapeText(shape)) needs \(total) bytes but only \(have) follow the header")
        }
        if have > total {
            throw DataError(path: name, "\(have - total) unexpected trailing bytes after the \(total) bytes of shape \(shapeText(shape))")
        }
        return NPYArray(shape: shape, bytes: dataStart == 0 ? data : Array(data[dataStart...]))
    }

    static func shapeText(_ s: [Int]) -> String { "(" + s.map(String.init).joined(separator: ", ") + (s.count == 1 ? ",)" : ")") }
}

/// Reader for Keras-style dataset archives (mnist.npz).
public enum NPZ {
    /// Reads an .npz (ZIP of .npy files) with keys x_train, y_train, x_test, y_test (uint8, C order).
    /// Images may be (N, rows, cols) or (N, rows*cols) with a square image; labels (N,) or (N, 1).
    /// With `classes` given, every label must be below it; otherwise classes = max label + 1.
    public static func readMNIST(path: String, classes fixedClasses: Int? = nil) throws -> Dataset {
        switch FileBytes.kind(path) {
        case .missing: throw DataError(path: path, "no such file")
        case .directory: throw DataError(path: path, "is a directory, expected an .npz file")
        case .other: throw DataError(path: path, "is not a regular file")
        case .file: break
        }
        guard let size = FileBytes.size(path), size > 0 else { throw DataError(path: path, "is empty (0 bytes)") }
        // Open fails clearly for unreadable files before ZIPFoundation reports a generic error.
        _ = try FileBytes.Handle(path: path)
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw DataError(path: path, "not a valid .npz (ZIP) archive (\(error))")
        }
        var entries: [String: Entry] = [:]
        for e in archive where e.type == .file { entries[e.path] = e }

        func array(_ key: String) throws -> NPYArray {
            guard let entry = entries[key + ".npy"] ?? entries[key] else {
                let have = entries.keys.sorted().joined(separator: ", ")
                throw DataError(path: path, "missing entry \(key).npy (the archive has: \(have.isEmpty ? "nothing" : have))")
            }
            let label = "\(path) [\(entry.path)]"
            var data = [UInt8]()
            // The declared size is only a hint: no entry of this file can expand past 1032 times the file's size.
            data.reserveCapacity(Int(min(entry.uncompressedSize, UInt64(size) * 1032, 1 << 34)))
            do {
                _ = try archive.extract(entry, bufferSize: 1 << 20, skipCRC32: false) { chunk in
                    chunk.withUnsafeBytes { raw in data.append(contentsOf: raw.bindMemory(to: UInt8.self)) }
                }
            } catch {
                throw DataError(path: label, "cannot extract the entry (\(error))")
            }
            return try NPY.parse(data, name: label)
        }

        let xTrain = try array("x_train"), yTrain = try array("y_train")
        let xTest = try array("x_test"), yTest = try array("y_test")
        func entryName(_ key: String) -> String { "\(path) [\(entries[key + ".npy"] != nil ? key + ".npy" : key)]" }

        func imageShape(_ a: NPYArray, _ key: String) throws -> (Int, Int, Int) {
            if a.shape.count == 3 { return (a.shape[0], a.shape[1], a.shape[2]) }
            if a.shape.count == 2 {
                let side = Int(Double(a.shape[1]).squareRoot().rounded())
                if side * side == a.shape[1] { return (a.shape[0], side, side) }
            }
            throw DataError(path: entryName(key), "images must have shape (N, rows, cols) or (N, rows*cols) with square images; found \(NPY.shapeText(a.shape))")
        }
        func labelCount(_ a: NPYArray, _ key: String) throws -> Int {
            if a.shape.count == 1 { return a.shape[0] }
            if a.shape.count == 2 && a.shape[1] == 1 { return a.shape[0] }
            throw DataError(path: entryName(key), "labels must have shape (N,); found \(NPY.shapeText(a.shape))")
        }
        let (nTrain, rows, cols) = try imageShape(xTrain, "x_train")
        let (nTest, tRows, tCols) = try imageShape(xTest, "x_test")
        let nyTrain = try labelCount(yTrain, "y_train"), nyTest = try labelCount(yTest, "y_test")
        guard rows > 0, cols > 0 else { throw DataError(path: entryName("x_train"), "images are \(rows)x\(cols)") }
        guard tRows == rows, tCols == cols else {
            throw DataError(path: entryName("x_test"), "test images are \(tRows)x\(tCols) but the training images are \(rows)x\(cols)")
        }
        guard nyTrain == nTrain else {
            throw DataError(path: entryName("y_train"), "\(nyTrain) labels but x_train has \(nTrain) images")
        }
        guard nyTest == nTest else {
            throw DataError(path: entryName("y_test"), "\(nyTest) labels but x_test has \(nTest) images")
        }
        guard nTrain > 0 else { throw DataError(path: entryName("x_train"), "holds 0 images") }
        guard nTest > 0 else { throw DataError(path: entryName("x_test"), "holds 0 images") }
        let classes = try DatasetLoader.checkLabels([(yTrain.bytes, entryName("y_train")), (yTest.bytes, entryName("y_test"))],
                                                   fixedClasses: fixedClasses, datasetName: nil)
        return Dataset(name: path, source: path, rows: rows, cols: cols, classes: classes,
                       train: DataSplit(images: xTrain.bytes, labels: yTrain.bytes, count: nTrain),
                       test: DataSplit(images: xTest.bytes, labels: yTest.bytes, count: nTest))
    }
}

enum PyValue: Equatable {
    case string(String)
    case bool(Bool)
    case int(Int)
    case tuple([Int])
    case none
}

/// Parses the Python dict literal of a .npy header: string keys; values string, True/False/None, int, tuple of ints.
struct PyLiteralParser {
    struct Failure: Error { let message: String }
    private let chars: [Character]
    private var i = 0

    init(_ text: String) { chars = Array(text) }

    mutating func parseDict() throws -> [String: PyValue] {
        skipSpace()
        try expect("{")
        var out: [String: PyValue] = [:]
        skipSpace()
        if peek() == "}" { i += 1; return out }
        while true {
            skipSpace()
            let key = try parseString()
            skipSpace()
            try expect(":")
            skipSpace()
            out[key] = try parseValue()
            skipSpace()
            if peek() == "," { i += 1; skipSpace(); if peek() == "}" { i += 1; return out }; continue }
            try expect("}")
            return out
        }
    }

    private func peek() -> Character? { i < chars.count ? chars[i] : nil }
    private mutating func skipSpace() { while let c = peek(), c == " " || c == "\n" || c == "\t" || c == "\r" { i += 1 } }
    private mutating func expect(_ c: Character) throws {
        guard peek() == c else { throw Failure(message: "expected '\(c)' at offset \(i)") }
        i += 1
    }

    private mutating func parseString() throws -> String {
        guard let q = peek(), q == "'" || q == "\"" else { throw Failure(message: "expected a quoted string at offset \(i)") }
        i += 1
        var s = ""
        while let c = peek(), c != q { s.append(c); i += 1 }
        try expect(q)
        return s
    }

    private mutating func parseInt() throws -> Int {
        var s = ""
        if peek() == "-" { s.append("-"); i += 1 }
        while let c = peek(), c.isASCII, c.isNumber { s.append(c); i += 1 }
        if peek() == "L" { i += 1 }
        guard let v = Int(s) else { throw Failure(message: "expected a number at offset \(i)") }
        return v
    }

    private mutating func parseValue() throws -> PyValue {
        guard let c = peek() else { throw Failure(message: "unexpected end") }
        if c == "'" || c == "\"" { return .string(try parseString()) }
        if c == "(" {
            i += 1
            var items: [Int] = []
            skipSpace()
            while peek() != ")" {
                items.append(try parseInt())
                skipSpace()
                if peek() == "," { i += 1; skipSpace() } else if peek() != ")" { throw Failure(message: "expected ',' or ')' at offset \(i)") }
            }
            i += 1
            return .tuple(items)
        }
        for (word, value) in [("True", PyValue.bool(true)), ("False", .bool(false)), ("None", .none)] where matches(word) {
            i += word.count
            return value
        }
        return .int(try parseInt())
    }

    private func matches(_ word: String) -> Bool {
        let w = Array(word)
        guard i + w.count <= chars.count else { return false }
        return Array(chars[i..<(i + w.count)]) == w
    }
}
