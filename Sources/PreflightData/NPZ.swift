import Foundation
import ZIPFoundation

/// Datasets held in NumPy files: an .npz archive (Keras' mnist.npz, or any `numpy.savez` of features and labels)
/// or a pair of .npy files (features, labels).
public enum NPZ {
    /// The archive's entries by key ("x_train" for "x_train.npy"), opened for reading.
    final class Contents {
        let path: String
        let archive: Archive
        var entries: [String: Entry] = [:]

        init(path: String) throws {
            self.path = path
            archive = try NPZ.open(path, expected: "a valid .npz")
            for e in archive where e.type == .file {
                let key = e.path.hasSuffix(".npy") ? String(e.path.dropLast(4)) : e.path
                entries[key] = e
            }
            guard !entries.isEmpty else { throw DataError(path: path, "the archive holds no arrays") }
        }

        var keys: String { entries.values.map(\.path).sorted().joined(separator: ", ") }

        func has(_ key: String) -> Bool { entries[key] != nil }

        func label(_ key: String) -> String { "\(path) [\(entries[key]?.path ?? key + ".npy")]" }

        /// Reads one entry, inflating it a chunk at a time straight into the decoder.
        func array(_ key: String, purpose: NPYReader.Purpose, cancel: (() -> Bool)?) throws -> NPYArray {
            guard let entry = entries[key] else {
                throw DataError(path: path, "missing entry \(key).npy (the archive has: \(keys))")
            }
            let name = label(key)
            let fileSize = FileBytes.size(path) ?? 0
            // The declared size is only a hint: no entry of this file can expand past 1032 times the file's size.
            let bound = min(Int(clamping: entry.uncompressedSize), fileSize.multipliedReportingOverflow(by: 1032).overflow ? Int.max : fileSize * 1032)
            let reader = NPYReader(name: name, purpose: purpose, availableBytes: bound)
            var failure: Error? = nil
            let crc: UInt32
            do {
                crc = try archive.extract(entry, bufferSize: 1 << 20, skipCRC32: false) { chunk in
                    guard failure == nil else { return }
                    if cancel?() == true { failure = DataError(path: self.path, "interrupted"); return }
                    do { try chunk.withUnsafeBytes { try reader.feed($0) } } catch { failure = error }
                }
            } catch {
                throw failure ?? DataError(path: name, "cannot extract the entry (\(error))")
            }
            if let failure { throw failure }
            // ZIPFoundation computes the CRC while extracting; comparing it is the reader's part.
            guard crc == entry.checksum else {
                throw DataError(path: name, "damaged: the entry fails its CRC check (a changed or corrupted byte)")
            }
            return try reader.finish()
        }
    }

    /// Reads an .npz dataset. Keys: `x`/`y` (default x_train/y_train) and `xTest`/`yTest` (default x_test/y_test when
    /// x and y are the defaults). Without a test pair the caller splits the data (`Dataset.test.count == 0`).
    /// With `classes` given, every label must be below it.
    public static func read(path: String, x: String? = nil, y: String? = nil, xTest: String? = nil, yTest: String? = nil,
                            classes fixedClasses: Int? = nil, cancel: (() -> Bool)? = nil) throws -> Dataset {
        let npz = try Contents(path: path)
        let xKey = x ?? "x_train", yKey = y ?? "y_train"
        let defaults = x == nil && y == nil
        for k in [xKey, yKey] where !npz.has(k) {
            var hint = ""
            if defaults { hint = "; name the arrays with --x KEY --y KEY" }
            throw DataError(path: path, "missing entry \(k).npy (the archive has: \(npz.keys))\(hint)")
        }
        var tx = xTest, ty = yTest
        if tx == nil && ty == nil && defaults && npz.has("x_test") && npz.has("y_test") { tx = "x_test"; ty = "y_test" }
        if (tx == nil) != (ty == nil) {
            throw DataError(path: path, "give both test arrays (--x-test KEY and --y-test KEY) or neither")
        }
        for k in [tx, ty].compactMap({ $0 }) where !npz.has(k) {
            throw DataError(path: path, "missing entry \(k).npy (the archive has: \(npz.keys))")
        }
        let xa = try npz.array(xKey, purpose: .values, cancel: cancel)
        let ya = try npz.array(yKey, purpose: .labels, cancel: cancel)
        var test: (NPYArray, String, NPYArray, String)? = nil
        if let tx, let ty {
            test = (try npz.array(tx, purpose: .values, cancel: cancel), npz.label(tx), try npz.array(ty, purpose: .labels, cancel: cancel), npz.label(ty))
        }
        return try ArrayData.assemble(x: xa, xName: npz.label(xKey), y: ya, yName: npz.label(yKey), test: test,
                                      source: path, fixedClasses: fixedClasses)
    }

    /// Reads a Keras-style mnist.npz (x_train, y_train, x_test, y_test). With `classes` given, every label must be
    /// below it; otherwise classes = max label + 1.
    public static func readMNIST(path: String, classes fixedClasses: Int? = nil) throws -> Dataset {
        let npz = try Contents(path: path)
        for k in ["x_train", "y_train", "x_test", "y_test"] where !npz.has(k) {
            throw DataError(path: path, "missing entry \(k).npy (the archive has: \(npz.keys))")
        }
        return try read(path: path, classes: fixedClasses)
    }

    /// Reads features from X.npy and labels from Y.npy (no test split: the caller draws one).
    public static func readPair(x: String, y: String, cancel: (() -> Bool)? = nil) throws -> Dataset {
        let xa = try readFile(x, purpose: .values, cancel: cancel)
        let ya = try readFile(y, purpose: .labels, cancel: cancel)
        return try ArrayData.assemble(x: xa, xName: x, y: ya, yName: y, test: nil, source: "\(x) + \(y)", fixedClasses: nil)
    }

    /// Reads one .npy file a megabyte at a time.
    public static func readFile(_ path: String, purpose: NPYReader.Purpose, cancel: (() -> Bool)? = nil) throws -> NPYArray {
        switch FileBytes.kind(path) {
        case .missing: throw DataError(path: path, "no such file")
        case .directory: throw DataError(path: path, "is a directory, expected an .npy file")
        case .other: throw DataError(path: path, "is not a regular file")
        case .file: break
        }
        let reader = NPYReader(name: path, purpose: purpose, availableBytes: FileBytes.size(path))
        try FileBytes.forEachChunk(path: path, chunkSize: 1 << 20) { chunk in
            if cancel?() == true { throw DataError(path: path, "interrupted") }
            try reader.feed(UnsafeRawBufferPointer(chunk))
        }
        return try reader.finish()
    }
}

// MARK: - Whole archives

extension NPZ {
    /// 1980-01-01 00:00 UTC, the earliest date a ZIP can hold: every entry written gets it, so that the same
    /// entries always give the same bytes.
    static let entryDate = Date(timeIntervalSince1970: 315_532_800)

    /// A ZIP of stored (uncompressed) entries, in the given order. With .npy entries (`NPY.encode`) it is an .npz
    /// that `numpy.load` reads. The same entries give the same bytes.
    public static func archive(_ entries: [(name: String, data: [UInt8])]) throws -> [UInt8] {
        let zip: Archive
        do { zip = try Archive(accessMode: .create) } catch { throw DataError("cannot create a ZIP archive in memory (\(error))") }
        for e in entries {
            let data = Data(e.data)
            do {
                try zip.addEntry(with: e.name, type: .file, uncompressedSize: Int64(data.count), modificationDate: entryDate,
                                 permissions: 0o644, compressionMethod: .none, bufferSize: 1 << 20) { position, size in
                    data.subdata(in: Int(position)..<(Int(position) + size))
                }
            } catch {
                throw DataError("entry \(e.name) cannot be added to the archive (\(error))")
            }
        }
        guard let bytes = zip.data else { throw DataError("the ZIP archive in memory holds no bytes") }
        return [UInt8](bytes)
    }

    /// Every file entry of a ZIP (an .npz), in archive order, stored or deflated, each checked against its CRC.
    /// `expected` says what the file should be, for the error when it is not a ZIP at all ("a saved session").
    public static func entries(path: String, expected: String = "a valid .npz") throws -> [(name: String, data: [UInt8])] {
        let zip = try open(path, expected: expected)
        let fileSize = FileBytes.size(path) ?? 0
        var out: [(name: String, data: [UInt8])] = []
        for e in zip where e.type == .file {
            // A stored entry cannot hold more than the file; deflate expands at most 1032 times.
            let (deflateBound, overflow) = fileSize.multipliedReportingOverflow(by: 1032)
            let bound = e.isCompressed ? (overflow ? Int.max : deflateBound) : fileSize
            guard e.uncompressedSize <= UInt64(bound) else {
                throw DataError(path: path, "truncated or damaged: entry \(e.path) declares \(e.uncompressedSize) bytes, more than the file can hold")
            }
            let size = Int(e.uncompressedSize)
            var bytes: [UInt8] = []
            bytes.reserveCapacity(size)
            let crc: UInt32
            do {
                crc = try zip.extract(e, bufferSize: 1 << 20, skipCRC32: false) { chunk in
                    guard bytes.count + chunk.count <= size else { throw Archive.ArchiveError.invalidEntrySize }
                    bytes += chunk
                }
            } catch {
                throw DataError(path: path, "truncated or damaged: entry \(e.path) cannot be read (\(error))")
            }
            guard bytes.count == size else {
                throw DataError(path: path, "truncated or damaged: entry \(e.path) holds \(bytes.count) of its \(size) bytes")
            }
            // ZIPFoundation computes the CRC while extracting; comparing it is the reader's part.
            guard crc == e.checksum else {
                throw DataError(path: path, "damaged: entry \(e.path) fails its CRC check (a changed or corrupted byte)")
            }
            out.append((e.path, bytes))
        }
        return out
    }

    /// Opens a ZIP for reading, with one clear error for a missing, unreadable, empty, non-ZIP or truncated file.
    static func open(_ path: String, expected: String) throws -> Archive {
        switch FileBytes.kind(path) {
        case .missing: throw DataError(path: path, "no such file")
        case .directory: throw DataError(path: path, "is a directory, expected \(expected) file")
        case .other: throw DataError(path: path, "is not a regular file")
        case .file: break
        }
        guard let size = FileBytes.size(path), size > 0 else { throw DataError(path: path, "is empty or truncated (0 bytes)") }
        // Reading the signature fails clearly for unreadable files before ZIPFoundation reports a generic error.
        let h = try FileBytes.Handle(path: path)
        var head = [UInt8](repeating: 0, count: 4)
        let got = try head.withUnsafeMutableBytes { try h.read(into: $0.baseAddress!, count: 4) }
        // Every ZIP starts with a local file header, or (no entries) with the end-of-directory record.
        guard got == 4, head == [0x50, 0x4B, 0x03, 0x04] || head == [0x50, 0x4B, 0x05, 0x06] else {
            throw DataError(path: path, "not \(expected) (not a ZIP archive)")
        }
        do {
            return try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch Archive.ArchiveError.missingEndOfCentralDirectoryRecord {
            throw DataError(path: path, "truncated or damaged: the ZIP directory at the end of the file is missing")
        } catch {
            throw DataError(path: path, "not \(expected): a damaged ZIP archive (\(error))")
        }
    }
}

/// Turns decoded feature and label arrays into a dataset.
enum ArrayData {
    static func assemble(x: NPYArray, xName: String, y: NPYArray, yName: String, test: (NPYArray, String, NPYArray, String)?,
                         source: String, fixedClasses: Int?) throws -> Dataset {
        let (n, rows, cols, image) = try sampleShape(x, xName)
        let ny = try labelCount(y, yName)
        guard ny == n else { throw DataError(path: yName, "\(ny) labels but \(xName) has \(n) samples") }
        guard n > 0 else { throw DataError(path: xName, "holds 0 samples") }
        let trainLabels = try LabelSet.raw(y, yName)
        var testLabels: LabelSet.Raw? = nil
        var testN = 0
        if let (tx, txName, ty, tyName) = test {
            let (m, r2, c2, _) = try sampleShape(tx, txName)
            guard r2 * c2 == rows * cols else {
                throw DataError(path: txName, "test samples have \(r2 * c2) features (shape \(NPY.shapeText(tx.shape))) but the training samples have \(rows * cols) (\(NPY.shapeText(x.shape)))")
            }
            if image && (r2 != rows || c2 != cols) {
                throw DataError(path: txName, "test images are \(r2)x\(c2) but the training images are \(rows)x\(cols)")
            }
            guard sameKind(x, tx) else {
                throw DataError(path: txName, "test features are \(tx.header.type.name) but the training features are \(x.header.type.name); give both the same dtype")
            }
            let my = try labelCount(ty, tyName)
            guard my == m else { throw DataError(path: tyName, "\(my) labels but \(txName) has \(m) samples") }
            guard m > 0 else { throw DataError(path: txName, "holds 0 samples") }
            testLabels = try LabelSet.raw(ty, tyName)
            testN = m
        }
        let resolved = try LabelSet.resolve(train: trainLabels, test: testLabels, fixedClasses: fixedClasses)
        func split(_ a: NPYArray, labels: [UInt16], count: Int, name: String) throws -> DataSplit {
            switch a.data {
            case .bytes(let b): return DataSplit(images: b, labels: labels, count: count)
            case .floats(let v):
                try checkFinite(v, features: rows * cols, name: name)
                return DataSplit(values: v, labels: labels, count: count)
            default: throw DataError(path: name, "features must be numbers")
            }
        }
        let train = try split(x, labels: resolved.train, count: n, name: xName)
        let testSplit = try test.map { try split($0.0, labels: resolved.test, count: testN, name: $0.1) }
            ?? (train.isFloat ? DataSplit(values: [], labels: [], count: 0) : DataSplit(images: [], labels: [UInt16](), count: 0))
        var d = Dataset(name: source, source: source, rows: rows, cols: cols, classes: resolved.classes, train: train, test: testSplit)
        d.isImage = image
        d.classNames = resolved.names
        d.notes = resolved.notes
        return d
    }

    private static func sameKind(_ a: NPYArray, _ b: NPYArray) -> Bool {
        switch (a.data, b.data) {
        case (.bytes, .bytes), (.floats, .floats): return true
        default: return false
        }
    }

    /// (samples, rows, cols, is an image): images are uint8 (N, rows, cols), or (N, k) with k a square of at
    /// least 64 (flattened pictures, as mnist.npz variants store them); anything else is N samples of
    /// prod(shape[1...]) features.
    static func sampleShape(_ a: NPYArray, _ name: String) throws -> (Int, Int, Int, Bool) {
        let s = a.shape
        guard let n = s.first else { throw DataError(path: name, "is a single number (shape ()); expected one row per sample") }
        var isBytes = false
        if case .bytes = a.data { isBytes = true }
        if isBytes && s.count == 3 && s[1] > 0 && s[2] > 0 { return (n, s[1], s[2], true) }
        if isBytes && s.count == 2 {
            let side = Int(Double(s[1]).squareRoot().rounded())
            if side * side == s[1] && s[1] >= 64 { return (n, side, side, true) }
        }
        let f = s.dropFirst().reduce(1, *)
        guard f > 0 else { throw DataError(path: name, "samples have no features (shape \(NPY.shapeText(s)))") }
        return (n, 1, f, false)
    }

    static func labelCount(_ a: NPYArray, _ name: String) throws -> Int {
        let s = a.shape
        if s.count == 1 { return s[0] }
        if s.count == 2 && s[1] == 1 { return s[0] }
        if s.count == 2 && s[1] > 1 {
            throw DataError(path: name, "labels must have shape (N,); found \(NPY.shapeText(s)) (one-hot labels? save their argmax: y.argmax(axis=1))")
        }
        throw DataError(path: name, "labels must have shape (N,); found \(NPY.shapeText(s))")
    }

    /// Refuses NaN and infinite features, naming the first one's sample and feature.
    static func checkFinite(_ v: [Float], features: Int, name: String) throws {
        let bad = v.withUnsafeBufferPointer { p -> Int? in
            for i in 0..<p.count where !p[i].isFinite { return i }
            return nil
        }
        if let i = bad {
            let count = v.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
            throw DataError(path: name, "non-finite value \(v[i]) at sample \(i / features) (counting from 0), feature \(i % features + 1)\(count > 1 ? " (\(count) non-finite values in all)" : ""): remove or impute them before loading")
        }
    }
}
