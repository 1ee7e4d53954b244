import CZlibShim

/// Encode 8-bit RGB pixels (row-major, top row first) as a PNG file:
/// signature, IHDR, one zlib-deflated IDAT and IEND, each with its CRC-32.
func encodePNG(width: Int, height: Int, rgb: [UInt8]) -> [UInt8] {
    precondition(rgb.count == width * height * 3)
    // Scanlines: filter byte, then the row. "Sub" filtering (type 1) turns
    // flat areas into zeros, which deflate squeezes well.
    let stride = width * 3
    var raw = [UInt8](repeating: 0, count: height * (stride + 1))
    for y in 0..<height {
        let o = y * (stride + 1), s = y * stride
        raw[o] = 1
        for i in 0..<stride {
            let left: UInt8 = i >= 3 ? rgb[s + i - 3] : 0
            raw[o + 1 + i] = rgb[s + i] &- left
        }
    }
    var bound = compressBound(uLong(raw.count))
    var packed = [UInt8](repeating: 0, count: Int(bound))
    let status = packed.withUnsafeMutableBufferPointer { dst in
        raw.withUnsafeBufferPointer { src in
            compress2(dst.baseAddress, &bound, src.baseAddress, uLong(src.count), 9)
        }
    }
    precondition(status == Z_OK, "zlib compress2 failed: \(status)")
    packed.removeSubrange(Int(bound)...)

    var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    func chunk(_ type: String, _ data: [UInt8]) {
        let body = Array(type.utf8) + data
        out += be32(UInt32(data.count))
        out += body
        let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        out += be32(UInt32(crc))
    }
    // IHDR: width, height, bit depth 8, colour type 2 (RGB), deflate,
    // adaptive filtering, no interlace.
    chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [8, 2, 0, 0, 0])
    chunk("IDAT", packed)
    chunk("tEXt", Array("Software".utf8) + [0] + Array("preflight".utf8))
    chunk("IEND", [])
    return out
}
