import CRsvg
import CZlibShim
import Foundation
import PreflightPlot

/// The distinct 256-colour codes (`ESC[38;5;Nm`) a terminal chart's text uses.
func terminalColourCodes(_ text: String) -> Set<String> {
    Set(text.components(separatedBy: "\u{1B}[38;5;").dropFirst().map { String($0.prefix { $0 != "m" }) })
}

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

enum PNGError: Error { case badSignature, truncated }

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

/// A PNG decoded by cairo (not by our code): its pixels as 8-bit RGB.
struct CairoImage {
    var width: Int, height: Int
    /// Row-major RGB triples.
    var pixels: [UInt8]

    init(_ png: [UInt8]) throws {
        let path = NSTemporaryDirectory() + "preflight-plot-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).png"
        try Data(png).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard let surface = cairo_image_surface_create_from_png(path) else { throw PNGError.truncated }
        defer { cairo_surface_destroy(surface) }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else { throw PNGError.truncated }
        width = Int(cairo_image_surface_get_width(surface))
        height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        let format = cairo_image_surface_get_format(surface)
        guard format == CAIRO_FORMAT_RGB24 || format == CAIRO_FORMAT_ARGB32,
              let data = cairo_image_surface_get_data(surface) else { throw PNGError.truncated }
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                // A native-endian 32-bit word 0xAARRGGBB per pixel (opaque here, so no premultiplication to undo).
                let word = data.advanced(by: y * stride + 4 * x).withMemoryRebound(to: UInt32.self, capacity: 1) { $0.pointee }
                let i = 3 * (y * width + x)
                pixels[i] = UInt8(word >> 16 & 0xFF)
                pixels[i + 1] = UInt8(word >> 8 & 0xFF)
                pixels[i + 2] = UInt8(word & 0xFF)
            }
        }
    }

    func rgb(_ x: Int, _ y: Int) -> RGB {
        let i = 3 * (y * width + x)
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Positions of pixels within `tolerance` of colour `c` in every channel (anti-aliasing blends the
    /// edges of a line with the background; its middle keeps the colour).
    func positions(of c: RGB, tolerance: Int = 6) -> [(x: Int, y: Int)] {
        var out: [(x: Int, y: Int)] = []
        for y in 0..<height {
            for x in 0..<width {
                let p = rgb(x, y)
                if abs(Int(p.r) - Int(c.r)) <= tolerance && abs(Int(p.g) - Int(c.g)) <= tolerance
                    && abs(Int(p.b) - Int(c.b)) <= tolerance { out.append((x, y)) }
            }
        }
        return out
    }
}
