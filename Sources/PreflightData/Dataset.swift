/// One of the train/test halves of a dataset. The features are held one of two ways, the same for both halves
/// of a dataset: as bytes in `images` (MNIST-style data, scaled a batch at a time) or as floats in `values`
/// (tables and float arrays); the other array is empty.
public struct DataSplit: Sendable, Equatable {
    /// `count * features` bytes, row-major, sample after sample, raw 0...255 (empty when `values` holds the features).
    public var images: [UInt8]
    /// `count * features` floats, sample after sample (empty when `images` holds the features).
    public var values: [Float]
    /// `count` labels, each `< classes` (at most 1000 classes).
    public var labels: [UInt16]
    public var count: Int

    public init(images: [UInt8], labels: [UInt16], count: Int) {
        self.images = images
        self.values = []
        self.labels = labels
        self.count = count
    }

    @_disfavoredOverload
    public init(images: [UInt8], labels: [UInt8], count: Int) {
        self.init(images: images, labels: labels.map(UInt16.init), count: count)
    }

    public init(values: [Float], labels: [UInt16], count: Int) {
        self.images = []
        self.values = values
        self.labels = labels
        self.count = count
    }

    /// Whether the features are floats (`values`) rather than bytes (`images`).
    public var isFloat: Bool { !values.isEmpty || (images.isEmpty && count > 0) }

    /// The first `n` samples (clamped to 0...count).
    public func prefix(_ n: Int, features: Int) -> DataSplit {
        let k = max(0, min(n, count))
        if k == count { return self }
        var s = self
        if isFloat { s.values = Array(values[0..<(k * features)]) } else { s.images = Array(images[0..<(k * features)]) }
        s.labels = Array(labels[0..<k])
        s.count = k
        return s
    }

    /// How many samples carry each label 0..<classes.
    public func labelCounts(classes: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: max(classes, 0))
        for l in labels where Int(l) < counts.count { counts[Int(l)] += 1 }
        return counts
    }
}

/// A loaded dataset: samples of `features` values with integer class labels. Images (MNIST and the like) are
/// `rows` x `cols` bytes; other data have `rows == 1` and `cols == features`.
public struct Dataset: Sendable, Equatable {
    /// "mnist", "fashion", "synthetic", or the PATH given.
    public var name: String
    /// Where it was read from (folder or file path), or "generated".
    public var source: String
    public var rows: Int
    public var cols: Int
    /// Number of classes: 10 for mnist/fashion/synthetic; max label + 1 for integer labels of a dataset given by
    /// path; the number of distinct labels for text labels.
    public var classes: Int
    public var train: DataSplit
    public var test: DataSplit
    /// Whether the samples are pictures (bytes with a rows x cols shape): `data` and `show` then speak of pixels.
    public var isImage: Bool = true
    /// Names of the features (a CSV header), or nil.
    public var featureNames: [String]? = nil
    /// Text labels in class order (class k is `classNames[k]`), or nil for integer labels.
    public var classNames: [String]? = nil
    /// What the loader noticed that the user should hear about (dropped rows, empty classes, odd labels…), one line each.
    public var notes: [String] = []
    /// Whether the test split was drawn from the data (`--test FRACTION`) rather than given by the files.
    public var splitFraction: Double? = nil

    public init(name: String, source: String, rows: Int, cols: Int, classes: Int, train: DataSplit, test: DataSplit) {
        self.name = name
        self.source = source
        self.rows = rows
        self.cols = cols
        self.classes = classes
        self.train = train
        self.test = test
    }

    public var features: Int { rows * cols }

    /// Whether the features are floats rather than bytes.
    public var isFloat: Bool { train.isFloat }

    /// A feature's name for messages: "column 3 (mean_area)" style names come from the header when there is one.
    public func featureName(_ j: Int) -> String {
        if let n = featureNames, j < n.count, !n[j].isEmpty { return "\(j + 1) (\(n[j]))" }
        return "\(j + 1)"
    }

    /// The first `n` training samples and the first `min(n, test.count)` test samples (n is clamped at 0).
    /// Name, source, shape and `classes` are kept.
    public func limited(to n: Int) -> Dataset {
        var d = self
        d.train = train.prefix(n, features: features)
        d.test = test.prefix(n, features: features)
        return d
    }
}
