#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reader for IDX files (the MNIST format), raw or gzip-compressed. Only unsigned-byte data (type 0x08).
public enum IDX {
    /// Reads an IDX file. A file that starts with 1f 8b is decompressed with zlib; anything else is read as raw IDX.
    /// Checks: magic (0x00 0x00 0x08 N), dimension count, header and data length against the header (neither too
    /// short nor trailing bytes), and for gzip the stream's integrity (CRC). Errors begin with the file's path.
    /// - Returns: the dimensions (e.g. [60000, 28, 28]) and the data bytes without the header.
    public static func read(path: String) throws -> (dims: [Int], bytes: [UInt8]) {
        let handle = try FileBytes.Handle(path: path)
        if handle.size == 0 { throw DataError(path: path, "is empty (0 bytes)") }
        var magic: [UInt8] = [0, 0]
        let peeked = magic.withUnsafeMutableBytes { pread(handle.fd, $0.baseAddress!, 2, 0) }
        let reader: IDXByteReader
        let compressed = peeked == 2 && magic[0] == 0x1f && magic[1] == 0x8b
        if compressed {
            let bytes = try FileBytes.readAll(path: path)
            reader = GzipReader(stream: try InflateStream(compressed: bytes, path: path))
        } else {
            reader = RawReader(handle: handle)
        }
        let what = compressed ? "decompressed data" : "file"
        return try parse(reader, path: path, what: what)
    }

    private static func parse(_ reader: IDXByteReader, path: String, what: String) throws -> (dims: [Int], bytes: [UInt8]) {
        var head = [UInt8](repeating: 0, count: 4)
        let got = try head.withUnsafeMutableBytes { try reader.read(into: $0.baseAddress!, count: 4) }
        if got < 4 {
            throw DataError(path: path, "truncated: the \(what) has only \(got) byte\(got == 1 ? "" : "s"), too short for an IDX header")
        }
        guard head[0] == 0, head[1] == 0 else {
            throw DataError(path: path, "not an IDX file: magic number is \(hex(head)), expected 00 00 08 01 (labels) or 00 00 08 03 (images)")
        }
        guard head[2] == 0x08 else {
            throw DataError(path: path, "IDX data type 0x\(hex([head[2]])) (\(typeName(head[2]))) is not supported; only unsigned bytes (0x08)")
        }
        let ndims = Int(head[3])
        guard ndims >= 1 else { throw DataError(path: path, "IDX header declares 0 dimensions") }
        var dimBytes = [UInt8](repeating: 0, count: 4 * ndims)
        let gotDims = try dimBytes.withUnsafeMutableBytes { try reader.read(into: $0.baseAddress!, count: 4 * ndims) }
        if gotDims < 4 * ndims {
            throw DataError(path: path, "truncated in the header: \(ndims) dimension\(ndims == 1 ? "" : "s") need \(4 + 4 * ndims) header bytes but the \(what) has \(4 + gotDims)")
        }
        var dims: [Int] = []
        var total = 1
        for i in 0..<ndims {
            let d = Int(dimBytes[4 * i]) << 24 | Int(dimBytes[4 * i + 1]) << 16 | Int(dimBytes[4 * i + 2]) << 8 | Int(dimBytes[4 * i + 3])
            dims.append(d)
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow || p > (1 << 34) {
                throw DataError(path: path, "IDX header declares implausible dimensions \(dims.map(String.init).joined(separator: "x"))...")
            }
            total = p
        }
        let headerSize = 4 + 4 * ndims
        var filled = 0
        // Never allocate more than the source can hold: a 20-byte file may claim 16 GiB of data.
        let room = min(total, reader.mostRemaining)
        let data = try [UInt8](unsafeUninitializedCapacity: room) { buf, initialized in
            if room > 0 { filled = try reader.read(into: buf.baseAddress!, count: room) }
            initialized = filled
        }
        if filled < total {
            throw DataError(path: path, "truncated: header says \(describe(dims)) (\(total) bytes) but the \(what) has only \(filled) after the \(headerSize)-byte header")
        }
        let extra = try reader.countRemaining()
        if extra > 0 {
            throw DataError(path: path, "\(extra) unexpected trailing byte\(extra == 1 ? "" : "s"): header says \(describe(dims)) (\(total) bytes) but the \(what) has \(total + extra) after the \(headerSize)-byte header")
        }
        return (dims, data)
    }

    static func describe(_ dims: [Int]) -> String {
        switch dims.count {
        case 1: return "\(dims[0]) labels"
        case 3: return "\(dims[0]) images of \(dims[1])x\(dims[2])"
        default: return "dimensions \(dims.map(String.init).joined(separator: "x"))"
        }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return bytes.map { String([digits[Int($0 >> 4)], digits[Int($0 & 15)]]) }.joined(separator: " ")
    }

    private static func typeName(_ t: UInt8) -> String {
        switch t {
        case 0x09: return "signed byte"
        case 0x0B: return "short"
        case 0x0C: return "int"
        case 0x0D: return "float"
        case 0x0E: return "double"
        default: return "unknown type"
        }
    }
}

private protocol IDXByteReader: AnyObject {
    func read(into dst: UnsafeMutableRawPointer, count: Int) throws -> Int
    /// Reads to the end and returns how many bytes were left (for gzip this also verifies the stream's CRC).
    func countRemaining() throws -> Int
    /// An upper bound on the bytes still to come.
    var mostRemaining: Int { get }
}

private final class RawReader: IDXByteReader {
    let handle: FileBytes.Handle
    init(handle: FileBytes.Handle) { self.handle = handle }
    func read(into dst: UnsafeMutableRawPointer, count: Int) throws -> Int { try handle.read(into: dst, count: count) }
    func countRemaining() throws -> Int {
        let here = lseek(handle.fd, 0, SEEK_CUR)
        let end = lseek(handle.fd, 0, SEEK_END)
        return here >= 0 && end >= here ? Int(end - here) : 0
    }
    var mostRemaining: Int {
        var st = stat()
        let here = lseek(handle.fd, 0, SEEK_CUR)
        guard fstat(handle.fd, &st) == 0, here >= 0 else { return handle.size }
        return max(0, Int(st.st_size) - Int(here))
    }
}

private final class GzipReader: IDXByteReader {
    let stream: InflateStream
    init(stream: InflateStream) { self.stream = stream }
    /// Deflate expands at most 1032:1.
    var mostRemaining: Int { stream.compressedCount.multipliedReportingOverflow(by: 1032).overflow ? Int.max : stream.compressedCount * 1032 }
    func read(into dst: UnsafeMutableRawPointer, count: Int) throws -> Int { try stream.read(into: dst, count: count) }
    func countRemaining() throws -> Int {
        var total = 0
        var scratch = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try scratch.withUnsafeMutableBytes { try stream.read(into: $0.baseAddress!, count: $0.count) }
            total += n
            if n < scratch.count { return total }
        }
    }
}
