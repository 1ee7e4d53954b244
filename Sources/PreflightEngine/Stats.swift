/// Streaming statistics of one hidden layer's outputs (no activations are stored).
public struct StatsAccumulator {
    public var sum: Double = 0
    public var sumSquares: Double = 0
    public var max: Float = -.infinity
    public var zeros: Int = 0
    public var aboveOne: Int = 0
    public var saturated: Int = 0
    public var values: Int = 0
    public var samples: Int = 0
    /// Largest output of each unit seen so far (dead-unit detection).
    public var unitMax: [Float]

    public init(units: Int) { unitMax = Array(repeating: -.infinity, count: units) }

    public mutating func reset() {
        sum = 0; sumSquares = 0; max = -.infinity; zeros = 0; aboveOne = 0; saturated = 0; values = 0; samples = 0
        for i in unitMax.indices { unitMax[i] = -.infinity }
    }

    /// The summary; a unit counts as dead if its output never exceeded 0 (relu-like) or never differed from 0.
    public func summary(activation: Activation) -> LayerStats {
        let n = Double(Swift.max(values, 1))
        let mean = sum / n
        let variance = Swift.max(0, sumSquares / n - mean * mean)
        let dead: Int
        switch activation {
        case .relu, .leakyRelu, .elu: dead = unitMax.filter { !($0 > 0) }.count
        default: dead = 0
        }
        return LayerStats(mean: mean, std: variance.squareRoot(), max: values == 0 ? 0 : Double(max),
                          zeroFraction: Double(zeros) / n, aboveOneFraction: Double(aboveOne) / n,
                          deadFraction: unitMax.isEmpty ? 0 : Double(dead) / Double(unitMax.count),
                          saturatedFraction: Double(saturated) / n, samples: samples)
    }
}
