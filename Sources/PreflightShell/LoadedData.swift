import PreflightEngine
import PreflightData

/// A dataset in memory, ready for the engine.
public struct LoadedData {
    public var spec: DataSpec
    public var dataset: Dataset
    public var train: SampleSet
    public var test: SampleSet
    /// Smallest and largest pixel byte over the training set.
    public let pixelRange: ClosedRange<UInt8>

    public init(spec: DataSpec, dataset: Dataset) {
        self.spec = spec
        self.dataset = dataset
        let scale: Float = spec.scaleUnit ? 1 / 255 : 1
        train = SampleSet(pixels: dataset.train.images, labels: dataset.train.labels, count: dataset.train.count,
                          features: dataset.features, scale: scale)
        test = SampleSet(pixels: dataset.test.images, labels: dataset.test.labels, count: dataset.test.count,
                         features: dataset.features, scale: scale)
        var lo: UInt8 = 255, hi: UInt8 = 0
        dataset.train.images.withUnsafeBufferPointer { p in
            for v in p { if v < lo { lo = v }; if v > hi { hi = v } }
        }
        pixelRange = dataset.train.images.isEmpty ? 0...0 : lo...hi
    }

    /// Smallest and largest network input over the training set (after scaling).
    public var inputMin: Double { Double(Float(pixelRange.lowerBound) * train.scale) }
    public var inputMax: Double { Double(Float(pixelRange.upperBound) * train.scale) }

    public var classes: Int { dataset.classes }
    public var features: Int { dataset.features }
}
