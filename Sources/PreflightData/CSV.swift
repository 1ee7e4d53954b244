import Foundation
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How to read a CSV file (`data FILE.csv …`).
public struct CSVOptions: Sendable, Equatable {
    /// `--label COL`: the label column by header name or by number counting from 1; nil: the last column.
    public var label: String?
    /// false with `--no-header`: the first line is data.
    public var header: Bool
    /// `--delimiter C`; nil: a tab for .tsv/.tab files, else a comma.
    public var delimiter: UInt8?
    /// `--drop-missing`: drop rows with a missing cell instead of refusing the file.
    public var dropMissing: Bool

    public init(label: String? = nil, header: Bool = true, delimiter: UInt8? = nil, dropMissing: Bool = false) {
        self.label = label; self.header = header; self.delimiter = delimiter; self.dropMissing = dropMissing
    }
}

/// A streaming reader of numeric CSV tables with one label column. The file is read 16 MB at a time and each
/// piece is parsed on two threads; only the parsed floats are kept (4 bytes per cell).
public enum CSV {
    public static let chunkSize = 16 << 20

    /// Reads `path`: every column but the label column is a feature. The dataset has no test split
    /// (`test.count == 0`); the caller draws one.
    /// `chunkSize`: bytes read at a time (tests make it small to cut lines across reads).
    public static func read(path: String, options: CSVOptions = CSVOptions(), cancel: (() -> Bool)? = nil,
                            chunkSize: Int = CSV.chunkSize) throws -> Dataset {
        switch FileBytes.kind(path) {
        case .missing: throw DataError(path: path, "no such file")
        case .directory: throw DataError(path: path, "is a directory, expected a CSV file")
        case .other: throw DataError(path: path, "is not a regular file")
        case .file: break
        }
        let handle = try FileBytes.Handle(path: path)
        guard handle.size > 0 else { throw DataError(path: path, "is empty (0 bytes): expected a header row and data rows") }
        let lower = path.lowercased()
        let delimiter = options.delimiter ?? (lower.hasSuffix(".tsv") || lower.hasSuffix(".tab") ? UInt8(ascii: "\t") : UInt8(ascii: ","))

        // The file's bytes are read straight into `buffer`, of which the first `used` are valid; after each piece
        // is parsed, its unfinished last line moves to the front. It grows only for lines longer than a piece.
        var buffer = [UInt8](repeating: 0, count: chunkSize + 4096)
        var used = 0
        var eof = false
        /// Reads more of the file onto the end of `buffer[..<used]`; false at end of file.
        func fill() throws -> Bool {
            guard !eof else { return false }
            if cancel?() == true { throw DataError(path: path, "interrupted") }
            if buffer.count - used < chunkSize { buffer.append(contentsOf: repeatElement(0, count: used + chunkSize - buffer.count)) }
            let got = try buffer.withUnsafeMutableBytes { try handle.read(into: $0.baseAddress! + used, count: chunkSize) }
            if got == 0 { eof = true; return false }
            used += got
            return true
        }
        _ = try fill()
        try refuseBinary(Array(buffer[0..<used]), path: path)
        var pos = 0
        if buffer[0..<used].starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3 }   // UTF-8 byte-order mark

        // The first non-blank line: the header, or with --no-header the first row (which fixes the column count).
        var line = 1
        var first: (start: Int, end: Int, next: Int)? = nil
        while first == nil {
            if let nl = buffer[pos..<used].firstIndex(of: 10) {
                let end = nl > pos && buffer[nl - 1] == 13 ? nl - 1 : nl
                if isBlank(buffer, pos, end) { pos = nl + 1; line += 1; continue }
                first = (pos, end, nl + 1)
            } else if !(try fill()) {
                var end = used
                if end > pos && buffer[end - 1] == 13 { end -= 1 }
                if isBlank(buffer, pos, end) { throw DataError(path: path, "holds only blank lines: expected a header row and data rows") }
                first = (pos, end, used)
            }
        }
        let (fs, fe, afterFirst) = first!
        let firstFields: [String]
        do {
            firstFields = try buffer.withUnsafeBufferPointer { try splitText($0.baseAddress!, fs, fe, delimiter: delimiter) }
        } catch let e as LineError {
            throw DataError(path: path, "line \(line): \(e.message)")
        }
        let columns = firstFields.count
        guard columns >= 2 else {
            let d = delimiter == 9 ? "a tab" : "'\(Character(Unicode.Scalar(delimiter)))'"
            throw DataError(path: path, "line \(line) has 1 column: a table needs at least one feature and a label column (the delimiter is \(d); set another with --delimiter)")
        }
        let names: [String]? = options.header ? firstFields : nil
        let labelColumn = try resolveLabel(options.label, names: names, columns: columns, path: path)
        var notes: [String] = []
        if options.header {
            if firstFields.enumerated().allSatisfy({ $0.offset == labelColumn || quickNumber($0.element) }) {
                notes.append("the first line (taken as the header) is all numbers: if it is a data row, add --no-header")
            }
            if let n = names, Set(n).count < n.count {
                let dup = Dictionary(grouping: n, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
                notes.append("the header repeats column name\(dup.count == 1 ? "" : "s") \(dup.prefix(5).joined(separator: ", "))")
            }
            pos = afterFirst
            line += 1
        } else {
            pos = fs
        }
        let features = columns - 1
        let featureNames = names.map { n in n.enumerated().filter { $0.offset != labelColumn }.map(\.element) }
        let context = Context(path: path, delimiter: delimiter, columns: columns, labelColumn: labelColumn,
                              names: names, dropMissing: options.dropMissing, features: features)

        var values = [Float]()
        var labels = LabelSet.Raw(name: path)
        var dropped = 0
        var firstDropped: Int? = nil
        var reserved = false
        var totalRows = 0
        var spares: [[Float]] = [[], []]
        while true {
            // Parse the complete lines of buffer[pos..<used] (at end of file, all of it); keep a partial last line.
            let stop: Int
            if eof {
                stop = used
            } else if let lastNL = buffer[pos..<used].lastIndex(of: 10) {
                stop = lastNL + 1
            } else {
                _ = try fill()
                continue
            }
            if pos < stop {
                // Two halves, cut at a line end, parsed at once.
                var cut = stop
                if stop - pos >= 1 << 16, let nl = buffer[(pos + (stop - pos) / 2)..<stop].firstIndex(of: 10) { cut = nl + 1 }
                let ranges = [(pos, cut), (cut, stop)]
                let blocks = BlockBox(count: 2, spares: spares)
                spares = [[], []]   // the box alone holds them now, so each thread's array stays uniquely owned
                buffer.withUnsafeBufferPointer { buf in
                    // The buffer is only read while both threads parse, and outlives them.
                    let base = BytesPointer(p: buf.baseAddress!)
                    DispatchQueue.concurrentPerform(iterations: 2) { k in
                        let (a, b) = ranges[k]
                        blocks.set(k, a < b ? parseBlock(base.p, a, b, context, reusing: blocks.takeSpare(k)) : Block())
                    }
                }
                var lineOffset = line
                for k in 0..<2 {
                    var b = blocks.take(k)
                    if let e = b.error { throw DataError(path: path, "line \(lineOffset + e.line): \(e.message)") }
                    if !reserved && b.rows > 0 && !eof {
                        // Room for the whole file at this block's bytes per row (plus a little), so the array grows once.
                        let perRow = Double(ranges[k].1 - ranges[k].0) / Double(b.rows + b.dropped)
                        let estimate = Int(Double(handle.size) / max(perRow, 1) * 1.02) + 16
                        values.reserveCapacity(estimate * features)
                        reserved = true
                    }
                    values.append(contentsOf: b.values)
                    let table = try b.labelTexts.enumerated().map { (i, t) in
                        try labels.id(of: t, location: { "line \(lineOffset + b.labelFirstLine[i])" })
                    }
                    labels.ids.reserveCapacity(labels.ids.count + b.labelIds.count)
                    for id in b.labelIds { labels.ids.append(table[Int(id)]) }
                    if b.dropped > 0 && firstDropped == nil { firstDropped = lineOffset + b.firstDroppedLine }
                    dropped += b.dropped
                    totalRows += b.rows
                    lineOffset += b.lines
                    // The block's float array goes back for the next piece: fresh memory would have to be zeroed.
                    spares[k] = b.values
                    b.values = []
                }
                line = lineOffset
            }
            buffer.withUnsafeMutableBytes { p in
                if used > stop { memmove(p.baseAddress!, p.baseAddress! + stop, used - stop) }
            }
            used -= stop
            pos = 0
            if eof { break }
            _ = try fill()
        }
        guard totalRows > 0 else {
            if dropped > 0 {
                throw DataError(path: path, "every one of its \(dropped) data rows has a missing value (first at line \(firstDropped ?? 0)); nothing is left with --drop-missing")
            }
            throw DataError(path: path, options.header ? "has a header row but no data rows" : "has no data rows")
        }
        if dropped > 0 {
            notes.insert("--drop-missing: dropped \(dropped) row\(dropped == 1 ? "" : "s") with a missing value (the first at line \(firstDropped ?? 0)); \(totalRows) remain", at: 0)
        }
        let resolved = try LabelSet.resolve(train: labels, test: nil, fixedClasses: nil)
        var d = Dataset(name: path, source: path, rows: 1, cols: features, classes: resolved.classes,
                        train: DataSplit(values: values, labels: resolved.train, count: totalRows),
                        test: DataSplit(values: [], labels: [], count: 0))
        d.isImage = false
        d.featureNames = featureNames
        d.classNames = resolved.names
        d.notes = notes + resolved.notes
        return d
    }

    /// The label column's index (from 0).
    static func resolveLabel(_ label: String?, names: [String]?, columns: Int, path: String) throws -> Int {
        guard let label else { return columns - 1 }
        if let names {
            if let i = names.firstIndex(of: label) { return i }
            let folded = names.indices.filter { names[$0].lowercased() == label.lowercased() }
            if folded.count == 1 { return folded[0] }
        }
        if let n = Int(label) {
            guard n >= 1 && n <= columns else {
                throw DataError(path: path, "--label \(n): the table has columns 1-\(columns) (counting from 1)")
            }
            return n - 1
        }
        if let names {
            let list = names.prefix(12).joined(separator: ", ") + (names.count > 12 ? ", …" : "")
            throw DataError(path: path, "--label \(label): no such column; the header has \(list) (or give a column number, counting from 1)")
        }
        throw DataError(path: path, "--label \(label): with --no-header, give the label column's number (counting from 1)")
    }

    /// Refuses files that are not text: NUL bytes, or the magic numbers of common binary formats.
    static func refuseBinary(_ b: [UInt8], path: String) throws {
        let head = b.prefix(8)
        let kinds: [([UInt8], String)] = [([0x1F, 0x8B], "gzip-compressed (decompress it first)"),
                                          ([0x50, 0x4B, 0x03, 0x04], "a ZIP archive (an .npz? name it .npz)"),
                                          ([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59], "a NumPy .npy array (name it .npy)"),
                                          ([0x00, 0x00, 0x08], "an IDX file (give its folder)")]
        for (magic, what) in kinds where head.starts(with: magic) {
            throw DataError(path: path, "is \(what), not CSV text")
        }
        if let i = b.prefix(1 << 16).firstIndex(of: 0) {
            throw DataError(path: path, "is a binary file, not CSV text (a NUL byte at offset \(i))")
        }
    }

    static func isBlank(_ b: [UInt8], _ a: Int, _ z: Int) -> Bool {
        var i = a
        while i < z { if b[i] != 32 && b[i] != 9 { return false }; i += 1 }
        return true
    }

    static func quickNumber(_ s: String) -> Bool {
        guard !s.isEmpty else { return false }
        return Double(s) != nil
    }

    struct LineError: Error { var message: String }

    /// The fields of one line as text (the header; quotes removed).
    static func splitText(_ base: UnsafePointer<UInt8>, _ a: Int, _ z: Int, delimiter: UInt8) throws -> [String] {
        var out: [String] = []
        var i = a
        var scratch: [UInt8] = []
        while true {
            let (fs, fe, next, quoted) = try field(base, i, z, delimiter: delimiter, scratch: &scratch)
            if quoted { out.append(String(decoding: scratch, as: UTF8.self)) }
            else { out.append(String(decoding: UnsafeBufferPointer(start: base + fs, count: fe - fs), as: UTF8.self)) }
            guard let n = next else { break }
            i = n
        }
        return out
    }

    /// The field starting at `i` (up to `z`, the end of the line): its trimmed bounds, where the next field starts
    /// (nil at the end of the line), and whether it was quoted (its text is then in `scratch`, quotes undone).
    @inline(__always)
    static func field(_ base: UnsafePointer<UInt8>, _ i0: Int, _ z: Int, delimiter: UInt8,
                      scratch: inout [UInt8]) throws -> (Int, Int, Int?, Bool) {
        var i = i0
        // Spaces and tabs around a field are padding, unless one of them is the delimiter.
        @inline(__always) func pad(_ c: UInt8) -> Bool { (c == 32 || c == 9) && c != delimiter }
        while i < z && pad(base[i]) { i += 1 }
        if i < z && base[i] == 34 {   // a quoted field
            scratch.removeAll(keepingCapacity: true)
            i += 1
            while true {
                guard i < z else { throw LineError(message: "a quoted field is not closed before the end of the line (fields spanning lines are not supported)") }
                if base[i] == 34 {
                    if i + 1 < z && base[i + 1] == 34 { scratch.append(34); i += 2; continue }
                    i += 1
                    break
                }
                scratch.append(base[i]); i += 1
            }
            while i < z && pad(base[i]) { i += 1 }
            if i >= z { return (0, 0, nil, true) }
            guard base[i] == delimiter else { throw LineError(message: "unexpected text after a closing quote") }
            return (0, 0, i + 1, true)
        }
        let s = i
        while i < z && base[i] != delimiter { i += 1 }
        var e = i
        while e > s && pad(base[e - 1]) { e -= 1 }
        return (s, e, i < z ? i + 1 : nil, false)
    }

    struct Context: @unchecked Sendable {
        var path: String
        var delimiter: UInt8
        var columns: Int
        var labelColumn: Int
        var names: [String]?
        var dropMissing: Bool
        var features: Int

        func column(_ c: Int) -> String {
            if let n = names, c < n.count, !n[c].isEmpty { return "column \(c + 1) (\(n[c].prefix(40)))" }
            return "column \(c + 1)"
        }
    }

    /// What one thread parsed: rows of floats and their labels (as indices into its own distinct label texts).
    struct Block {
        var values: [Float] = []
        var labelIds: [UInt32] = []
        var labelTexts: [String] = []
        /// For each distinct label, the line it first appears on, relative to the block's first line (0).
        var labelFirstLine: [Int] = []
        var rows = 0
        var dropped = 0
        var firstDroppedLine = 0
        /// Lines consumed (blank ones included).
        var lines = 0
        var error: (line: Int, message: String)? = nil
    }

    enum Cell { case number(Float), missing, nonFinite, outOfRange, text }

    private static let missingTokens: Set<String> = ["", "na", "n/a", "nan", "null", "none", "?", "-nan"]

    /// Parses the lines in `[a, z)` (complete lines, the last perhaps without its newline at end of file).
    static func parseBlock(_ base: UnsafePointer<UInt8>, _ a: Int, _ z: Int, _ cx: Context, reusing spare: consuming [Float] = []) -> Block {
        var b = Block()
        b.values = consume spare
        b.values.removeAll(keepingCapacity: true)
        b.values.reserveCapacity((z - a) / 4)
        var index: [String: UInt32] = [:]
        var lastLabel: (start: Int, count: Int, id: UInt32)? = nil
        var scratch: [UInt8] = []
        var pos = a
        let features = cx.features
        let p10 = pow10Table
        while pos < z {
            let lineNo = b.lines
            b.lines += 1
            var lineEnd = z
            if let p = memchr(base + pos, 10, z - pos) { lineEnd = base.distance(to: p.assumingMemoryBound(to: UInt8.self)) }
            let next = lineEnd + 1
            var end = lineEnd
            if end > pos && base[end - 1] == 13 { end -= 1 }
            defer { pos = next }
            var blank = true
            var k = pos
            while k < end { if base[k] != 32 && base[k] != 9 { blank = false; break }; k += 1 }
            if blank { continue }

            let rowStart = b.values.count
            /// A cell's error, unless the row has the wrong number of fields: that is the error then.
            func ragged(_ message: String) -> String {
                var n = 0, j: Int? = pos
                var tmp: [UInt8] = []
                while let jj = j { n += 1; j = (try? field(base, jj, end, delimiter: cx.delimiter, scratch: &tmp))?.2 ?? nil }
                if n == cx.columns { return message }
                return "\(n) field\(n == 1 ? "" : "s"), but the \(cx.names != nil ? "header has" : "first row has") \(cx.columns) (a ragged row)"
            }
            var col = 0
            var i: Int? = pos
            var missing = false
            var labelText: String? = nil
            var labelId: UInt32? = nil
            while let start = i {
                if col >= cx.columns {
                    var more = col
                    var j: Int? = start
                    while let jj = j { more += 1; j = (try? field(base, jj, end, delimiter: cx.delimiter, scratch: &scratch))?.2 ?? nil }
                    b.error = (lineNo, "\(more) fields, but the \(cx.names != nil ? "header has" : "first row has") \(cx.columns) (a ragged row)")
                    return b
                }
                // Most cells: a plain decimal right up to the delimiter or the end of the line.
                if col != cx.labelColumn, let (v, after) = fastNumber(base, start, end, cx.delimiter, p10) {
                    b.values.append(v)
                    col += 1
                    i = after < end ? after + 1 : nil
                    continue
                }
                let fs: Int, fe: Int, nxt: Int?, quoted: Bool
                do { (fs, fe, nxt, quoted) = try field(base, start, end, delimiter: cx.delimiter, scratch: &scratch) } catch let e as LineError {
                    b.error = (lineNo, "\(cx.column(col)): \(e.message)")
                    return b
                } catch { b.error = (lineNo, "\(error)"); return b }
                if col == cx.labelColumn {
                    if !quoted, let last = lastLabel, last.count == fe - fs, memcmp(base + last.start, base + fs, last.count) == 0 {
                        labelId = last.id
                    } else {
                        let text = quoted ? String(decoding: scratch, as: UTF8.self)
                            : String(decoding: UnsafeBufferPointer(start: base + fs, count: fe - fs), as: UTF8.self)
                        if let id = index[text] {
                            labelId = id
                            if !quoted { lastLabel = (fs, fe - fs, id) }
                        } else if missingTokens.contains(text.lowercased()) {
                            if !cx.dropMissing {
                                b.error = (lineNo, ragged("\(cx.column(col)): the label is missing (\(text.isEmpty ? "empty" : "'\(text)'")): fill it in, or add --drop-missing to drop such rows"))
                                return b
                            }
                            missing = true
                        } else {
                            labelText = text
                            if let id = index[text] { labelId = id } else {
                                let id = UInt32(b.labelTexts.count)
                                index[text] = id
                                b.labelTexts.append(text)
                                b.labelFirstLine.append(lineNo)
                                labelId = id
                            }
                            if !quoted { lastLabel = (fs, fe - fs, labelId!) }
                        }
                    }
                } else {
                    let cell: Cell
                    if quoted {
                        cell = scratch.withUnsafeBufferPointer { number($0.baseAddress ?? base, 0, $0.count) }
                    } else {
                        cell = number(base, fs, fe)
                    }
                    switch cell {
                    case .number(let v): b.values.append(v)
                    case .missing:
                        if !cx.dropMissing {
                            let text = quoted ? String(decoding: scratch, as: UTF8.self) : String(decoding: UnsafeBufferPointer(start: base + fs, count: fe - fs), as: UTF8.self)
                            b.error = (lineNo, ragged("\(cx.column(col)): missing value (\(text.isEmpty ? "empty" : "'\(text)'")): fill it in, or add --drop-missing to drop such rows"))
                            return b
                        }
                        missing = true
                        b.values.append(0)
                    case .nonFinite, .outOfRange, .text:
                        let text = quoted ? String(decoding: scratch, as: UTF8.self) : String(decoding: UnsafeBufferPointer(start: base + fs, count: fe - fs), as: UTF8.self)
                        let shown = "'\(text.prefix(40))\(text.count > 40 ? "…" : "")'"
                        let what: String
                        switch cell {
                        case .nonFinite: what = "non-finite value \(shown): features must be finite numbers"
                        case .outOfRange: what = "\(shown) is beyond the float range (±3.4e38)"
                        default: what = "\(shown) is not a number" + (col == cx.columns - 1 || cx.labelColumn == cx.columns - 1 ? "" : " (is it the label column? choose it with --label)")
                        }
                        b.error = (lineNo, ragged("\(cx.column(col)): \(what)"))
                        return b
                    }
                }
                col += 1
                i = nxt
            }
            if col != cx.columns {
                b.error = (lineNo, "\(col) field\(col == 1 ? "" : "s"), but the \(cx.names != nil ? "header has" : "first row has") \(cx.columns) (a ragged row)")
                return b
            }
            _ = labelText
            if missing {
                b.values.removeSubrange(rowStart...)
                if b.dropped == 0 { b.firstDroppedLine = lineNo }
                b.dropped += 1
                continue
            }
            precondition(b.values.count - rowStart == features)
            b.labelIds.append(labelId!)
            b.rows += 1
        }
        return b
    }

    private static let pow10: [Double] = (0...22).map { e in (0..<e).reduce(1.0) { r, _ in r * 10 } }
    /// 10^0 … 10^22 (all exact doubles), for `fastNumber`; never freed. Safe to share: written once, when the
    /// lazy initialiser runs, and only read after.
    nonisolated(unsafe) static let pow10Table: UnsafePointer<Double> = {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: 23)
        for e in 0...22 { p[e] = pow10[e] }
        return UnsafePointer(p)
    }()

    /// `[-]digits[.digits]` of at most 15 digits starting at `i0` and ending at the delimiter or `z`: its value
    /// (correctly rounded to a double, then to a float) and where it ends. nil for anything else (spaces, signs
    /// other than a leading minus, exponents, quotes, words, long numbers), which the general path handles.
    @inline(__always)
    static func fastNumber(_ p: UnsafePointer<UInt8>, _ i0: Int, _ z: Int, _ delimiter: UInt8,
                           _ p10: UnsafePointer<Double>) -> (Float, Int)? {
        var i = i0
        let neg = i < z && p[i] == 45
        if neg { i += 1 }
        var m: UInt64 = 0
        let d0 = i
        while i < z, p[i] &- 48 < 10 { m = m &* 10 &+ UInt64(p[i] &- 48); i += 1 }
        var nd = i - d0
        var frac = 0
        if i < z && p[i] == 46 {
            i += 1
            let f0 = i
            while i < z, p[i] &- 48 < 10 { m = m &* 10 &+ UInt64(p[i] &- 48); i += 1 }
            frac = i - f0
            nd += frac
        }
        guard nd > 0, nd <= 15, i == z || p[i] == delimiter else { return nil }
        var v = Double(m)
        if frac > 0 { v /= p10[frac] }
        return (Float(neg ? -v : v), i)
    }

    /// One numeric cell: plain decimals fast; anything else through strtod; missing markers and words recognised.
    @inline(__always)
    static func number(_ p: UnsafePointer<UInt8>, _ a: Int, _ z: Int) -> Cell {
        var i = a
        var neg = false
        if i < z && (p[i] == 45 || p[i] == 43) { neg = p[i] == 45; i += 1 }
        var m: UInt64 = 0
        var digits = 0, exp = 0
        var sawDigit = false
        while i < z, p[i] &- 48 < 10 {
            sawDigit = true
            if digits < 19 { m = m &* 10 &+ UInt64(p[i] &- 48); if m > 0 { digits += 1 } } else { exp += 1 }
            i += 1
        }
        if i < z && p[i] == 46 {
            i += 1
            while i < z, p[i] &- 48 < 10 {
                sawDigit = true
                if digits < 19 { m = m &* 10 &+ UInt64(p[i] &- 48); if m > 0 { digits += 1 }; exp -= 1 }
                i += 1
            }
        }
        if sawDigit && i < z && (p[i] == 101 || p[i] == 69) {
            var j = i + 1
            var eneg = false
            if j < z && (p[j] == 45 || p[j] == 43) { eneg = p[j] == 45; j += 1 }
            var e = 0, ed = false
            while j < z, p[j] &- 48 < 10 { if e < 100000 { e = e * 10 + Int(p[j] &- 48) }; ed = true; j += 1 }
            if ed { exp += eneg ? -e : e; i = j }
        }
        if sawDigit && i == z && m < (1 << 53) && exp >= -22 && exp <= 22 {
            var v = Double(m)
            if exp > 0 { v *= pow10[exp] } else if exp < 0 { v /= pow10[-exp] }
            let f = Float(neg ? -v : v)
            return f.isFinite ? .number(f) : .outOfRange
        }
        return slowNumber(p, a, z)
    }

    static func slowNumber(_ p: UnsafePointer<UInt8>, _ a: Int, _ z: Int) -> Cell {
        let text = String(decoding: UnsafeBufferPointer(start: p + a, count: z - a), as: UTF8.self)
        if missingTokens.contains(text.lowercased()) { return .missing }
        guard z - a < 400 else { return .text }
        var c = [CChar](repeating: 0, count: z - a + 1)
        for k in 0..<(z - a) { c[k] = CChar(bitPattern: p[a + k]) }
        var endp: UnsafeMutablePointer<CChar>? = nil
        let v = c.withUnsafeMutableBufferPointer { buf -> Double in
            let r = strtod(buf.baseAddress!, &endp)
            return endp == buf.baseAddress! + (z - a) ? r : .nan
        }
        let l = text.lowercased()
        if l.contains("inf") && v.isInfinite { return .nonFinite }
        guard !v.isNaN else { return .text }
        if v.isInfinite { return .outOfRange }
        let f = Float(v)
        return f.isFinite ? .number(f) : .outOfRange
    }
}

/// The file buffer, read by both parsing threads while the reading thread waits for them.
private struct BytesPointer: @unchecked Sendable { let p: UnsafePointer<UInt8> }

/// Blocks parsed on the two threads.
private final class BlockBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [CSV.Block]
    private var spares: [[Float]]
    init(count: Int, spares: [[Float]]) { items = Array(repeating: CSV.Block(), count: count); self.spares = spares }
    func set(_ i: Int, _ b: CSV.Block) { lock.lock(); items[i] = b; lock.unlock() }
    /// The block, leaving none behind (so that its arrays are uniquely owned by the taker).
    func take(_ i: Int) -> CSV.Block { lock.lock(); defer { lock.unlock() }; let b = items[i]; items[i] = CSV.Block(); return b }
    func takeSpare(_ i: Int) -> [Float] { lock.lock(); defer { lock.unlock() }; let s = spares[i]; spares[i] = []; return s }
}
