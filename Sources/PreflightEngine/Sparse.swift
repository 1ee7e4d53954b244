/// Layer 0 on sparse inputs: a batch's non-zero inputs listed by row and by feature, and the two products
/// of layer 0 computed from those lists, so that their cost follows the non-zero inputs (MNIST's images are
/// about 81% zeros) instead of every input.
///
/// Every output element is the sum of its non-zero terms taken in increasing order of the summed index
/// (the feature in the forward product, the batch row in the weight gradient), each term added with one
/// fused multiply-add, starting from zero; whatever the column blocking, so the numbers depend only on the
/// inputs, not on the width of a partition, the thread or the vector length.

/// How layer 0's products are computed.
public enum InputPath: String, Sendable, CaseIterable {
    /// Dense matrix products (sgemm) over every input.
    case dense
    /// Products over the non-zero inputs only (`SparseBatch`).
    case sparse

    /// Non-zero share of the inputs under which the sparse products are taken. Measured on this project's
    /// machine (scripts/bench, batch 100, 64-column partitions): the sparse forward product and weight
    /// gradient run at about the dense sgemm's speed per non-zero input up to ~60%, and the lists cost a
    /// little to build; below 0.4 the sparse path is clearly ahead, so 0.4 leaves margin for other shapes.
    public static let sparseBelowDensity = 0.4

    /// The path for a training set of this non-zero share: fixed by the data, so the same data always take
    /// the same path (and give the same numbers).
    public static func choose(density: Double) -> InputPath {
        density < sparseBelowDensity ? .sparse : .dense
    }
}

extension SampleSet {
    /// The share of the inputs that are not zero, over every sample: what `InputPath.choose` decides from.
    public var density: Double { nonZeroFraction }

    /// Counts the non-zero features of `count` samples (bytes or floats).
    static func measureDensity(pixels: [UInt8], values: [Float], count: Int, features: Int) -> Double {
        let total = count * features
        guard total > 0 else { return 0 }
        var nonZero = 0
        if !pixels.isEmpty {
            pixels.withUnsafeBufferPointer { p in
                // Sums of (byte != 0) in 32-bit lanes, a block at a time (vectorised by the compiler).
                var i = 0
                let n = p.count
                while i < n {
                    let end = min(n, i + 1 << 16)
                    var s: Int32 = 0
                    for j in i..<end { s &+= p[j] == 0 ? 0 : 1 }
                    nonZero += Int(s)
                    i = end
                }
            }
        } else {
            values.withUnsafeBufferPointer { v in
                for x in v where x != 0 { nonZero += 1 }
            }
        }
        return Double(nonZero) / Double(total)
    }
}

/// One batch's non-zero inputs (each thread keeps its own): by row (`rowStart`, `cols`, `vals`: the inputs
/// of row r are entries rowStart[r]..<rowStart[r+1], features increasing) for the forward product, and by
/// feature (`featureStart`, `featureRows`, `featureVals`: rows increasing) for the weight gradient.
final class SparseBatch {
    let capacity: Int
    let features: Int
    private(set) var rows = 0
    let rowStart: UnsafeMutablePointer<Int32>
    let featureStart: UnsafeMutablePointer<Int32>
    /// Entries the four lists below have room for; they grow (never shrink) as batches need.
    private(set) var entries: Int
    private(set) var cols: UnsafeMutablePointer<Int32>
    private(set) var vals: UnsafeMutablePointer<Float>
    private(set) var featureRows: UnsafeMutablePointer<Int32>
    private(set) var featureVals: UnsafeMutablePointer<Float>
    /// Non-zero inputs of the batch.
    var nonZeros: Int { Int(rowStart[rows]) }

    init(capacity: Int, features: Int) {
        self.capacity = capacity; self.features = features
        rowStart = .allocate(capacity: capacity + 1); rowStart.initialize(repeating: 0, count: capacity + 1)
        featureStart = .allocate(capacity: features + 1); featureStart.initialize(repeating: 0, count: features + 1)
        // A start: room for a quarter of the inputs (MNIST needs about a fifth), at least one full row.
        entries = max(capacity * features / 4, features, 1)
        cols = .allocate(capacity: entries); vals = alignedFloats(entries)
        featureRows = .allocate(capacity: entries); featureVals = alignedFloats(entries)
    }
    deinit {
        rowStart.deallocate(); featureStart.deallocate()
        cols.deallocate(); vals.deallocate(); featureRows.deallocate(); featureVals.deallocate()
    }

    /// Room for at least `needed` entries, keeping the first `kept` of the lists by row.
    private func reserve(_ needed: Int, keeping kept: Int) {
        guard needed > entries else { return }
        let n = max(needed, min(entries * 2, capacity * features))
        let c = UnsafeMutablePointer<Int32>.allocate(capacity: n), v = alignedFloats(n)
        c.update(from: cols, count: kept); v.update(from: vals, count: kept)
        cols.deallocate(); vals.deallocate(); featureRows.deallocate(); featureVals.deallocate()
        cols = c; vals = v
        featureRows = .allocate(capacity: n); featureVals = alignedFloats(n)
        entries = n
    }

    /// Lists the non-zero inputs of samples `order[start..<start + rows]` (or `start..<start + rows`) of `set`,
    /// with the same values the dense conversion gives (byte · scale, or the float as it is), and their labels
    /// into `y`. With `byFeature`, also the lists by feature (training needs them; evaluation does not).
    func load(_ set: SampleSet, order: UnsafePointer<Int32>?, start: Int, rows: Int, y: UnsafeMutablePointer<Int32>,
              sink: UnsafeMutablePointer<UInt8>, byFeature: Bool) {
        precondition(rows <= capacity && set.features == features)
        self.rows = rows
        let f = features
        var n = 0
        if set.isFloat {
            set.values.withUnsafeBufferPointer { v in
                for r in 0..<rows {
                    let idx = order.map { Int($0[start + r]) } ?? (start + r)
                    y[r] = Int32(set.labels[idx])
                    rowStart[r] = Int32(n)
                    reserve(n + f, keeping: n)
                    let row = v.baseAddress! + idx * f
                    for k in 0..<f where row[k] != 0 { cols[n] = Int32(k); vals[n] = row[k]; n += 1 }
                }
            }
        } else {
            let scale = set.scale
            set.pixels.withUnsafeBufferPointer { px in
                let base = px.baseAddress!
                if let order { touchRows(base, order + start, rows, f, sink: sink) }
                for r in 0..<rows {
                    let idx = order.map { Int($0[start + r]) } ?? (start + r)
                    y[r] = Int32(set.labels[idx])
                    rowStart[r] = Int32(n)
                    reserve(n + f, keeping: n)
                    n = Self.appendNonZeros(base + idx * f, f, scale, cols, vals, n)
                }
            }
        }
        rowStart[rows] = Int32(n)
        if byFeature { transpose() }
    }

    /// Appends the non-zero bytes of one row (feature index, byte · scale) at entry `n`; returns the new count.
    /// Eight zero bytes at a time are skipped with one load (images have long runs of zeros); the other bytes
    /// are written without branching, the entry kept only when its byte is non-zero.
    @inline(__always)
    private static func appendNonZeros(_ row: UnsafePointer<UInt8>, _ f: Int, _ scale: Float,
                                       _ cols: UnsafeMutablePointer<Int32>, _ vals: UnsafeMutablePointer<Float>, _ start: Int) -> Int {
        var n = start
        var k = 0
        let raw = UnsafeRawPointer(row)
        while k + 8 <= f {
            let word = raw.loadUnaligned(fromByteOffset: k, as: UInt64.self)
            if word != 0 {
                for j in 0..<8 {
                    let b = row[k + j]
                    cols[n] = Int32(k + j); vals[n] = Float(b) * scale
                    n += b == 0 ? 0 : 1
                }
            }
            k += 8
        }
        while k < f {
            let b = row[k]
            cols[n] = Int32(k); vals[n] = Float(b) * scale
            n += b == 0 ? 0 : 1
            k += 1
        }
        return n
    }

    /// The lists by feature from the lists by row (a counting sort: rows stay in increasing order).
    private func transpose() {
        let nnz = nonZeros
        for k in 0...features { featureStart[k] = 0 }
        for e in 0..<nnz { featureStart[Int(cols[e]) + 1] &+= 1 }
        for k in 0..<features { featureStart[k + 1] &+= featureStart[k] }
        // featureStart[k] serves as the write position of feature k, then is restored.
        for r in 0..<rows {
            for e in Int(rowStart[r])..<Int(rowStart[r + 1]) {
                let k = Int(cols[e])
                let p = Int(featureStart[k])
                featureRows[p] = Int32(r); featureVals[p] = vals[e]
                featureStart[k] = Int32(p + 1)
            }
        }
        for k in stride(from: features, to: 0, by: -1) { featureStart[k] = featureStart[k - 1] }
        featureStart[0] = 0
    }

    /// out[r, j] = Σ_k x[r, k] · w[k, j] over this batch's non-zero x[r, k], for j < `cols` (weights with row
    /// stride `ldw`, output with row stride `ldo`): layer 0's forward product.
    func timesDense(_ w: UnsafePointer<Float>, ldw: Int, columns: Int, out: UnsafeMutablePointer<Float>, ldo: Int) {
        for r in 0..<rows {
            sumRows(list: Int(rowStart[r])..<Int(rowStart[r + 1]), index: cols, value: vals,
                    of: w, stride: ldw, columns: columns, into: out + r * ldo)
        }
    }

    /// g[k − k0, j] = Σ_r x[r, k] · d[r, j] over this batch's non-zero x[r, k], for features k in `featuresRange`
    /// and j < `columns` (d with row stride `ldd`, g with row stride `ldg`): rows of layer 0's weight gradient.
    func transposeTimes(_ d: UnsafePointer<Float>, ldd: Int, columns: Int, features featuresRange: Range<Int>,
                        into g: UnsafeMutablePointer<Float>, ldg: Int) {
        for k in featuresRange {
            sumRows(list: Int(featureStart[k])..<Int(featureStart[k + 1]), index: featureRows, value: featureVals,
                    of: d, stride: ldd, columns: columns, into: g + (k - featuresRange.lowerBound) * ldg)
        }
    }
}

/// out[j] = Σ_e value[e] · m[index[e], j] for e in `list` (in order, one fused multiply-add each, from zero),
/// j < `columns`: 64 columns at a time in registers, then 16, then one.
@inline(__always)
private func sumRows(list: Range<Int>, index: UnsafePointer<Int32>, value: UnsafePointer<Float>,
                     of m: UnsafePointer<Float>, stride: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
    typealias V = SIMD16<Float>
    let raw = UnsafeRawPointer(m), ro = UnsafeMutableRawPointer(out)
    var j = 0
    while j + 64 <= columns {
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        for e in list {
            let s = V(repeating: value[e])
            let off = (Int(index[e]) * stride + j) * 4
            a0.addProduct(s, raw.loadUnaligned(fromByteOffset: off, as: V.self))
            a1.addProduct(s, raw.loadUnaligned(fromByteOffset: off + 64, as: V.self))
            a2.addProduct(s, raw.loadUnaligned(fromByteOffset: off + 128, as: V.self))
            a3.addProduct(s, raw.loadUnaligned(fromByteOffset: off + 192, as: V.self))
        }
        ro.storeBytes(of: a0, toByteOffset: j * 4, as: V.self)
        ro.storeBytes(of: a1, toByteOffset: j * 4 + 64, as: V.self)
        ro.storeBytes(of: a2, toByteOffset: j * 4 + 128, as: V.self)
        ro.storeBytes(of: a3, toByteOffset: j * 4 + 192, as: V.self)
        j += 64
    }
    while j + 16 <= columns {
        var a = V()
        for e in list {
            a.addProduct(V(repeating: value[e]), raw.loadUnaligned(fromByteOffset: (Int(index[e]) * stride + j) * 4, as: V.self))
        }
        ro.storeBytes(of: a, toByteOffset: j * 4, as: V.self)
        j += 16
    }
    while j < columns {
        var a: Float = 0
        for e in list { a.addProduct(value[e], m[Int(index[e]) * stride + j]) }
        out[j] = a
        j += 1
    }
}
