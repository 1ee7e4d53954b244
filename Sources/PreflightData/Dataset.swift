/// One of the train/test halves of a dataset.
public struct DataSplit: Sendable, Equatable {
    /// `count * rows * cols` pixels, row-major, image after image, raw 0...255.
    public var images: [UInt8]
    /// `count` labels, each `< classes`.
    public var labels: [UInt8]
    public var count: Int

    public init(images: [UInt8], labels: [UInt8], count: Int) {
        self.images = images
        self.labels = labels
        self.count = count
    }

    /// The first `n` samples (clamped to 0...count).
    public func prefix(_ n: Int, features: Int) -> DataSplit {
        let k = max(0, min(n, count))
        if k == count { return self }
        return DataSplit(images: Array(images[0..<(k * features)]), labels: Array(labels[0..<k]), count: k)
    }

    /// How many samples carry each label 0..<classes.
    public func labelCounts(classes: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: max(classes, 0))
        for l in labels where Int(l) < counts.count { counts[Int(l)] += 1 }
        return counts
    }
}

/// A loaded dataset: 8-bit grey images with integer class labels.
public struct Dataset: Sendable, Equatable {
    /// "mnist", "fashion", "synthetic", or the PATH given.
    public var name: String
    /// Where it was read from (folder or file path), or "generated".
    public var source: String
    public var rows: Int
    public var cols: Int
    /// Number of classes: 10 for mnist/fashion/synthetic; max label + 1 for a dataset given by path.
    public var classes: Int
    public var train: DataSplit
    public var test: DataSplit

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

    /// The first `n` training samples and the first `min(n, test.count)` test samples (n is clamped at 0).
    /// Name, source, shape and `classes` are kept.
    public func limited(to n: Int) -> Dataset {
        var d = self
        d.train = train.prefix(n, features: features)
        d.test = test.prefix(n, features: features)
        return d
    }
}
