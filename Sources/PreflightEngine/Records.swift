/// Statistics of one hidden layer's post-activation outputs over many samples.
public struct LayerStats: Sendable, Equatable, Codable {
    public var mean: Double
    public var std: Double
    public var max: Double
    public var zeroFraction: Double
    public var aboveOneFraction: Double
    /// Share of the layer's units that were never active (output ≤ 0 for relu-like, exactly 0 otherwise) on any sample.
    public var deadFraction: Double
    /// tanh/sigmoid: share of outputs whose pre-activation was beyond ±5; 0 for other activations.
    public var saturatedFraction: Double
    /// Samples the statistics cover.
    public var samples: Int
    public init(mean: Double, std: Double, max: Double, zeroFraction: Double, aboveOneFraction: Double,
                deadFraction: Double, saturatedFraction: Double, samples: Int) {
        self.mean = mean; self.std = std; self.max = max; self.zeroFraction = zeroFraction
        self.aboveOneFraction = aboveOneFraction; self.deadFraction = deadFraction
        self.saturatedFraction = saturatedFraction; self.samples = samples
    }
}

/// Gradient and update size of one weight layer (weights only, biases excluded).
public struct LayerGradRecord: Sendable, Equatable, Codable {
    /// ‖∂L/∂W‖₂, averaged over the measured steps.
    public var gradNorm: Double
    /// ‖ΔW‖/‖W‖ of one step, averaged over the measured steps.
    public var updateRatio: Double
    public init(gradNorm: Double, updateRatio: Double) { self.gradNorm = gradNorm; self.updateRatio = updateRatio }
}

/// What the first batch of the first epoch showed, with the weights before any update.
public struct FirstBatchRecord: Sendable, Equatable, Codable {
    public var loss: Double
    /// Share of softmax outputs below ε or above 1−ε.
    public var saturatedFraction: Double
    public var lowFraction: Double
    public var highFraction: Double
    public var accuracy: Double
    public var hidden: [LayerStats]
    /// Gradient norms of the first backward pass, one per weight layer.
    public var gradNorms: [Double]
    /// Smallest and largest input value of the batch (after scaling).
    public var inputMin: Double
    public var inputMax: Double
    public var batchSize: Int
    /// Which training samples the batch holds, in order (indices into the training set as loaded, after
    /// `--limit`): with the weights, enough to recompute every number above (scripts/oracle.py does).
    /// nil in records made before it was kept.
    public var sampleIndices: [Int]?
    public init(loss: Double, saturatedFraction: Double, lowFraction: Double, highFraction: Double, accuracy: Double,
                hidden: [LayerStats], gradNorms: [Double], inputMin: Double, inputMax: Double, batchSize: Int,
                sampleIndices: [Int]? = nil) {
        self.loss = loss; self.saturatedFraction = saturatedFraction; self.lowFraction = lowFraction
        self.highFraction = highFraction; self.accuracy = accuracy; self.hidden = hidden; self.gradNorms = gradNorms
        self.inputMin = inputMin; self.inputMax = inputMax; self.batchSize = batchSize; self.sampleIndices = sampleIndices
    }
}

/// Where a NaN or infinity first appeared.
public struct NonFiniteEvent: Sendable, Equatable, Codable {
    public var epoch: Int
    public var batch: Int
    /// "forward", "backward", "update" or "loss".
    public var stage: String
    /// Human layer name: "hidden 1", "output", "weights of layer 2"…
    public var layer: String
    public init(epoch: Int, batch: Int, stage: String, layer: String) {
        self.epoch = epoch; self.batch = batch; self.stage = stage; self.layer = layer
    }
}

/// One epoch's record.
public struct EpochRecord: Sendable, Equatable, Codable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    /// nil when there is no test set or the epoch was interrupted.
    public var testLoss: Double?
    public var testAccuracy: Double?
    public var seconds: Double
    public var samplesPerSecond: Double
    public var hidden: [LayerStats]
    public var layers: [LayerGradRecord]
    /// Batches trained out of the epoch's total (fewer when interrupted or stopped by a NaN).
    public var batches: Int
    public var totalBatches: Int
    public var complete: Bool { batches == totalBatches }
    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double, testLoss: Double?, testAccuracy: Double?,
                seconds: Double, samplesPerSecond: Double, hidden: [LayerStats], layers: [LayerGradRecord],
                batches: Int, totalBatches: Int) {
        self.epoch = epoch; self.trainLoss = trainLoss; self.trainAccuracy = trainAccuracy
        self.testLoss = testLoss; self.testAccuracy = testAccuracy; self.seconds = seconds
        self.samplesPerSecond = samplesPerSecond; self.hidden = hidden; self.layers = layers
        self.batches = batches; self.totalBatches = totalBatches
    }
}
