import PreflightEngine

/// How the data were asked for: enough to load them again.
public struct DataSpec: Equatable, Codable, Sendable {
    /// "mnist", "fashion", "synthetic" or a path.
    public var name: String
    /// `--limit N`: at most N train (and N test) samples.
    public var limit: Int?
    /// `--scale unit` (pixels / 255) or `none` (raw 0–255).
    public var scaleUnit: Bool = true
    /// `synthetic N`: the number of samples.
    public var syntheticCount: Int?

    /// The `data` command that loads these data again.
    public var command: String {
        var s = "data \(name.contains(" ") ? "\"\(name)\"" : name)"
        if let n = syntheticCount { s += " \(n)" }
        if let l = limit { s += " --limit \(l)" }
        if !scaleUnit { s += " --scale none" }
        return s
    }
}

/// Everything a new run is built from. The session holds one; each run keeps the copy it was built from.
public struct RunConfig: Equatable, Codable, Sendable {
    /// Input, hidden…, output sizes; nil until `layers` (then the data's inputs, 128, 128, classes).
    public var layers: [Int]?
    public var activation: Activation = .relu
    public var initializer: Initializer = .glorot
    /// `init … layer K` overrides, keyed by 1-based weight-layer number.
    public var layerInits: [Int: Initializer] = [:]
    public var optimizer: OptimizerKind = .adam(lr: 0.001)
    public var batch: Int = 100
    public var seed: UInt64 = 0
    public var epsilon: Double = 1e-7
    public var data: DataSpec?

    public init() {}

    /// The initialiser of each weight layer.
    public func initializers(layerCount: Int) -> [Initializer] {
        (0..<layerCount).map { layerInits[$0 + 1] ?? initializer }
    }

    /// Text of the initialisation: "glorot" or "glorot (layer 2: truncnormal 0.5)".
    public var initDescription: String {
        if layerInits.isEmpty { return initializer.description }
        let o = layerInits.keys.sorted().map { "layer \($0): \(layerInits[$0]!)" }.joined(separator: ", ")
        return "\(initializer) (\(o))"
    }
}
