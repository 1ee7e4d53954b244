// A stored (uncompressed) ZIP container: with the .npy arrays PreflightData writes (`NPY.encode`), an .npz
// file `numpy.load` reads.
#if canImport(CZlibShim)
import CZlibShim
#endif

/// A problem reading an .npy array or a ZIP archive; `description` is one line without the file name.
struct ArchiveError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

// MARK: - CRC-32

enum CRC32 {
    #if !canImport(CZlibShim)
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    #endif

    /// CRC-32 (ISO 3309, as ZIP and PNG use it) of `bytes`, continuing from `crc`.
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

// MARK: - Little-endian byte helpers

struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u16(_ v: Int) { bytes.append(UInt8(v & 0xFF)); bytes.append(UInt8((v >> 8) & 0xFF)) }
    mutating func u32(_ v: UInt32) { for s in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8((v >> UInt32(s)) & 0xFF)) } }
    mutating func u32(_ v: Int) { u32(UInt32(truncatingIfNeeded: v)) }
    mutating func append(_ b: [UInt8]) { bytes += b }
}

extension Array where Element == UInt8 {
    func le16(_ at: Int) -> Int? {
        guard at >= 0, at + 2 <= count else { return nil }
        return Int(self[at]) | Int(self[at + 1]) << 8
    }
    func le32(_ at: Int) -> Int? {
        guard at >= 0, at + 4 <= count else { return nil }
        return Int(self[at]) | Int(self[at + 1]) << 8 | Int(self[at + 2]) << 16 | Int(self[at + 3]) << 24
    }
}

// MARK: - Stored ZIP

/// A ZIP archive whose entries are stored uncompressed (method 0), each with its CRC-32.
enum StoredZip {
    /// 1980-01-01 00:00 in DOS format: fixed so the same content gives the same bytes.
    static let dosDate = (0 << 9) | (1 << 5) | 1, dosTime = 0

    static func write(_ entries: [(name: String, data: [UInt8])]) throws -> [UInt8] {
        var w = ByteWriter()
        var central = ByteWriter()
        for e in entries {
            let name = Array(e.name.utf8)
            guard e.data.count < 0xFFFF_FFFF, w.bytes.count < 0xFFFF_FFFF, name.count < 0xFFFF else {
                throw ArchiveError("entry \(e.name) is too large for a ZIP without ZIP64")
            }
            let crc = CRC32.checksum(e.data)
            let offset = w.bytes.count
            w.u32(0x0403_4B50 as UInt32)
            w.u16(20); w.u16(0x0800); w.u16(0)           // version needed, flags (UTF-8 names), stored
            w.u16(dosTime); w.u16(dosDate)
            w.u32(crc); w.u32(e.data.count); w.u32(e.data.count)
            w.u16(name.count); w.u16(0)
            w.append(name)
            w.append(e.data)

            central.u32(0x0201_4B50 as UInt32)
            central.u16(20); central.u16(20); central.u16(0x0800); central.u16(0)
            central.u16(dosTime); central.u16(dosDate)
            central.u32(crc); central.u32(e.data.count); central.u32(e.data.count)
            central.u16(name.count); central.u16(0); central.u16(0)   // name, extra, comment lengths
            central.u16(0); central.u16(0); central.u32(0)            // disk, internal and external attributes
            central.u32(offset)
            central.append(name)
        }
        let cdOffset = w.bytes.count
        guard cdOffset < 0xFFFF_FFFF, entries.count < 0xFFFF else { throw ArchiveError("archive too large for a ZIP without ZIP64") }
        w.append(central.bytes)
        w.u32(0x0605_4B50 as UInt32)
        w.u16(0); w.u16(0); w.u16(entries.count); w.u16(entries.count)
        w.u32(central.bytes.count); w.u32(cdOffset); w.u16(0)
        return w.bytes
    }

    /// Every entry, in archive order, with its CRC verified. Stored entries only.
    static func read(_ b: [UInt8]) throws -> [(name: String, data: [UInt8])] {
        guard b.count >= 4 else { throw ArchiveError("empty or truncated (only \(plural(b.count, "byte")))") }
        guard b.le32(0) == 0x0403_4B50 || b.le32(0) == 0x0605_4B50 else { throw ArchiveError("not a ZIP archive") }
        // The end-of-central-directory record: 22 bytes plus a comment of up to 65535 bytes, at the end.
        var eocd = -1
        var i = b.count - 22
        let lowest = max(0, b.count - 22 - 0xFFFF)
        while i >= lowest {
            if b[i] == 0x50, b.le32(i) == 0x0605_4B50, let cl = b.le16(i + 20), i + 22 + cl == b.count { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw ArchiveError("truncated or damaged: the ZIP directory at the end of the file is missing") }
        let n = b.le16(eocd + 10)!, cdSize = b.le32(eocd + 12)!, cdOffset = b.le32(eocd + 16)!
        guard cdOffset + cdSize <= eocd, n > 0 || cdSize == 0 else { throw ArchiveError("damaged: the ZIP directory points outside the file") }
        var entries: [(name: String, data: [UInt8])] = []
        var p = cdOffset
        for _ in 0..<n {
            guard b.le32(p) == 0x0201_4B50, let flags = b.le16(p + 8), let method = b.le16(p + 10),
                  let crc = b.le32(p + 16), let csize = b.le32(p + 20), let usize = b.le32(p + 24),
                  let nl = b.le16(p + 28), let xl = b.le16(p + 30), let cl = b.le16(p + 32), let off = b.le32(p + 42),
                  p + 46 + nl <= cdOffset + cdSize else {
                throw ArchiveError("damaged: a ZIP directory entry is broken")
            }
            let nameBytes = Array(b[(p + 46)..<(p + 46 + nl)])
            let name = String(decoding: nameBytes, as: UTF8.self)
            guard flags & 1 == 0 else { throw ArchiveError("entry \(name) is encrypted") }
            guard method == 0 else { throw ArchiveError("entry \(name) is compressed (method \(method)); only stored entries are read") }
            guard csize == usize else { throw ArchiveError("damaged: entry \(name) has inconsistent sizes") }
            guard b.le32(off) == 0x0403_4B50, let lnl = b.le16(off + 26), let lxl = b.le16(off + 28) else {
                throw ArchiveError("damaged: the local header of entry \(name) is missing")
            }
            let start = off + 30 + lnl + lxl
            guard start + csize <= cdOffset else { throw ArchiveError("truncated or damaged: entry \(name) runs past its end") }
            guard lnl == nl, Array(b[(off + 30)..<(off + 30 + lnl)]) == nameBytes else {
                throw ArchiveError("damaged: entry \(name) has a different name in its local header")
            }
            let data = Array(b[start..<(start + csize)])
            guard CRC32.checksum(data) == UInt32(crc) else {
                throw ArchiveError("damaged: entry \(name) fails its CRC check (a changed or corrupted byte)")
            }
            entries.append((name, data))
            p += 46 + nl + xl + cl
        }
        return entries
    }
}

import Foundation
