import PreflightEngine
import PreflightData

/// A dataset in memory, scaled and ready for the engine.
public struct LoadedData {
    public var spec: DataSpec
    /// The data as the network sees them: split, limited and scaled (`--scale standard` turns bytes into floats).
    public var dataset: Dataset
    public var train: SampleSet
    public var test: SampleSet
    /// Smallest and largest pixel byte over the training set (byte data; 0...0 for float data).
    public let pixelRange: ClosedRange<UInt8>
    /// Per-feature statistics of the training split before scaling (nil for image data scaled by 1/255 or not at all:
    /// they need none, and the checks on columns do not apply to pictures).
    public let rawStats: FeatureStats?
    /// Smallest and largest network input over the training set (after scaling).
    public let inputMin: Double
    public let inputMax: Double

    /// `rawStats`: the training statistics `dataset` was scaled with, when it was.
    /// `inputRange`: the training inputs' range when the scaling already knows it (saves a pass over the data).
    public init(spec: DataSpec, dataset: Dataset, rawStats: FeatureStats? = nil, inputRange: ClosedRange<Float>? = nil) {
        self.spec = spec
        self.dataset = dataset
        self.rawStats = rawStats
        let f = dataset.features
        if dataset.isFloat {
            train = SampleSet(values: dataset.train.values, labels: dataset.train.labels, count: dataset.train.count, features: f)
            test = SampleSet(values: dataset.test.values, labels: dataset.test.labels, count: dataset.test.count, features: f)
            var lo = Float.infinity, hi = -Float.infinity
            if let r = inputRange {
                lo = r.lowerBound; hi = r.upperBound
            } else {
                dataset.train.values.withUnsafeBufferPointer { p in
                    for v in p { if v < lo { lo = v }; if v > hi { hi = v } }
                }
            }
            pixelRange = 0...0
            inputMin = dataset.train.values.isEmpty ? 0 : Double(lo)
            inputMax = dataset.train.values.isEmpty ? 0 : Double(hi)
        } else {
            let scale: Float = spec.scale == .unit ? 1 / 255 : 1
            train = SampleSet(pixels: dataset.train.images, labels: dataset.train.labels, count: dataset.train.count,
                              features: f, scale: scale)
            test = SampleSet(pixels: dataset.test.images, labels: dataset.test.labels, count: dataset.test.count,
                             features: f, scale: scale)
            var lo: UInt8 = 255, hi: UInt8 = 0
            dataset.train.images.withUnsafeBufferPointer { p in
                for v in p { if v < lo { lo = v }; if v > hi { hi = v } }
            }
            pixelRange = dataset.train.images.isEmpty ? 0...0 : lo...hi
            inputMin = Double(Float(pixelRange.lowerBound) * scale)
            inputMax = Double(Float(pixelRange.upperBound) * scale)
        }
    }

    public var classes: Int { dataset.classes }
    public var features: Int { dataset.features }
    /// "pixels" for pictures, "features" for everything else.
    public var unitName: String { dataset.isImage ? "pixels" : "features" }

    /// Training and test samples per class.
    public var trainCounts: [Int] { dataset.train.labelCounts(classes: classes) }
    public var testCounts: [Int] { dataset.test.labelCounts(classes: classes) }
}
