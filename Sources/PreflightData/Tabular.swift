import Foundation
import Dispatch

/// How to read a dataset given by path, beyond the path itself (`data PATH … options`).
public struct FileOptions: Sendable, Equatable {
    public var csv: CSVOptions
    /// `--x KEY` / `--y KEY`: the feature and label arrays of an .npz (default x_train / y_train).
    public var x: String?
    public var y: String?
    /// `--x-test KEY` / `--y-test KEY`: the test arrays of an .npz (default x_test / y_test with the default keys).
    public var xTest: String?
    public var yTest: String?
    /// `data X.npy Y.npy`: the labels file.
    public var labelsPath: String?

    public init(csv: CSVOptions = CSVOptions(), x: String? = nil, y: String? = nil, xTest: String? = nil, yTest: String? = nil,
                labelsPath: String? = nil) {
        self.csv = csv; self.x = x; self.y = y; self.xTest = xTest; self.yTest = yTest; self.labelsPath = labelsPath
    }

    public static let none = FileOptions()
}

/// `--scale`: how features become network inputs.
public enum ScaleMode: String, Sendable, Codable, CaseIterable {
    /// Bytes / 255; other features to [0, 1] by each feature's training minimum and maximum.
    case unit
    /// Each feature minus its training mean, divided by its training standard deviation.
    case standard
    /// As read.
    case none
}

/// Per-feature statistics of the training split (before scaling).
public struct FeatureStats: Sendable, Equatable {
    public var min: [Double]
    public var max: [Double]
    public var mean: [Double]
    /// Population standard deviation.
    public var std: [Double]

    /// Computed over `split`'s samples (bytes or floats) in one pass (on two threads for large splits), with sums
    /// shifted by the first sample so that large offsets do not cancel.
    public init(_ split: DataSplit, features f: Int) {
        let n = split.count
        var shift = [Double](repeating: 0, count: f)
        if n > 0 {
            for j in 0..<f { shift[j] = split.isFloat ? Double(split.values[j]) : Double(split.images[j]) }
        }
        let parts = n >= 8192 ? 2 : 1
        let box = PartBox(count: parts)
        let shifts = shift
        DispatchQueue.concurrentPerform(iterations: parts) { k in
            let r0 = k * n / parts, r1 = (k + 1) * n / parts
            var acc = Accumulator(features: f)
            if split.isFloat {
                split.values.withUnsafeBufferPointer { acc.add($0, rows: r0..<r1, shift: shifts) }
            } else {
                split.images.withUnsafeBufferPointer { acc.add($0, rows: r0..<r1, shift: shifts) }
            }
            box.set(k, acc)
        }
        var total = box.get(0)
        for k in 1..<parts { total.merge(box.get(k)) }
        let count = Double(Swift.max(n, 1))
        min = total.lo; max = total.hi
        mean = (0..<f).map { shift[$0] + total.s[$0] / count }
        std = (0..<f).map { j in
            let m = total.s[j] / count
            return (Swift.max(0, total.ss[j] / count - m * m)).squareRoot()
        }
    }

    /// Per-feature minimum, maximum, shifted sum and sum of squares over some rows.
    struct Accumulator: Sendable {
        var lo: [Double], hi: [Double], s: [Double], ss: [Double]
        init(features f: Int) {
            lo = [Double](repeating: .infinity, count: f); hi = [Double](repeating: -.infinity, count: f)
            s = [Double](repeating: 0, count: f); ss = s
        }
        mutating func add(_ p: UnsafeBufferPointer<Float>, rows: Range<Int>, shift: [Double]) {
            add(p, rows: rows, shift: shift) { Double($0) }
        }
        mutating func add(_ p: UnsafeBufferPointer<UInt8>, rows: Range<Int>, shift: [Double]) {
            add(p, rows: rows, shift: shift) { Double($0) }
        }
        /// One pass over `rows` of `p` (features per row = `lo.count`): min, max, and sums of (value − shift).
        @inline(__always)
        private mutating func add<T>(_ p: UnsafeBufferPointer<T>, rows: Range<Int>, shift: [Double], _ double: (T) -> Double) {
            let f = lo.count
            lo.withUnsafeMutableBufferPointer { lo in hi.withUnsafeMutableBufferPointer { hi in
                s.withUnsafeMutableBufferPointer { s in ss.withUnsafeMutableBufferPointer { ss in shift.withUnsafeBufferPointer { sh in
                    for r in rows {
                        let row = p.baseAddress! + r * f
                        for j in 0..<f {
                            let v = double(row[j])
                            if v < lo[j] { lo[j] = v }
                            if v > hi[j] { hi[j] = v }
                            let d = v - sh[j]
                            s[j] += d; ss[j] += d * d
                        }
                    }
                } } }
            } }
        }
        mutating func merge(_ o: Accumulator) {
            for j in lo.indices {
                lo[j] = Swift.min(lo[j], o.lo[j]); hi[j] = Swift.max(hi[j], o.hi[j])
                s[j] += o.s[j]; ss[j] += o.ss[j]
            }
        }
    }

    /// Features whose training values are all the same.
    public var constant: [Int] { min.indices.filter { max[$0] == min[$0] } }
}

public enum Tabular {
    /// A stratified split of `d`'s training samples: in each class, `fraction` of the samples (rounded; a class with
    /// one sample stays in training) drawn from `seed` go to the test split, which keeps the file's order, as does
    /// the training split. Same data and seed, same split.
    public static func split(_ d: inout Dataset, fraction: Double, seed: UInt64) {
        let n = d.train.count, f = d.features
        let isTest = testMask(labels: d.train.labels, classes: d.classes, fraction: fraction, seed: seed)
        let testCount = isTest.reduce(0) { $0 + ($1 ? 1 : 0) }
        var train = d.train
        d.train = DataSplit(values: [], labels: [], count: 0)   // let `train` own its arrays alone: compacted in place
        var test = DataSplit(images: [], labels: [UInt16](), count: testCount)
        // The test labels are gathered apart from `test`: its features are passed inout while rows are copied out,
        // and touching `test` itself meanwhile would be an overlapping access.
        var testLabels: [UInt16] = []
        testLabels.reserveCapacity(testCount)
        var labels = train.labels
        train.labels = []
        var w = 0
        // Test rows are copied out; training rows move down in place, so the training split keeps its arrays.
        func splitRows<T>(_ v: inout [T], test out: inout [T]) {
            out.reserveCapacity(testCount * f)
            v.withUnsafeMutableBufferPointer { p in
                for r in 0..<n {
                    if isTest[r] {
                        out.append(contentsOf: p[(r * f)..<(r * f + f)])
                        testLabels.append(labels[r])
                    } else {
                        if w != r { for j in 0..<f { p[w * f + j] = p[r * f + j] }; labels[w] = labels[r] }
                        w += 1
                    }
                }
            }
            v.removeLast((n - w) * f)
            labels.removeLast(n - w)
        }
        if train.isFloat {
            var v = train.values
            train.values = []
            splitRows(&v, test: &test.values)
            train = DataSplit(values: v, labels: labels, count: w)
        } else {
            var v = train.images
            train.images = []
            splitRows(&v, test: &test.images)
            train = DataSplit(images: v, labels: labels, count: w)
        }
        test.labels = testLabels
        d.train = train
        d.test = test
        d.splitFraction = fraction
    }

    /// For each sample, whether it goes to the test split.
    public static func testMask(labels: [UInt16], classes: Int, fraction: Double, seed: UInt64) -> [Bool] {
        var byClass = [[Int]](repeating: [], count: max(classes, 1))
        for (i, l) in labels.enumerated() { byClass[Int(l)].append(i) }
        var mask = [Bool](repeating: false, count: labels.count)
        var rng = SplitMix64(seed: seed ^ 0x7370_6C69_7400_0000)   // "split"
        for members in byClass where members.count > 1 {
            var m = members
            // Fisher–Yates, then the first k are the test samples.
            for i in stride(from: m.count - 1, to: 0, by: -1) { m.swapAt(i, rng.below(i + 1)) }
            let k = min(m.count - 1, Int((Double(m.count) * fraction).rounded()))
            for i in m.prefix(k) { mask[i] = true }
        }
        return mask
    }

    /// Scales the features in place from the training split's statistics `stats` (test samples use the same
    /// numbers). Bytes stay bytes for `unit` and `none` (the engine multiplies by 1/255 or 1); `standard` turns
    /// them into floats. Float features: `unit` maps each feature's training [min, max] to [0, 1]; constant
    /// features become 0.
    /// Returns the smallest and largest scaled input of the training split (from `stats`: scaling is monotonic,
    /// so each feature's extremes become the scaled extremes, by the same float arithmetic), or nil for bytes left
    /// as bytes.
    @discardableResult
    public static func scale(_ d: inout Dataset, mode: ScaleMode, stats: FeatureStats) -> ClosedRange<Float>? {
        let f = d.features
        var offset = [Float](repeating: 0, count: f), factor = [Float](repeating: 1, count: f)
        func range() -> ClosedRange<Float>? {
            guard f > 0, d.train.count > 0 else { return nil }
            var lo = Float.infinity, hi = -Float.infinity
            for j in 0..<f {
                lo = Swift.min(lo, (Float(stats.min[j]) - offset[j]) * factor[j])
                hi = Swift.max(hi, (Float(stats.max[j]) - offset[j]) * factor[j])
            }
            return lo...hi
        }
        switch mode {
        case .none: return d.isFloat ? range() : nil
        case .unit:
            guard d.isFloat else { return nil }
            for j in 0..<f {
                let range = stats.max[j] - stats.min[j]
                offset[j] = Float(stats.min[j])
                factor[j] = range > 0 ? Float(1 / range) : 0
            }
        case .standard:
            for j in 0..<f {
                offset[j] = Float(stats.mean[j])
                factor[j] = stats.std[j] > 0 ? Float(1 / stats.std[j]) : 0
            }
        }
        func apply(_ s: inout DataSplit) {
            if !s.isFloat {
                let bytes = s.images
                s.images = []
                var v = [Float](repeating: 0, count: bytes.count)
                v.withUnsafeMutableBufferPointer { out in
                    bytes.withUnsafeBufferPointer { b in
                        for r in 0..<s.count { for j in 0..<f { out[r * f + j] = (Float(b[r * f + j]) - offset[j]) * factor[j] } }
                    }
                }
                s.values = v
                return
            }
            let n = s.count
            s.values.withUnsafeMutableBufferPointer { p in
                for r in 0..<n { for j in 0..<f { p[r * f + j] = (p[r * f + j] - offset[j]) * factor[j] } }
            }
        }
        apply(&d.train)
        apply(&d.test)
        return range()
    }
}

/// The two threads' partial statistics.
private final class PartBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [FeatureStats.Accumulator?]
    init(count: Int) { items = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ a: FeatureStats.Accumulator) { lock.lock(); items[i] = a; lock.unlock() }
    func get(_ i: Int) -> FeatureStats.Accumulator { lock.lock(); defer { lock.unlock() }; return items[i]! }
}
