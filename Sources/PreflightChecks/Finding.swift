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

/// Everything a rule may look at: the run's configuration and its records.
public struct CheckInput: Sendable {
    /// Layer widths: input, hidden…, output.
    public var layers: [Int]
    /// Number of classes in the data (0 when no data is loaded).
    public var classes: Int
    public var activation: Activation
    /// One initialiser per weight layer (a single entry applies to every layer).
    public var initializers: [Initializer]
    public var optimizer: OptimizerKind
    /// The softmax clipping ε.
    public var epsilon: Double
    /// Smallest and largest input over the whole (scaled) training set; NaN when unknown.
    public var dataInputMin: Double
    public var dataInputMax: Double
    /// Recorded in training, or probed before training.
    public var firstBatch: FirstBatchRecord?
    public var epochs: [EpochRecord]
    public var nonFinite: NonFiniteEvent?
    /// How the inputs were scaled: "unit", "standard", "none", or "" when unknown.
    public var dataScale: String = ""
    /// Whether the inputs are pictures (bytes with rows x cols), for the wording of hints.
    public var dataIsImage: Bool = true
    /// Samples per class in the training and test splits (nil when no data are loaded).
    public var trainClassCounts: [Int]? = nil
    public var testClassCounts: [Int]? = nil
    /// Text labels in class order, for messages (nil for integer labels).
    public var classNames: [String]? = nil

    public init(layers: [Int], classes: Int, activation: Activation, initializers: [Initializer],
                optimizer: OptimizerKind, epsilon: Double, dataInputMin: Double, dataInputMax: Double,
                firstBatch: FirstBatchRecord? = nil, epochs: [EpochRecord] = [], nonFinite: NonFiniteEvent? = nil) {
        self.layers = layers; self.classes = classes; self.activation = activation
        self.initializers = initializers; self.optimizer = optimizer; self.epsilon = epsilon
        self.dataInputMin = dataInputMin; self.dataInputMax = dataInputMax
        self.firstBatch = firstBatch; self.epochs = epochs; self.nonFinite = nonFinite
    }
}
