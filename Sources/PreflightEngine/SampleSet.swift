/// Images kept as bytes and converted a batch at a time, with their labels.
public struct SampleSet: Sendable {
    /// count × features bytes, sample after sample.
    public let pixels: [UInt8]
    public let labels: [UInt8]
    public var count: Int
    public var features: Int
    /// Multiplier from byte to network input (1/255 for "unit" scaling, 1 for "none").
    public var scale: Float
    /// Largest label + 1: a network needs at least this many outputs for these samples.
    public let labelBound: Int
    public init(pixels: [UInt8], labels: [UInt8], count: Int, features: Int, scale: Float) {
        precondition(pixels.count == count * features && labels.count == count)
        self.pixels = pixels; self.labels = labels; self.count = count; self.features = features; self.scale = scale
        labelBound = labels.isEmpty ? 0 : Int(labels.max()!) + 1
    }
}
