import CZlibShim

/// gzip (and zlib) decompression through the system zlib.
public enum Gzip {
    /// True if `bytes` starts with the gzip magic 1f 8b.
    public static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b }

    /// The decompressed contents of a gzip file. Errors name the file: not gzip, truncated, corrupt, unreadable.
    public static func decompressFile(path: String) throws -> [UInt8] {
        let compressed = try FileBytes.readAll(path: path)
        if compressed.isEmpty { throw DataError(path: path, "is empty (0 bytes)") }
        guard isGzip(compressed) else { throw DataError(path: path, "is not gzip data (it does not start with 1f 8b)") }
        return try decompress(compressed, path: path)
    }

    /// Decompresses gzip or zlib data held in memory; `path` only names the data in errors.
    public static func decompress(_ compressed: [UInt8], path: String) throws -> [UInt8] {
        let stream = try InflateStream(compressed: compressed, path: path)
        // The gzip trailer's ISIZE (length mod 2^32) is a good first guess of the output size.
        var guess = 0
        if isGzip(compressed), compressed.count >= 18 {
            let n = compressed.count
            guess = Int(compressed[n - 4]) | Int(compressed[n - 3]) << 8 | Int(compressed[n - 2]) << 16 | Int(compressed[n - 1]) << 24
        }
        // A damaged or cut file has a meaningless trailer: deflate cannot expand more than 1032:1.
        if guess <= 0 || guess > compressed.count * 1032 || guess > (1 << 31) { guess = max(compressed.count * 4, 1 << 16) }
        var out = [UInt8](repeating: 0, count: guess + 1)   // +1: reaching the end of the stream needs no second pass
        var used = 0
        while true {
            let room = out.count - used
            let n = try out.withUnsafeMutableBytes { try stream.read(into: $0.baseAddress! + used, count: room) }
            used += n
            if n < room { break }   // the stream ended
            out.append(contentsOf: repeatElement(0, count: out.count))
        }
        out.removeLast(out.count - used)
        return out
    }
}

/// Incremental inflate over a compressed buffer held in memory (gzip or zlib, detected from the header).
/// Concatenated gzip members are decompressed one after another; the CRC and length of each are checked by zlib.
final class InflateStream {
    let path: String
    private let strm: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutablePointer<UInt8>
    private let inputCount: Int
    /// Size of the compressed input.
    var compressedCount: Int { inputCount }
    private(set) var finished = false
    private var totalOut = 0

    init(compressed: [UInt8], path: String) throws {
        self.path = path
        inputCount = compressed.count
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(compressed.count, 1))
        compressed.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { buffer.initialize(from: base, count: src.count) }
        }
        input = buffer
        strm = .allocate(capacity: 1)
        strm.initialize(to: z_stream())
        strm.pointee.next_in = input
        strm.pointee.avail_in = 0
        // 15 + 32: a 32 KiB window, gzip or zlib header detected automatically.
        let rc = inflateInit2_(strm, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        if rc != Z_OK {
            strm.deallocate()
            input.deallocate()
            throw DataError(path: path, "cannot start zlib (error \(rc))")
        }
        feed()
    }

    deinit {
        inflateEnd(strm)
        strm.deallocate()
        input.deallocate()
    }

    private var consumed: Int { Int(bitPattern: strm.pointee.next_in) - Int(bitPattern: input) }

    /// Hands zlib as much of the remaining input as `avail_in` can describe.
    private func feed() {
        if strm.pointee.avail_in == 0 {
            let left = inputCount - consumed
            strm.pointee.avail_in = UInt32(min(left, Int(UInt32.max)))
        }
    }

    /// Decompresses up to `count` bytes into `dst`. Returns fewer only when the compressed data has ended.
    func read(into dst: UnsafeMutableRawPointer, count: Int) throws -> Int {
        var produced = 0
        while produced < count && !finished {
            let room = min(count - produced, Int(UInt32.max))
            strm.pointee.next_out = (dst + produced).assumingMemoryBound(to: UInt8.self)
            strm.pointee.avail_out = UInt32(room)
            feed()
            let rc = inflate(strm, Z_NO_FLUSH)
            let made = room - Int(strm.pointee.avail_out)
            produced += made
            totalOut += made
            switch rc {
            case Z_OK:
                continue
            case Z_STREAM_END:
                try endOfMember()
            case Z_BUF_ERROR:
                if consumed >= inputCount {
                    throw DataError(path: path, "compressed data ends early: the file is truncated (\(inputCount) bytes read, \(totalOut) bytes decompressed)")
                }
                if made == 0 { throw DataError(path: path, "zlib made no progress at compressed byte \(consumed)") }
            case Z_DATA_ERROR, Z_NEED_DICT:
                throw DataError(path: path, "corrupt compressed data near byte \(consumed) of \(inputCount) (zlib: \(message(rc)))")
            case Z_MEM_ERROR:
                throw DataError(path: path, "out of memory while decompressing")
            default:
                throw DataError(path: path, "decompression failed (zlib: \(message(rc)))")
            }
        }
        return produced
    }

    private func message(_ rc: Int32) -> String {
        if let m = strm.pointee.msg { return String(cString: m) }
        switch rc {
        case Z_NEED_DICT: return "needs a preset dictionary"
        case Z_DATA_ERROR: return "data error"
        default: return "error \(rc)"
        }
    }

    /// After one gzip member: another member may follow; zero padding is tolerated; anything else is an error.
    private func endOfMember() throws {
        let start = consumed
        if start >= inputCount { finished = true; return }
        if inputCount - start >= 2 && input[start] == 0x1f && input[start + 1] == 0x8b {
            inflateReset(strm)
            strm.pointee.avail_in = 0
            return
        }
        var i = start
        while i < inputCount && input[i] == 0 { i += 1 }
        if i == inputCount { finished = true; return }
        throw DataError(path: path, "\(inputCount - start) unexpected bytes after the end of the compressed data (at byte \(start))")
    }
}
