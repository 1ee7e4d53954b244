import CBLAS

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
    /// machine (scripts/bench --kernels: a batch of 100, one 64-unit partition, µs): MNIST (19% non-zero)
    /// forward 38 sparse vs 101 sgemm, weight gradient 26 vs 87, lists 28 vs 15 for the dense conversion;
    /// Fashion-MNIST (50%) forward 99 vs 101, gradient 63 vs 87, but its lists (found byte by byte) 110 vs
    /// 15, so a whole step is slower sparse there. The cost of the sparse pieces grows with the non-zeros;
    /// the crossing lies between 40% and 50%, and 40% keeps dense data (and Fashion-MNIST) on sgemm.
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

/// Every sample's non-zero bytes (feature index, byte), listed once for a byte data set that takes the sparse
/// path: a batch's lists are then copied rather than found byte by byte (MNIST's 60,000 images: 9 million
/// entries, 27 MB).
final class SparseRows: Sendable {
    /// Sample i's entries are start[i]..<start[i + 1].
    let start: [Int]
    let index: [UInt16]
    let bytes: [UInt8]

    init(pixels: [UInt8], count: Int, features f: Int) {
        var start = [Int](repeating: 0, count: count + 1)
        var n = 0
        for i in 0..<count {
            for k in 0..<f where pixels[i * f + k] != 0 { n += 1 }
            start[i + 1] = n
        }
        var index = [UInt16](repeating: 0, count: n), bytes = [UInt8](repeating: 0, count: n)
        var e = 0
        for i in 0..<count {
            for k in 0..<f {
                let b = pixels[i * f + k]
                if b != 0 { index[e] = UInt16(k); bytes[e] = b; e += 1 }
            }
        }
        self.start = start; self.index = index; self.bytes = bytes
    }

    /// Starts bringing sample i's lists towards the cache without waiting for them.
    @inline(__always)
    func prefetch(_ i: Int, _ ix: UnsafePointer<UInt16>, _ bs: UnsafePointer<UInt8>) {
        let a = start[i], z = start[i + 1]
        guard z > a else { return }
        var e = a
        while e < z { preflight_prefetch(ix + e); e += 32 }
        preflight_prefetch(ix + z - 1)
        e = a
        while e < z { preflight_prefetch(bs + e); e += 64 }
        preflight_prefetch(bs + z - 1)
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
        // featureStart holds each feature's count while the rows are listed (see preflight_lists_by_feature).
        featureStart.update(repeating: 0, count: f + 1)
        if set.isFloat {
            set.values.withUnsafeBufferPointer { v in
                for r in 0..<rows {
                    let idx = order.map { Int($0[start + r]) } ?? (start + r)
                    y[r] = Int32(set.labels[idx])
                    rowStart[r] = Int32(n)
                    reserve(n + f, keeping: n)
                    let row = v.baseAddress! + idx * f
                    for k in 0..<f where row[k] != 0 { cols[n] = Int32(k); vals[n] = row[k]; featureStart[k] += 1; n += 1 }
                }
            }
        } else {
            let scale = set.scale
            if let listed = set.sparseRows {
                listed.index.withUnsafeBufferPointer { ix in listed.bytes.withUnsafeBufferPointer { bs in
                    // Ask for every row's lists first, so that their loads from memory overlap.
                    for r in 0..<rows {
                        let idx = order.map { Int($0[start + r]) } ?? (start + r)
                        listed.prefetch(idx, ix.baseAddress!, bs.baseAddress!)
                    }
                    for r in 0..<rows {
                        let idx = order.map { Int($0[start + r]) } ?? (start + r)
                        y[r] = Int32(set.labels[idx])
                        rowStart[r] = Int32(n)
                        let a = listed.start[idx], m = listed.start[idx + 1] - a
                        reserve(n + m, keeping: n)
                        n = preflight_append_listed(ix.baseAddress! + a, bs.baseAddress! + a, m, scale, cols, vals, n, featureStart)
                    }
                } }
                rowStart[rows] = Int32(n)
                if byFeature { transpose() }
                return
            }
            set.pixels.withUnsafeBufferPointer { px in
                let base = px.baseAddress!
                if let order { touchRows(base, order + start, rows, f, sink: sink) }
                for r in 0..<rows {
                    let idx = order.map { Int($0[start + r]) } ?? (start + r)
                    y[r] = Int32(set.labels[idx])
                    rowStart[r] = Int32(n)
                    reserve(n + f, keeping: n)
                    n = preflight_append_nonzeros(base + idx * f, f, scale, cols, vals, n, featureStart)
                }
            }
        }
        rowStart[rows] = Int32(n)
        if byFeature { transpose() }
    }

    /// The lists by feature from the lists by row (a counting sort: rows stay in increasing order).
    private func transpose() {
        preflight_lists_by_feature(rows, features, rowStart, cols, vals, featureStart, featureRows, featureVals)
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

/// Layer 0's pieces alone, for scripts/bench --kernels: seconds per batch of `rows` samples of `set` (taken
/// in a fixed shuffled order) for the dense conversion, listing the non-zeros (by row; by row and feature),
/// and the forward product and weight gradient of `columns` units, dense (sgemm) and sparse. Best of `repeats`.
public func layer0KernelTimes(_ set: SampleSet, rows: Int = 100, columns: Int = 64, repeats: Int = 200) -> [(name: String, seconds: Double)] {
    let f = set.features
    var rng = Xoshiro(seed: 1)
    var order = (0..<Int32(set.count)).map { $0 }
    rng.shuffle(&order)
    let x = alignedFloats(rows * f), w = alignedFloats(f * columns), out = alignedFloats(rows * columns), g = alignedFloats(f * columns)
    let d = alignedFloats(rows * columns)
    for i in 0..<(f * columns) { w[i] = Float(i % 7) * 0.01 - 0.03 }
    for i in 0..<(rows * columns) { d[i] = Float(i % 5) * 0.01 - 0.02 }
    let y = UnsafeMutablePointer<Int32>.allocate(capacity: rows), sink = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
    defer { [x, w, out, g, d].forEach { $0.deallocate() }; y.deallocate(); sink.deallocate() }
    let sb = SparseBatch(capacity: rows, features: f)
    var batch = 0
    let batches = max(set.count / rows, 1)
    func time(_ body: (Int) -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = (batch % batches) * rows; batch += 1
            let t0 = monotonicSeconds()
            body(start)
            best = min(best, monotonicSeconds() - t0)
        }
        return best
    }
    return order.withUnsafeBufferPointer { ob -> [(name: String, seconds: Double)] in
        let o = ob.baseAddress!
        var r: [(name: String, seconds: Double)] = []
        r.append(("dense conversion", time { set.copyRows(order: o, start: $0, rows: rows, x: x, y: y, sink: sink) }))
        r.append(("sparse lists by row", time { sb.load(set, order: o, start: $0, rows: rows, y: y, sink: sink, byFeature: false) }))
        r.append(("sparse lists by row and feature", time { sb.load(set, order: o, start: $0, rows: rows, y: y, sink: sink, byFeature: true) }))
        set.copyRows(order: o, start: 0, rows: rows, x: x, y: y, sink: sink)
        sb.load(set, order: o, start: 0, rows: rows, y: y, sink: sink, byFeature: true)
        r.append(("forward, sgemm", time { _ in BLAS.gemm(m: rows, n: columns, k: f, a: x, lda: f, b: w, ldb: columns, c: out, ldc: columns) }))
        r.append(("forward, sparse", time { _ in sb.timesDense(w, ldw: columns, columns: columns, out: out, ldo: columns) }))
        let chunk = inputGradientChunkRows(inputs: f, columns: columns)
        r.append(("weight gradient, sgemm", time { _ in
            var r0 = 0
            while r0 < f { let n = min(chunk, f - r0); BLAS.gemm(transA: true, m: n, n: columns, k: rows, a: x + r0, lda: f, b: d, ldb: columns, c: g, ldc: columns); r0 += n }
        }))
        r.append(("weight gradient, sparse", time { _ in
            var r0 = 0
            while r0 < f { let n = min(chunk, f - r0); sb.transposeTimes(d, ldd: columns, columns: columns, features: r0..<(r0 + n), into: g, ldg: columns); r0 += n }
        }))
        return r
    }
}
