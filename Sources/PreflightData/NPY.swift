// NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html): one reader and
// one writer for the whole program. Datasets read features and labels through `NPYReader`, a chunk-fed
// decoder (files and .npz entries are never held twice in memory); saved sessions write float32 arrays with
// `NPY.encode` and read them back with `NPY.decodeFloats`.

/// An .npy array's element type, from the header's `descr` (e.g. '<f8', '|u1', '<U7').
public struct NPYType: Sendable, Equatable, CustomStringConvertible {
    /// 'b' bool, 'i' signed, 'u' unsigned, 'f' float, 'U' UTF-32 text, 'S' byte text.
    public var kind: Character
    /// Bytes per element.
    public var size: Int
    public var bigEndian: Bool
    public var description: String

    /// Parses a `descr` string; nil when it is not a plain numeric or text type.
    public init?(descr: String) {
        let chars = Array(descr)
        guard chars.count >= 2 else { return nil }
        var i = 0
        var big = false
        switch chars[0] {
        case "<", "|", "=": i = 1
        case ">": big = true; i = 1
        default: i = 0
        }
        guard i < chars.count else { return nil }
        let k = chars[i]
        guard let n = Int(String(chars[(i + 1)...])), n > 0 else { return nil }
        switch k {
        case "b": guard n == 1 else { return nil }
        case "i", "u": guard [1, 2, 4, 8].contains(n) else { return nil }
        case "f": guard [2, 4, 8].contains(n) else { return nil }
        case "U": guard n <= 1 << 16 else { return nil }
        case "S", "a": guard n <= 1 << 18 else { return nil }
        default: return nil
        }
        kind = k == "a" ? "S" : k
        size = k == "U" ? 4 * n : n
        bigEndian = big && size > 1
        description = descr
    }

    public var isNumeric: Bool { kind == "b" || kind == "i" || kind == "u" || kind == "f" }
    public var isText: Bool { kind == "U" || kind == "S" }
    /// A friendly name: "float64", "uint8", "str (7 chars)".
    public var name: String {
        switch kind {
        case "b": return "bool"
        case "i": return "int\(size * 8)"
        case "u": return "uint\(size * 8)"
        case "f": return "float\(size * 8)"
        case "U": return "str (\(size / 4) characters)"
        default: return "bytes (\(size) each)"
        }
    }
}

/// The header of an .npy array.
public struct NPYHeader: Sendable, Equatable {
    public var type: NPYType
    public var fortranOrder: Bool
    public var shape: [Int]
    /// Elements: the product of the shape.
    public var count: Int
    /// Bytes from the start of the file to the first element.
    public var dataOffset: Int
    /// Bytes of data the header declares.
    public var dataBytes: Int { count * type.size }
}

public enum NPY {
    public static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    /// Arrays larger than this many bytes are refused as implausible (16 GiB).
    public static let largestData = 1 << 34

    public static func shapeText(_ s: [Int]) -> String { "(" + s.map(String.init).joined(separator: ", ") + (s.count == 1 ? ",)" : ")") }

    /// Parses the header at the start of `b`; nil when `b` is too short to hold all of it yet.
    /// `name` names the array in errors (e.g. "data.npz [x_train.npy]").
    public static func header(_ b: UnsafeRawBufferPointer, name: String) throws -> NPYHeader? {
        if b.count < 10 {
            if b.count > 0, !zip(b, magic).allSatisfy({ $0 == $1 }) {
                throw DataError(path: name, "not a .npy array (missing the \\x93NUMPY magic)")
            }
            return nil
        }
        guard Array(b[0..<6]) == magic else {
            throw DataError(path: name, "not a .npy array (missing the \\x93NUMPY magic)")
        }
        let major = b[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(b[8]) | Int(b[9]) << 8
            headerStart = 10
        case 2, 3:
            guard b.count >= 12 else { return nil }
            headerLength = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
            headerStart = 12
        default:
            throw DataError(path: name, ".npy format version \(major).\(b[7]) is not supported (1, 2 or 3)")
        }
        guard headerLength <= 1 << 20 else { throw DataError(path: name, "implausible .npy header length \(headerLength)") }
        guard headerStart + headerLength <= b.count else { return nil }
        let text = String(decoding: b[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let dict: [String: PyValue]
        var parser = PyLiteralParser(text)
        do { dict = try parser.parseDict() } catch let e as PyLiteralParser.Failure {
            throw DataError(path: name, "malformed .npy header (\(e.message)): \(String(text.prefix(200)).trimmingWhitespace())")
        }
        guard case .string(let descr)? = dict["descr"] else {
            if dict["descr"] != nil {
                throw DataError(path: name, "the array has a structured dtype (named fields); save a plain numeric array")
            }
            throw DataError(path: name, ".npy header has no 'descr'")
        }
        if descr.hasSuffix("O") || descr.contains("O") && descr.count <= 3 {
            throw DataError(path: name, "dtype '\(descr)' holds Python objects (pickled); save numbers or fixed-width strings instead")
        }
        guard let type = NPYType(descr: descr) else {
            throw DataError(path: name, "dtype '\(descr)' is not supported; use bool, an integer, a float (float16/32/64) or a fixed-width string")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else { throw DataError(path: name, ".npy header has no 'fortran_order'") }
        guard case .tuple(let shape)? = dict["shape"] else { throw DataError(path: name, ".npy header has no 'shape'") }
        var total = 1
        for d in shape {
            guard d >= 0 else { throw DataError(path: name, "negative dimension in shape \(shapeText(shape))") }
            let (p, o) = total.multipliedReportingOverflow(by: d)
            guard !o, p.multipliedReportingOverflow(by: type.size).partialValue <= largestData, p <= largestData else {
                throw DataError(path: name, "implausible shape \(shapeText(shape)): more than \(largestData >> 30) GiB of data")
            }
            total = p
        }
        return NPYHeader(type: type, fortranOrder: fortran, shape: shape, count: total, dataOffset: headerStart + headerLength)
    }

    /// Version 1.0 .npy bytes of a little-endian float32 array in C order.
    public static func encode(_ values: [Float], shape: [Int]) -> [UInt8] {
        precondition(shape.reduce(1, *) == values.count)
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad with spaces so that magic + version + length + header + "\n" is a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = magic + [1, 0]
        let n = header.utf8.count
        out += [UInt8(n & 0xFF), UInt8(n >> 8)]
        out += Array(header.utf8)
        out.reserveCapacity(out.count + values.count * 4)
        for v in values {
            let bits = v.bitPattern
            out += [UInt8(bits & 0xFF), UInt8((bits >> 8) & 0xFF), UInt8((bits >> 16) & 0xFF), UInt8(bits >> 24)]
        }
        return out
    }

    /// Reads a whole float array held in memory (any float or integer dtype, C or Fortran order), as float32 in
    /// C order.
    public static func decodeFloats(_ bytes: [UInt8], name: String) throws -> (shape: [Int], values: [Float]) {
        let r = NPYReader(name: name, purpose: .values)
        try bytes.withUnsafeBytes { try r.feed($0) }
        let a = try r.finish()
        guard case .floats(let v) = a.data else {
            if case .bytes(let b) = a.data { return (a.header.shape, b.map(Float.init)) }
            throw DataError(path: name, "expected numbers, found \(a.header.type.name)")
        }
        return (a.header.shape, v)
    }
}

/// A decoded .npy array.
public struct NPYArray: Sendable {
    public enum Payload: Sendable {
        /// uint8 data read for features: kept as bytes.
        case bytes([UInt8])
        /// Any other numeric data read for features, as float32.
        case floats([Float])
        /// Numeric data read for labels (bools as 0/1); non-integral floats are kept as `nil` so the caller can say where.
        case integers([Int?])
        /// Text data (read for labels).
        case text([String])
    }
    public var header: NPYHeader
    public var data: Payload
    public var shape: [Int] { header.shape }
}

/// Decodes an .npy array fed in chunks of any size (a file read piece by piece, or an .npz entry as it is
/// inflated). Fortran-order arrays are turned into C order at the end.
public final class NPYReader {
    public enum Purpose { case values, labels }
    let name: String
    let purpose: Purpose
    private var head: [UInt8] = []
    public private(set) var header: NPYHeader?
    private var carry: [UInt8] = []
    private var bytes: [UInt8] = []
    private var floats: [Float] = []
    private var ints: [Int?] = []
    private var text: [String] = []
    private var received = 0
    /// An upper bound on the data bytes still to come (file or entry size), to refuse a header that declares more.
    public var availableBytes: Int?

    public init(name: String, purpose: Purpose, availableBytes: Int? = nil) {
        self.name = name
        self.purpose = purpose
        self.availableBytes = availableBytes
    }

    public func feed(_ chunk: UnsafeRawBufferPointer) throws {
        guard chunk.count > 0 else { return }
        var rest = chunk
        if header == nil {
            head.append(contentsOf: chunk)
            let h = try head.withUnsafeBytes { try NPY.header($0, name: name) }
            guard let h else { return }
            if let avail = availableBytes, h.dataBytes > max(0, avail - h.dataOffset) {
                throw DataError(path: name, "the header declares shape \(NPY.shapeText(h.shape)) of \(h.type.name), \(h.dataBytes) bytes, but only \(max(0, avail - h.dataOffset)) follow it")
            }
            header = h
            try start(h)
            let tail = Array(head[h.dataOffset...])
            head = []
            try tail.withUnsafeBytes { try consume($0) }
            return
        }
        rest = chunk
        try consume(rest)
    }

    private func start(_ h: NPYHeader) throws {
        let t = h.type
        // Reserve what the header declares, but never more than the source can hold.
        let bound = availableBytes.map { max(0, $0 - h.dataOffset) / t.size } ?? h.count
        let n = min(h.count, bound, 1 << 28)
        switch purpose {
        case .values:
            guard t.isNumeric else {
                throw DataError(path: name, "features must be numbers; the array holds \(t.name)")
            }
            if t.kind == "u" && t.size == 1 { bytes.reserveCapacity(n) } else { floats.reserveCapacity(n) }
        case .labels:
            if t.isText { text.reserveCapacity(n) } else { ints.reserveCapacity(n) }
        }
    }

    private func consume(_ chunk: UnsafeRawBufferPointer) throws {
        guard let h = header, chunk.count > 0 else { return }
        let size = h.type.size
        var data = chunk
        let limit = h.dataBytes
        if received + data.count > limit {
            throw DataError(path: name, "\(received + data.count - limit)+ unexpected trailing bytes after the \(limit) bytes of shape \(NPY.shapeText(h.shape))")
        }
        received += data.count
        if !carry.isEmpty {
            let need = size - carry.count
            let take = min(need, data.count)
            carry.append(contentsOf: data[0..<take])
            data = UnsafeRawBufferPointer(rebasing: data[take...])
            if carry.count == size {
                let c = carry
                carry = []
                c.withUnsafeBytes { convert($0, h.type) }
            }
        }
        let whole = data.count / size * size
        if whole > 0 { convert(UnsafeRawBufferPointer(rebasing: data[0..<whole]), h.type) }
        if whole < data.count { carry.append(contentsOf: data[whole...]) }
    }

    private func convert(_ d: UnsafeRawBufferPointer, _ t: NPYType) {
        let n = d.count / t.size
        if purpose == .values && t.kind == "u" && t.size == 1 {
            bytes.append(contentsOf: d.bindMemory(to: UInt8.self))
            return
        }
        if t.isText {
            for i in 0..<n { text.append(Self.string(d, at: i * t.size, t)) }
            return
        }
        switch purpose {
        case .values:
            floats.reserveCapacity(floats.count + n)
            for i in 0..<n { floats.append(Float(Self.double(d, at: i * t.size, t))) }
        case .labels:
            for i in 0..<n {
                if t.kind == "f" {
                    let v = Self.double(d, at: i * t.size, t)
                    ints.append(v.isFinite && v == v.rounded() && abs(v) < 1e15 ? Int(v) : nil)
                } else {
                    ints.append(Self.integer(d, at: i * t.size, t))
                }
            }
        }
    }

    private static func raw(_ d: UnsafeRawBufferPointer, at o: Int, _ size: Int, big: Bool) -> UInt64 {
        var v: UInt64 = 0
        if big {
            for k in 0..<size { v = v << 8 | UInt64(d[o + k]) }
        } else {
            for k in stride(from: size - 1, through: 0, by: -1) { v = v << 8 | UInt64(d[o + k]) }
        }
        return v
    }

    static func integer(_ d: UnsafeRawBufferPointer, at o: Int, _ t: NPYType) -> Int? {
        let v = raw(d, at: o, t.size, big: t.bigEndian)
        switch t.kind {
        case "b": return v != 0 ? 1 : 0
        case "u": return v > UInt64(Int.max) ? nil : Int(v)
        default:
            let shift = UInt64(64 - t.size * 8)
            return Int(Int64(bitPattern: v << shift) >> Int64(shift))
        }
    }

    static func double(_ d: UnsafeRawBufferPointer, at o: Int, _ t: NPYType) -> Double {
        if t.kind == "f" {
            if t.size == 4 && !t.bigEndian { return Double(d.loadUnaligned(fromByteOffset: o, as: Float.self)) }
            if t.size == 8 && !t.bigEndian { return d.loadUnaligned(fromByteOffset: o, as: Double.self) }
            let v = raw(d, at: o, t.size, big: t.bigEndian)
            switch t.size {
            case 2: return Double(halfToFloat(UInt16(v)))
            case 4: return Double(Float(bitPattern: UInt32(v)))
            default: return Double(bitPattern: v)
            }
        }
        if t.kind == "u" && t.size == 1 { return Double(d[o]) }
        return Double(integer(d, at: o, t) ?? Int.max)
    }

    static func halfToFloat(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let e = Int((h >> 10) & 0x1F), m = Float(h & 0x3FF)
        if e == 0 { return sign * m * 0x1p-24 }
        if e == 31 { return m == 0 ? sign * .infinity : .nan }
        return sign * (1 + m / 1024) * Float(sign: .plus, exponent: e - 15, significand: 1)
    }

    static func string(_ d: UnsafeRawBufferPointer, at o: Int, _ t: NPYType) -> String {
        if t.kind == "S" {
            var end = o + t.size
            while end > o && d[end - 1] == 0 { end -= 1 }
            return String(decoding: d[o..<end], as: UTF8.self)
        }
        var s = String.UnicodeScalarView()
        var k = 0
        while k < t.size / 4 {
            let c = UInt32(truncatingIfNeeded: raw(d, at: o + 4 * k, 4, big: t.bigEndian))
            if c == 0 { break }
            s.append(Unicode.Scalar(c) ?? "\u{FFFD}")
            k += 1
        }
        return String(s)
    }

    /// The array, once every byte has been fed. Throws when the data stop short of the shape.
    public func finish() throws -> NPYArray {
        guard let h = header else {
            if head.isEmpty { throw DataError(path: name, "is empty (0 bytes)") }
            throw DataError(path: name, "truncated .npy header (\(head.count) bytes)")
        }
        if received < h.dataBytes {
            throw DataError(path: name, "truncated: shape \(NPY.shapeText(h.shape)) of \(h.type.name) needs \(h.dataBytes) bytes but only \(received) follow the header")
        }
        var payload: NPYArray.Payload
        if purpose == .values {
            payload = h.type.kind == "u" && h.type.size == 1 ? .bytes(bytes) : .floats(floats)
        } else {
            payload = h.type.isText ? .text(text) : .integers(ints)
        }
        bytes = []; floats = []; ints = []; text = []
        if h.fortranOrder && h.shape.count >= 2 {
            payload = Self.toCOrder(payload, shape: h.shape)
        }
        return NPYArray(header: h, data: payload)
    }

    /// Reorders a Fortran-order (first index fastest) payload into C order (last index fastest).
    static func toCOrder(_ p: NPYArray.Payload, shape: [Int]) -> NPYArray.Payload {
        func reorder<T>(_ a: [T]) -> [T] {
            guard a.count > 1 else { return a }
            let n = shape.count
            var out = [T]()
            out.reserveCapacity(a.count)
            // Fortran strides: stride[0] = 1, stride[k] = stride[k-1] * shape[k-1].
            var fStride = [Int](repeating: 1, count: n)
            for k in 1..<n { fStride[k] = fStride[k - 1] * shape[k - 1] }
            var index = [Int](repeating: 0, count: n)
            for _ in 0..<a.count {
                var off = 0
                for k in 0..<n { off += index[k] * fStride[k] }
                out.append(a[off])
                var k = n - 1
                while k >= 0 {
                    index[k] += 1
                    if index[k] < shape[k] { break }
                    index[k] = 0
                    k -= 1
                }
            }
            return out
        }
        switch p {
        case .bytes(let b): return .bytes(reorder(b))
        case .floats(let f): return .floats(reorder(f))
        case .integers(let i): return .integers(reorder(i))
        case .text(let t): return .text(reorder(t))
        }
    }
}

enum PyValue: Equatable {
    case string(String)
    case bool(Bool)
    case int(Int)
    case tuple([Int])
    case none
    case other
}

/// Parses the Python dict literal of a .npy header: string keys; values string, True/False/None, int, tuple of
/// ints (a list, as structured dtypes have, is skipped over as `.other`).
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
        if c == "[" {
            // A structured dtype's field list: skip to the matching bracket.
            var depth = 0
            while let d = peek() {
                if d == "[" || d == "(" { depth += 1 } else if d == "]" || d == ")" { depth -= 1 }
                i += 1
                if depth == 0 { return .other }
            }
            throw Failure(message: "unexpected end inside a list")
        }
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

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
