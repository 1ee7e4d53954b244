import PreflightEngine
import PreflightData

/// How the data were asked for: enough to load them again.
public struct DataSpec: Equatable, Codable, Sendable {
    /// "mnist", "fashion", "synthetic" or a path.
    public var name: String
    /// `--limit N`: at most N train (and N test) samples.
    public var limit: Int?
    /// `--scale unit` (true) or `none` (false); `standard` is recorded in `scaling` (saves before it lack the field).
    public var scaleUnit: Bool = true
    /// `--scale standard`, or nil for unit/none (see `scale`).
    public var scaling: ScaleMode?
    /// `synthetic N`: the number of samples.
    public var syntheticCount: Int?
    /// `data X.npy Y.npy`: the labels file.
    public var labelsPath: String?
    /// CSV: `--label COL`, `--no-header`, `--delimiter C`, `--drop-missing`.
    public var labelColumn: String?
    public var noHeader: Bool?
    public var delimiter: String?
    public var dropMissing: Bool?
    /// .npz: `--x KEY`, `--y KEY`, `--x-test KEY`, `--y-test KEY`.
    public var xKey: String?
    public var yKey: String?
    public var xTestKey: String?
    public var yTestKey: String?
    /// `--test FRACTION` as given (nil: the default 0.2 when the data have no test split).
    public var testFraction: Double?
    /// The seed the test split was drawn with (the session's seed when the data were loaded), when one was drawn.
    public var splitSeed: UInt64?
    /// Text labels in class order, as loaded (recorded with the runs; nil for integer labels).
    public var classNames: [String]?

    public init(name: String) { self.name = name }

    /// unit, standard or none.
    public var scale: ScaleMode {
        get { scaling ?? (scaleUnit ? .unit : .none) }
        set { scaling = newValue == .standard ? .standard : nil; scaleUnit = newValue != .none }
    }

    /// The `data` command that loads these data again.
    public var command: String {
        func q(_ t: String) -> String {
            guard t.isEmpty || t.contains(where: { " \t\"'#;".contains($0) }) else { return t }
            return t.contains("\"") ? "'\(t)'" : "\"\(t)\""
        }
        var s = "data \(q(name))"
        if let y = labelsPath { s += " \(q(y))" }
        if let n = syntheticCount { s += " \(n)" }
        if let l = labelColumn { s += " --label \(q(l))" }
        if noHeader == true { s += " --no-header" }
        if let d = delimiter { s += " --delimiter \(q(d == "\t" ? "tab" : d))" }
        if dropMissing == true { s += " --drop-missing" }
        if let k = xKey { s += " --x \(q(k))" }
        if let k = yKey { s += " --y \(q(k))" }
        if let k = xTestKey { s += " --x-test \(q(k))" }
        if let k = yTestKey { s += " --y-test \(q(k))" }
        if let f = testFraction { s += " --test \(f)" }
        if let l = limit { s += " --limit \(l)" }
        if scale != .unit { s += " --scale \(scale.rawValue)" }
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
    /// `l2 L` (Keras' kernel_regularizer: L·Σw² added to the loss, the weights only); nil = 0, off (optional
    /// so that save files written before it still load, and so that `l2 0` is the same configuration as none).
    public var l2: Double?
    /// `schedule …`; nil = none.
    public var schedule: Schedule?
    /// `set schedule.epochs E`: the epochs a schedule is planned over; nil = the run's first `train N` plans N.
    public var scheduleEpochs: Int?
    /// `dropout P`: inverted dropout after every hidden activation in training, P in [0, 1); nil = 0, off.
    public var dropout: Double?
    /// `clip NORM`: global gradient-norm clipping at NORM > 0; nil = off.
    public var clip: Double?
    /// `batchnorm on`: batch normalisation before every hidden activation (Keras semantics, see
    /// `Network.batchNorm`); nil = off (optional so that save files written before it load as off, and so that
    /// `batchnorm off` is the same configuration as never saying it).
    public var batchNorm: Bool?

    public init() {}

    public var l2Value: Double { l2 ?? 0 }
    public var batchNormValue: Bool { batchNorm ?? false }
    public var dropoutValue: Double { dropout ?? 0 }
    /// ", l2 0.0001, schedule cosine" when set ("" when not): what follows the optimiser in tables.
    public var remediesText: String {
        var s = ""
        if l2Value != 0 { s += ", l2 \(formatParam(l2Value))" }
        if scheduleValue != .none { s += ", schedule \(scheduleValue)" }
        if dropoutValue != 0 { s += ", dropout \(formatParam(dropoutValue))" }
        if let c = clip { s += ", clip \(formatParam(c))" }
        return s
    }
    public var scheduleValue: Schedule { schedule ?? .none }

    /// Puts the settings the engine reads outside the optimiser's kind (l2, schedule, dropout, clip) onto a run's trainer.
    public func configure(_ t: Trainer) {
        t.dropout = dropoutValue > 0 ? Float(dropoutValue) : nil
        t.clipNorm = clip.map { Float($0) }
        t.optimizer.l2 = l2Value
        t.optimizer.schedule = scheduleValue
        if let e = scheduleEpochs { t.optimizer.plannedEpochs = e }
    }

    /// A network of this configuration's shape, activation and batch normalisation (weights not drawn yet:
    /// `initialize`). The layers must be resolved.
    public func makeNetwork() -> Network {
        Network(sizes: layers!, activation: activation, batchNorm: batchNormValue)
    }

    /// The hidden activation as tables show it: "relu", or "relu+bn" with batch normalisation.
    public var activationText: String { activation.rawValue + (batchNormValue ? "+bn" : "") }

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
