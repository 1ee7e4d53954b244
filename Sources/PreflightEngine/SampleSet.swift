/// Samples and their labels, converted a batch at a time into the network's float inputs. The features are
/// either bytes (`pixels`, multiplied by `scale` as they are converted: images stay compact) or floats
/// (`values`, already scaled, copied as they are).
public struct SampleSet: Sendable {
    /// count × features bytes, sample after sample (empty when `values` holds the features).
    public let pixels: [UInt8]
    /// count × features floats, sample after sample (empty when `pixels` holds the features).
    public let values: [Float]
    public let labels: [UInt16]
    public var count: Int
    public var features: Int
    /// Multiplier from byte to network input (1/255 for "unit" scaling, 1 for "none"); unused for floats.
    public var scale: Float
    /// Largest label + 1: a network needs at least this many outputs for these samples.
    public let labelBound: Int
    /// The share of non-zero features over every sample, measured once here: it decides the path of
    /// layer 0's products (`InputPath.choose`), so the same data always take the same path.
    public let nonZeroFraction: Double
    /// Each sample's non-zero bytes, listed once here when the bytes take the sparse path (see `SparseRows`).
    let sparseRows: SparseRows?

    public init(pixels: [UInt8], labels: [UInt16], count: Int, features: Int, scale: Float) {
        precondition(pixels.count == count * features && labels.count == count)
        self.pixels = pixels; self.values = []; self.labels = labels; self.count = count; self.features = features; self.scale = scale
        labelBound = labels.isEmpty ? 0 : Int(labels.max()!) + 1
        nonZeroFraction = Self.measureDensity(pixels: pixels, values: [], count: count, features: features)
        sparseRows = InputPath.choose(density: nonZeroFraction) == .sparse && features <= Int(UInt16.max) + 1
            ? SparseRows(pixels: pixels, count: count, features: features) : nil
    }

    @_disfavoredOverload
    public init(pixels: [UInt8], labels: [UInt8], count: Int, features: Int, scale: Float) {
        self.init(pixels: pixels, labels: labels.map(UInt16.init), count: count, features: features, scale: scale)
    }

    public init(values: [Float], labels: [UInt16], count: Int, features: Int) {
        precondition(values.count == count * features && labels.count == count)
        self.pixels = []; self.values = values; self.labels = labels; self.count = count; self.features = features; self.scale = 1
        labelBound = labels.isEmpty ? 0 : Int(labels.max()!) + 1
        nonZeroFraction = Self.measureDensity(pixels: [], values: values, count: count, features: features)
        sparseRows = nil
    }

    /// Whether the features are floats.
    public var isFloat: Bool { pixels.isEmpty && count > 0 }

    /// The first `k` samples.
    public func prefix(_ k: Int) -> SampleSet {
        let k = max(0, min(k, count)), f = features
        if isFloat { return SampleSet(values: Array(values[0..<(k * f)]), labels: Array(labels[0..<k]), count: k, features: f) }
        return SampleSet(pixels: Array(pixels[0..<(k * f)]), labels: Array(labels[0..<k]), count: k, features: f, scale: scale)
    }

    /// Writes the inputs of samples `order[start..<start + rows]` (or `start..<start + rows` without an order) into
    /// `x` (rows × features) and their labels into `y`. `sink`: memory only the calling thread writes (see `touchRows`).
    @inline(__always)
    func copyRows(order: UnsafePointer<Int32>?, start: Int, rows: Int, x: UnsafeMutablePointer<Float>,
                  y: UnsafeMutablePointer<Int32>, sink: UnsafeMutablePointer<UInt8>) {
        let f = features
        if isFloat {
            values.withUnsafeBufferPointer { v in
                for r in 0..<rows {
                    let idx = order.map { Int($0[start + r]) } ?? (start + r)
                    y[r] = Int32(labels[idx])
                    (x + r * f).update(from: v.baseAddress! + idx * f, count: f)
                }
            }
            return
        }
        pixels.withUnsafeBufferPointer { px in
            let base = px.baseAddress!
            if let order { touchRows(base, order + start, rows, f, sink: sink) }
            for r in 0..<rows {
                let idx = order.map { Int($0[start + r]) } ?? (start + r)
                y[r] = Int32(labels[idx])
                convertRow(base + idx * f, x + r * f, f, scale)
            }
        }
    }
}
