import CZlibShim
import Foundation
import PreflightPlot

/// Points (1, f(1)) ... (n, f(n)).
func curve(_ n: Int, _ f: (Double) -> Double) -> [(x: Double, y: Double)] {
    (1...n).map { i -> (x: Double, y: Double) in
        let x = Double(i)
        return (x: x, y: f(x))
    }
}

/// Remove ANSI escape sequences (ESC [ ... letter).
func stripANSI(_ s: String) -> String {
    var out = ""
    var inEscape = false
    for u in s.unicodeScalars {
        if inEscape {
            if (0x40...0x7E).contains(u.value) && u != "[" { inEscape = false }
            continue
        }
        if u == "\u{1B}" { inEscape = true; continue }
        out.unicodeScalars.append(u)
    }
    return out
}

func isBraille(_ c: Character) -> Bool {
    guard let u = c.unicodeScalars.first else { return false }
    return (0x2801...0x28FF).contains(u.value)
}

struct PNGChunk {
    var type: String
    var data: [UInt8]
    var crcOK: Bool
}

enum PNGError: Error { case badSignature, truncated, inflate(Int32) }

func be32(_ b: [UInt8], _ o: Int) -> UInt32 {
    UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
}

/// Split a PNG file into chunks, checking each CRC with zlib's crc32.
func pngChunks(_ png: [UInt8]) throws -> [PNGChunk] {
    guard png.count >= 8, Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
        throw PNGError.badSignature
    }
    var chunks: [PNGChunk] = []
    var o = 8
    while o < png.count {
        guard o + 12 <= png.count else { throw PNGError.truncated }
        let len = Int(be32(png, o))
        guard o + 12 + len <= png.count else { throw PNGError.truncated }
        let body = Array(png[(o + 4)..<(o + 8 + len)])
        let crc = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        let stored = be32(png, o + 8 + len)
        let type = String(decoding: body[0..<4], as: UTF8.self)
        chunks.append(PNGChunk(type: type, data: Array(body[4...]), crcOK: crc == stored))
        o += 12 + len
    }
    return chunks
}

/// zlib-inflate `data`, expecting about `expected` bytes.
func inflate(_ data: [UInt8], expected: Int) throws -> [UInt8] {
    var out = [UInt8](repeating: 0, count: expected + 1024)
    var outLen = uLongf(out.count)
    let rc = out.withUnsafeMutableBufferPointer { dst in
        data.withUnsafeBufferPointer { src in
            uncompress(dst.baseAddress, &outLen, src.baseAddress, uLong(src.count))
        }
    }
    guard rc == Z_OK else { throw PNGError.inflate(rc) }
    return Array(out[0..<Int(outLen)])
}

/// Undo PNG scanline filters (types 0–4) for 8-bit samples.
func unfilter(_ raw: [UInt8], width: Int, height: Int, channels: Int) -> [UInt8] {
    let stride = width * channels
    var out = [UInt8](repeating: 0, count: stride * height)
    for y in 0..<height {
        let f = raw[y * (stride + 1)]
        for i in 0..<stride {
            let x = raw[y * (stride + 1) + 1 + i]
            let a = i >= channels ? Int(out[y * stride + i - channels]) : 0
            let b = y > 0 ? Int(out[(y - 1) * stride + i]) : 0
            let c = (y > 0 && i >= channels) ? Int(out[(y - 1) * stride + i - channels]) : 0
            let pred: Int
            switch f {
            case 0: pred = 0
            case 1: pred = a
            case 2: pred = b
            case 3: pred = (a + b) / 2
            default:
                let p = a + b - c
                let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
            }
            out[y * stride + i] = UInt8(truncatingIfNeeded: Int(x) + pred)
        }
    }
    return out
}

/// A decoded PNG: checks structure on the way.
struct DecodedPNG {
    var width: Int, height: Int, channels: Int
    var rawLength: Int
    var pixels: [UInt8]
    var chunks: [PNGChunk]

    init(_ png: [UInt8]) throws {
        chunks = try pngChunks(png)
        let ihdr = chunks.first!.data
        width = Int(be32(ihdr, 0))
        height = Int(be32(ihdr, 4))
        channels = ihdr[9] == 6 ? 4 : (ihdr[9] == 2 ? 3 : 1)
        let idat = chunks.filter { $0.type == "IDAT" }.flatMap(\.data)
        let raw = try inflate(idat, expected: height * (1 + width * channels))
        rawLength = raw.count
        pixels = unfilter(raw, width: width, height: height, channels: channels)
    }

    func rgb(_ x: Int, _ y: Int) -> RGB {
        let i = (y * width + x) * channels
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Positions of pixels exactly of colour `c`.
    func positions(of c: RGB) -> [(x: Int, y: Int)] {
        var out: [(x: Int, y: Int)] = []
        for y in 0..<height {
            for x in 0..<width where rgb(x, y) == c { out.append((x, y)) }
        }
        return out
    }
}
