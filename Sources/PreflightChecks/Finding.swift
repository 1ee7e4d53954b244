import PreflightEngine

/// Outcome of one rule. Severity for ranking: fail > warn > not-run > ok.
public enum Verdict: String, Sendable, Codable, Comparable, CaseIterable {
    case ok, warn, fail, notRun = "not-run"

    /// 0 for ok up to 3 for fail.
    public var severity: Int {
        switch self {
        case .ok: return 0
        case .notRun: return 1
        case .warn: return 2
        case .fail: return 3
        }
    }

    public static func < (a: Verdict, b: Verdict) -> Bool { a.severity < b.severity }
}

/// One rule's verdict on one run.
public struct Finding: Sendable, Equatable {
    /// Rule id, e.g. "saturation".
    public var rule: String
    /// Where the value was measured: "static", "init", "first-batch", "epoch 3", "epochs 1-5".
    public var phase: String
    /// The measured value (nil when the rule did not run, or when nothing numeric was measured).
    public var value: Double?
    /// The threshold the value was compared with: the one that decided the verdict, or the warn threshold when ok.
    public var threshold: Double?
    public var verdict: Verdict
    /// What was measured, with its units.
    public var measured: String
    /// One line of what to try; "" when ok.
    public var hint: String
    /// Why the rule did not run; "" otherwise.
    public var reason: String

    public init(rule: String, phase: String, value: Double?, threshold: Double?, verdict: Verdict,
                measured: String, hint: String = "", reason: String = "") {
        self.rule = rule; self.phase = phase; self.value = value; self.threshold = threshold
        self.verdict = verdict; self.measured = measured; self.hint = hint; self.reason = reason
    }
}

/// Everything a rule may look at: the run's configuration and its records. Built from a Preflight run
/// (everything known) or from a record file (an external run: any of it may be missing; the rules that need
/// a missing input say `not run` and name it).
public struct CheckInput: Sendable {
    /// Per-epoch or per-layer values a record may lack even where it has the rest.
    public enum Missing: String, Sendable, Hashable {
        case trainLoss = "train_loss", trainAccuracy = "train_accuracy"
        case deadFraction = "dead_fraction", saturatedFraction = "saturated_fraction"
    }
    /// Layer widths: input, hidden…, output; nil when unknown (an external model that is not a plain MLP).
    public var layers: [Int]?
    /// Number of classes in the data (0 when no data is loaded; nil when unknown, e.g. a regression model's record).
    public var classes: Int?
    /// Width of the model's output (defaults to the last layer width).
    public var outputs: Int?
    /// The hidden activation; nil when unknown or when the hidden layers differ.
    public var activation: Activation?
    /// The record's own name for the activation when Preflight does not know it ("gelu"), for the reasons.
    public var activationName: String?
    /// One initialiser per weight layer (a single entry applies to every layer); empty when unknown.
    public var initializers: [Initializer]
    /// nil when unknown (or an optimiser Preflight does not have).
    public var optimizer: OptimizerKind?
    /// The softmax clipping ε.
    public var epsilon: Double
    /// Smallest and largest input over the whole (scaled) training set; NaN when unknown.
    public var dataInputMin: Double
    public var dataInputMax: Double
    /// How the data behind `dataInputMin`/`dataInputMax` were loaded (e.g. "data mnist --scale none"), for the messages.
    public var dataName: String? = nil
    /// Recorded in training, or probed before training.
    public var firstBatch: FirstBatchRecord?
    public var epochs: [EpochRecord]
    public var nonFinite: NonFiniteEvent?
    /// The first module whose output was NaN/Inf on the first batch (external records), and the stage.
    public var firstBatchNonFinite: (layer: String, stage: String)?
    /// Values the records lack (NaN in `epochs` / `firstBatch` where they are missing).
    public var missing: Set<Missing>
    /// Where the inputs come from, for the `not run` reasons: "the session" or "the record".
    public var source: String
    /// How the inputs were scaled: "unit", "standard", "none", or "" when unknown.
    public var dataScale: String = ""
    /// Whether the inputs are pictures (bytes with rows x cols), for the wording of hints.
    public var dataIsImage: Bool = true
    /// Samples per class in the training and test splits (nil when no data are loaded).
    public var trainClassCounts: [Int]? = nil
    public var testClassCounts: [Int]? = nil
    /// Text labels in class order, for messages (nil for integer labels).
    public var classNames: [String]? = nil

    public init(layers: [Int]?, classes: Int?, activation: Activation?, initializers: [Initializer],
                optimizer: OptimizerKind?, epsilon: Double, dataInputMin: Double, dataInputMax: Double,
                firstBatch: FirstBatchRecord? = nil, epochs: [EpochRecord] = [], nonFinite: NonFiniteEvent? = nil,
                outputs: Int? = nil, activationName: String? = nil, firstBatchNonFinite: (String, String)? = nil,
                missing: Set<Missing> = [], source: String = "the session") {
        self.layers = layers; self.classes = classes; self.activation = activation
        self.initializers = initializers; self.optimizer = optimizer; self.epsilon = epsilon
        self.dataInputMin = dataInputMin; self.dataInputMax = dataInputMax
        self.firstBatch = firstBatch; self.epochs = epochs; self.nonFinite = nonFinite
        self.outputs = outputs ?? layers?.last; self.activationName = activationName
        self.firstBatchNonFinite = firstBatchNonFinite.map { (layer: $0.0, stage: $0.1) }
        self.missing = missing; self.source = source
    }
}
