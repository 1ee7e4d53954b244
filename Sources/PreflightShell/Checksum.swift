#if canImport(CZlibShim)
import CZlibShim
#endif

/// CRC-32 (ISO 3309, as ZIP and PNG use it): the fingerprint `save` keeps of the session's data.
enum CRC32 {
    #if !canImport(CZlibShim)
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    #endif

    /// CRC-32 of `bytes`, continuing from `crc`.
    static func checksum(_ bytes: UnsafeBufferPointer<UInt8>, _ crc: UInt32 = 0) -> UInt32 {
        #if canImport(CZlibShim)
        var c = uLong(crc)
        var p = bytes.baseAddress, left = bytes.count
        while left > 0, let base = p {
            let n = min(left, 1 << 30)
            c = crc32(c, base, uInt(n))
            p = base + n; left -= n
        }
        return UInt32(truncatingIfNeeded: c)
        #else
        var c = ~crc
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return ~c
        #endif
    }

    static func checksum(_ bytes: [UInt8], _ crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { checksum($0, crc) }
    }
}
