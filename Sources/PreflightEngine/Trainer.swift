import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic seconds.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Progress of a running epoch, reported between batches.
public struct BatchProgress: Sendable {
    public var epoch: Int
    public var batch: Int          // batches done in this epoch
    public var batches: Int        // batches in the epoch
    public var loss: Double        // running mean train loss of the epoch
    public var samplesPerSecond: Double
    public var batchSize: Int
}

/// One training run's engine state: the network, the optimiser, the shuffling generator, and everything recorded.
public final class Trainer {
    public let network: Network
    public let optimizer: Optimizer
    /// Generator for the per-epoch shuffles; advances once per epoch.
    public var shuffleRNG: Xoshiro
    public private(set) var epochs: [EpochRecord] = []
    public private(set) var firstBatch: FirstBatchRecord?
    /// Set when a NaN/Inf stopped training.
    public private(set) var nonFinite: NonFiniteEvent?
    /// Measure gradient norms and update ratios every this many steps (and on the epoch's last step).
    public var measureEvery = 50
    /// Rows of the test set evaluated per forward pass.
    public var evalBatch = 500
    /// Global gradient-norm clipping: nil (the default) is off; otherwise, in every step, when the L2 norm of
    /// all layers' weight and bias gradients together exceeds it, every gradient is scaled by clipNorm / norm
    /// before any update (as `torch.nn.utils.clip_grad_norm_`, Keras' `global_clipnorm`). The recorded
    /// gradient norms and update ratios are those of the clipped gradients; the first-batch record's are
    /// the raw ones. The same on one and two threads.
    public var clipNorm: Float? {
        didSet { precondition(clipNorm.map { $0 > 0 && $0.isFinite } ?? true, "clipNorm must be positive and finite") }
    }

    /// Inverted dropout after every hidden activation in training: nil or 0 (the default) is off; otherwise
    /// each hidden output is zeroed with probability `dropout` and the rest scaled by 1/(1 − dropout), in [0, 1).
    /// Never at evaluation, in `probe`, or in the step that makes the first-batch record (so the record shows
    /// the network as initialised, with or without dropout). The masks come from a counter-based generator
    /// keyed by (the run's seed, the optimiser's step, layer, row, unit): the same on one and two threads and
    /// after save/load.
    public var dropout: Float? {
        didSet { precondition(dropout.map { $0 >= 0 && $0 < 1 } ?? true, "dropout must be in [0, 1)") }
    }
    /// The seed of the dropout masks (the run's seed).
    public let dropoutSeed: UInt64

    /// Threads for training: 1, or 2 (the partitions of every hidden layer run on two threads at once).
    /// Results do not depend on it: one and two threads do the same arithmetic (see TrainingStep).
    public var threads: Int = Trainer.defaultThreads
    /// The machine's choice: 2 on two or more cores, else 1; `PREFLIGHT_THREADS=1|2` overrides it (tests
    /// and benchmarks use it to run the same thing on either count).
    public static var defaultThreads: Int {
        if let v = ProcessInfo.processInfo.environment["PREFLIGHT_THREADS"], let n = Int(v), n == 1 || n == 2 { return n }
        return ProcessInfo.processInfo.activeProcessorCount >= 2 ? 2 : 1
    }

    /// How layer 0's products are computed: nil (the default) chooses from the data's density
    /// (`InputPath.choose`: the training set's for training and the probe, the evaluated set's for
    /// evaluation), so the same data always take the same path; a value forces it (benchmarks, tests).
    public var inputPath: InputPath?
    /// The path the last epoch or probe took.
    public private(set) var lastInputPath: InputPath = .dense
    /// The path for passes over `set`.
    public func path(for set: SampleSet) -> InputPath { inputPath ?? InputPath.choose(density: set.density) }

    /// Buffers for evaluation passes (`evaluate`, locating a NaN).
    private var workspace: Workspace?
    private var step: TrainingStep?
    /// Seconds the main thread and the worker waited at barriers in the last two-thread epoch (diagnostics).
    public private(set) var lastBarrierWait: (main: Double, worker: Double) = (0, 0)
    /// With `profilePhases`, each training thread's seconds per phase in the last epoch (names in
    /// `phaseNames`; one row on one thread, two on two): for scripts/bench --profile.
    public var profilePhases = false
    public private(set) var lastPhaseSeconds: [[Double]] = []
    public static let phaseNames = TrainingStep.Phase.allCases.map { "\($0)" }
    private var stats: [StatsAccumulator]
    private var order: [Int32] = []

    /// The step's worker thread is parked between epochs and keeps the step alive: end it.
    deinit { step?.stopWorker() }

    public init(network: Network, optimizer: OptimizerKind, seed: UInt64) {
        self.network = network
        self.optimizer = Optimizer(kind: optimizer, count: network.paramCount, biasRanges: network.ranges.map(\.bias),
                                   normRanges: network.normRanges.flatMap { [$0.gamma, $0.beta] })
        self.shuffleRNG = Xoshiro(seed: seed, stream: 1)
        self.dropoutSeed = seed
        stats = network.sizes.dropFirst().dropLast().map { StatsAccumulator(units: $0) }
        BLAS.setThreads(1)
    }

    /// Restores recorded state (save/load).
    public func restore(epochs: [EpochRecord], firstBatch: FirstBatchRecord?, nonFinite: NonFiniteEvent?, shuffleRNG: Xoshiro) {
        self.epochs = epochs; self.firstBatch = firstBatch; self.nonFinite = nonFinite; self.shuffleRNG = shuffleRNG
    }

    private func workspace(rows: Int) -> Workspace {
        if let ws = workspace, ws.capacity >= rows { return ws }
        let ws = Workspace(sizes: network.sizes, capacity: rows)
        workspace = ws
        return ws
    }

    /// The training step for batches of up to `rows` rows.
    /// The training step for `rows` rows of `set`, with this trainer's settings and its statistics reset (the probe
    /// and every epoch start here). Clipping only acts on a step that updates, so the probe's gradients stay raw.
    private func prepareStep(rows: Int, set: SampleSet, epsilon: Float, profiling: Bool) -> TrainingStep {
        let s = trainingStep(rows: rows)
        s.epsilon = epsilon
        s.clipNorm = clipNorm
        s.dropout = dropout
        s.set = set
        s.path = path(for: set)
        lastInputPath = s.path
        s.profiling = profiling
        s.resetStats()
        return s
    }

    private func trainingStep(rows: Int) -> TrainingStep {
        if let s = step, s.capacity >= rows { return s }
        step?.stopWorker()   // the parked worker holds its step strongly: let it exit, or both leak
        let s = TrainingStep(net: network, capacity: rows)
        s.optimizer = optimizer
        s.dropoutSeed = dropoutSeed
        step = s
        return s
    }

    /// Whether the network can take these samples: one input per feature and an output for every label.
    /// Every pass checks it, since a label beyond the output layer would index past the softmax row.
    public func accepts(_ set: SampleSet) -> Bool {
        set.features == network.sizes[0] && set.labelBound <= network.sizes.last!
    }

    /// The order in which the next epoch visits the samples (does not advance the generator).
    public func peekOrder(count: Int) -> [Int32] {
        var rng = shuffleRNG
        var o = (0..<Int32(count)).map { $0 }
        rng.shuffle(&o)
        return o
    }

    private func hiddenSummaries() -> [LayerStats] { stats.map { $0.summary(activation: network.activation) } }

    /// One forward and backward pass over the batch the next epoch would start with, without any update:
    /// what the first batch looks like with the current weights. The training step's own passes, so before
    /// training this is exactly the record the first epoch makes.
    /// `dropoutStep` (gradient checks): apply `dropout` with that step's masks (the gradients then match the
    /// loss of the same masks).
    public func probe(_ set: SampleSet, batch: Int, epsilon: Float, dropoutStep: UInt64? = nil) -> FirstBatchRecord {
        precondition(accepts(set), "probe: the samples do not fit the network (see accepts)")
        guard set.count > 0 else {
            return FirstBatchRecord(loss: .nan, saturatedFraction: .nan, lowFraction: .nan, highFraction: .nan, accuracy: .nan,
                                    hidden: [], gradNorms: [], inputMin: .nan, inputMax: .nan, batchSize: 0, sampleIndices: [])
        }
        BLAS.setFlushToZero(true)
        defer { BLAS.setFlushToZero(false) }
        let rows = min(max(batch, 1), set.count)
        let s = prepareStep(rows: rows, set: set, epsilon: epsilon, profiling: false)
        let o = peekOrder(count: set.count)
        var record: FirstBatchRecord?
        o.withUnsafeBufferPointer { ob in
            s.order = ob.baseAddress
            s.probe(start: 0, rows: rows, dropStep: dropoutStep) { r in
                let hidden = s.mergedStats().map { $0.summary(activation: self.network.activation) }
                record = self.firstBatchRecord(x: s.xs[0], rows: rows, loss: r, hidden: hidden, indices: o.prefix(rows).map { Int($0) })
            }
            s.order = nil
        }
        s.set = nil
        return record!
    }

    /// `indices`: the batch's samples (`order`'s first `rows` entries).
    private func firstBatchRecord(x: UnsafePointer<Float>, rows: Int, loss res: LossResult, hidden: [LayerStats],
                                  indices: [Int]) -> FirstBatchRecord {
        let outs = Double(rows * network.sizes.last!)
        var lo = Float.infinity, hi = -Float.infinity
        for i in 0..<(rows * network.sizes[0]) { lo = min(lo, x[i]); hi = max(hi, x[i]) }
        let norms = (0..<network.layerCount).map { l -> Double in
            var s: Double = 0
            for g in network.weightGrads(l) { s += Double(g) * Double(g) }
            return s.squareRoot()
        }
        return FirstBatchRecord(loss: res.lossSum / Double(rows), saturatedFraction: Double(res.low + res.high) / outs,
                                lowFraction: Double(res.low) / outs, highFraction: Double(res.high) / outs,
                                accuracy: Double(res.correct) / Double(rows), hidden: hidden, gradNorms: norms,
                                inputMin: Double(lo), inputMax: Double(hi), batchSize: rows, sampleIndices: indices)
    }

    /// Mean loss and accuracy over a whole set, in forward passes of `evalBatch` rows.
    public func evaluate(_ set: SampleSet, epsilon: Float) -> (loss: Double, accuracy: Double) {
        guard set.count > 0, accepts(set) else { return (.nan, .nan) }
        let ws = workspace(rows: min(evalBatch, set.count))
        let p = path(for: set)
        var lossSum: Double = 0, correct = 0, start = 0
        while start < set.count {
            let rows = min(ws.capacity, set.count - start)
            ws.load(set, order: nil, start: start, rows: rows, path: p)
            network.forward(ws, rows: rows)
            let r = network.softmaxLoss(ws, rows: rows, epsilon: epsilon)
            lossSum += r.lossSum; correct += r.correct
            start += rows
        }
        return (lossSum / Double(set.count), Double(correct) / Double(set.count))
    }

    /// Trains one epoch on `threads` threads (one without hidden layers). `shouldStop` is polled between
    /// batches (^C); `progress` is called after each batch. Returns the epoch's record (also appended to
    /// `epochs`), or nil if training is stopped by an earlier NaN or the samples do not fit the network (`accepts`).
    @discardableResult
    public func trainEpoch(_ train: SampleSet, test: SampleSet?, batch: Int, epsilon: Float,
                           shouldStop: () -> Bool = { false },
                           progress: ((BatchProgress) -> Void)? = nil) -> EpochRecord? {
        guard nonFinite == nil, train.count > 0, accepts(train) else { return nil }
        optimizer.epoch = epochs.count   // the learning-rate schedule's epoch (0-based)
        BLAS.setFlushToZero(true)
        defer { BLAS.setFlushToZero(false) }
        let batch = max(1, min(batch, train.count))
        let epochNumber = epochs.count + 1
        let n = train.count
        shuffleForNextEpoch(n)
        let s = prepareStep(rows: batch, set: train, epsilon: epsilon, profiling: profilePhases)
        let batches = (n + batch - 1) / batch
        let layers = network.layerCount
        var tally = EpochTally(layers: layers, epoch: epochNumber, batches: batches, batch: batch)
        var badBatch: (start: Int, rows: Int, b: Int)? = nil
        order.withUnsafeBufferPointer { ob in
            s.order = ob.baseAddress
            s.beginEpoch(threads: threads)
            for b in 0..<batches {
                if b > 0 && shouldStop() { break }
                let start = b * batch, rows = min(batch, n - start)
                let measure = b % measureEvery == 0 || b == batches - 1
                let first = epochNumber == 1 && b == 0 && firstBatch == nil
                let res = s.runStep(start: start, rows: rows, measure: measure, gradsReady: first ? { r in
                    let hidden = s.mergedStats().map { $0.summary(activation: self.network.activation) }
                    self.firstBatch = self.firstBatchRecord(x: s.xs[0], rows: rows, loss: r, hidden: hidden,
                                                            indices: ob.prefix(rows).map { Int($0) })
                } : nil)
                if !res.lossSum.isFinite { badBatch = (start, rows, b); break }
                if measure { tally.addMeasures(s.mergedMeasures()) }
                tally.add(res, rows: rows, progress: progress)
            }
            s.endEpoch()
            s.order = nil
            if let bad = badBatch {
                // Locate the NaN/Inf with the plain forward pass on the same batch (no update happened).
                let ws = workspace(rows: batch)
                ws.load(train, order: ob.baseAddress, start: bad.start, rows: bad.rows)
                network.forward(ws, rows: bad.rows)
                nonFinite = locateNonFinite(ws, rows: bad.rows, epoch: epochNumber, batch: bad.b + 1)
            }
        }
        s.set = nil
        tally.stop()
        lastBarrierWait = (s.waitSeconds[0], s.waitSeconds[8])
        lastPhaseSeconds = (0..<s.threads).map { t in TrainingStep.Phase.allCases.map { s.phaseSeconds[t * 16 + $0.rawValue] } }
        stats = s.mergedStats()
        for i in stats.indices { stats[i].samples = tally.seen }
        return finishEpoch(tally, test: test, epsilon: epsilon)
    }

    /// Visits the samples in a fresh permutation each epoch (the generator advances once per epoch).
    private func shuffleForNextEpoch(_ n: Int) {
        if order.count != n { order = (0..<Int32(n)).map { $0 } } else { for i in 0..<n { order[i] = Int32(i) } }
        shuffleRNG.shuffle(&order)
    }

    /// Evaluates the test set after a complete epoch and appends the epoch's record.
    private func finishEpoch(_ tally: EpochTally, test: SampleSet?, epsilon: Float) -> EpochRecord? {
        var tally = tally
        tally.stop()
        guard tally.done > 0 || nonFinite != nil else { return nil }
        var testLoss: Double?, testAcc: Double?
        if tally.done == tally.batches, let test, test.count > 0 {
            let e = evaluate(test, epsilon: epsilon)
            testLoss = e.loss; testAcc = e.accuracy
        }
        let m = Double(max(tally.measured, 1))
        let seen = tally.seen, seconds = tally.seconds
        let rec = EpochRecord(epoch: tally.epoch,
                              trainLoss: seen > 0 ? tally.lossSum / Double(seen) : .nan,
                              trainAccuracy: seen > 0 ? Double(tally.correct) / Double(seen) : .nan,
                              testLoss: testLoss, testAccuracy: testAcc,
                              seconds: seconds, samplesPerSecond: seconds > 0 ? Double(seen) / seconds : 0,
                              hidden: hiddenSummaries(),
                              layers: tally.gradSum.indices.map { LayerGradRecord(gradNorm: tally.gradSum[$0] / m, updateRatio: tally.ratioSum[$0] / m) },
                              batches: tally.done, totalBatches: tally.batches)
        epochs.append(rec)
        return rec
    }

    /// Finds the first place a NaN/Inf shows: the weights (a previous update or backward pass), the input,
    /// or a layer's forward output.
    private func locateNonFinite(_ ws: Workspace, rows: Int, epoch: Int, batch: Int) -> NonFiniteEvent {
        func bad(_ p: UnsafePointer<Float>, _ n: Int) -> Bool {
            for i in 0..<n where !p[i].isFinite { return true }
            return false
        }
        let L = network.layerCount
        func name(_ l: Int) -> String { l == L - 1 ? "output layer" : "hidden layer \(l + 1)" }
        for l in 0..<L {
            let w = network.weights(l), b = network.bias(l)
            if bad(UnsafePointer(w.baseAddress!), w.count) || bad(UnsafePointer(b.baseAddress!), b.count) {
                let g = network.weightGrads(l)
                let stage = bad(UnsafePointer(g.baseAddress!), g.count) ? "backward" : "update"
                return NonFiniteEvent(epoch: epoch, batch: max(batch - 1, 1), stage: stage, layer: "weights of \(name(l))")
            }
        }
        if bad(ws.x, rows * network.sizes[0]) {
            return NonFiniteEvent(epoch: epoch, batch: batch, stage: "forward", layer: "input")
        }
        for l in 0..<(L - 1) where bad(ws.acts[l], rows * network.sizes[l + 1]) {
            return NonFiniteEvent(epoch: epoch, batch: batch, stage: "forward", layer: name(l))
        }
        return NonFiniteEvent(epoch: epoch, batch: batch, stage: "forward", layer: "output layer (softmax/loss)")
    }
}

/// What one epoch adds up as it goes: losses, accuracy, measured gradient and update sizes, timing.
struct EpochTally {
    let epoch: Int, batches: Int, batch: Int
    var lossSum: Double = 0, correct = 0, seen = 0, done = 0
    var gradSum: [Double], ratioSum: [Double]
    var measured = 0
    let t0 = monotonicSeconds()
    var lastReport: Double
    /// Training time, fixed by `stop()` (before the test set is evaluated).
    var seconds: Double = 0
    private var stopped = false

    init(layers: Int, epoch: Int, batches: Int, batch: Int) {
        self.epoch = epoch; self.batches = batches; self.batch = batch
        gradSum = Array(repeating: 0, count: layers); ratioSum = Array(repeating: 0, count: layers)
        lastReport = t0
    }

    /// One measured step: per layer ‖g‖², ‖Δw‖², ‖w‖².
    mutating func addMeasures(_ m: [(Double, Double, Double)]) {
        for (l, (g2, u2, w2)) in m.enumerated() {
            gradSum[l] += g2.squareRoot()
            let w = w2.squareRoot()
            ratioSum[l] += w > 0 ? u2.squareRoot() / w : .infinity
        }
        measured += 1
    }

    /// One finished batch; reports progress at most 20 times a second (and on the last batch).
    mutating func add(_ res: LossResult, rows: Int, progress: ((BatchProgress) -> Void)?) {
        lossSum += res.lossSum; correct += res.correct; seen += rows; done += 1
        guard let progress else { return }
        let now = monotonicSeconds()
        if now - lastReport > 0.05 || done == batches {
            lastReport = now
            progress(BatchProgress(epoch: epoch, batch: done, batches: batches, loss: lossSum / Double(seen),
                                   samplesPerSecond: Double(seen) / (now - t0), batchSize: batch))
        }
    }

    mutating func stop() {
        if !stopped { seconds = monotonicSeconds() - t0; stopped = true }
    }
}
