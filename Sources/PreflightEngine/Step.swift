import Foundation

/// Input rows of layer 0's weight gradient a partition makes (and applies) at a time when it owns `columns`
/// of the layer's `inputs` × n weight columns: about 25 KB of gradient, small enough for OpenBLAS's
/// small-matrix kernels and for the chunk to stay in cache until its update.
public func inputGradientChunkRows(inputs: Int, columns: Int) -> Int {
    min(inputs, max(8, (98 * 64) / max(columns, 1)))
}

/// The training step, the only one there is, for one or two threads.
///
/// Every hidden layer's units are split into `partitions` (2) fixed partitions, whatever the thread count.
/// Partition p owns: for layer 0 the weight columns of its units of hidden layer 0; for every later layer
/// the weight *rows* fed by its units of the layer below (and, for a hidden layer, the bias of its own
/// units there); the output bias belongs to partition 0. A step is a sequence of phases separated by
/// barriers; each phase is written as work per partition. Two threads run one partition each; one thread
/// runs partition 0 then partition 1 in every phase. Each partition's products, sums and updates are the
/// same floating-point operations in the same order either way, and the values that cross partitions
/// (the partial sums of each later layer's pre-activations, the hidden deltas, the statistics and step
/// measures) are combined in partition order — so every number is bit-identical for one and two threads.
///
/// The partitions exchange only activations, partial sums and deltas, never parameters or gradients, so
/// on two threads each thread's optimiser update touches memory only it reads. Memory a partition works on
/// is kept contiguous and apart from the other's (two cores writing alternate pieces of one array run many
/// times slower than on separate arrays): each partition keeps its own copy of its columns of layer 0's
/// weights and optimiser state for the length of an epoch (`beginEpoch` copies them out of the network and
/// optimiser, `endEpoch` back), its own hidden outputs and deltas; each thread its own copy of the batch.
final class TrainingStep: @unchecked Sendable {
    /// Partitions of every hidden layer: fixed, so that the thread count never changes the arithmetic.
    static let partitions = 2
    let net: Network
    let capacity: Int
    let L: Int
    let hiddenLayers: Int
    /// parts[h][p]: the units (columns) of hidden layer h in partition p.
    let parts: [[Range<Int>]]

    // Per thread (index t): copies each thread makes for itself (the same values on both threads).
    /// The input batch and labels.
    let xs: [UnsafeMutablePointer<Float>]
    let labels: [UnsafeMutablePointer<Int32>]
    /// The output probabilities and output delta, capacity × classes.
    let outs: [UnsafeMutablePointer<Float>]
    let outDeltas: [UnsafeMutablePointer<Float>]
    /// The output bias, copied before the exchange barrier (partition 0 may update it once both have passed).
    let outBias: [UnsafeMutablePointer<Float>]
    /// A hidden layer's whole delta gathered into rows (the products read full rows), capacity × max n_h.
    let deltaRows: [UnsafeMutablePointer<Float>]
    /// The row-touching pass's sinks, a cache line apart.
    let sinks = UnsafeMutablePointer<UInt8>.allocate(capacity: 128)
    /// How layer 0's products are computed (set by the trainer from the training set's density; dense
    /// without hidden layers). On the sparse path each thread lists its batch's non-zero inputs instead of
    /// converting every input (`sparseBatches`, made when first needed).
    var path: InputPath = .dense
    private(set) lazy var sparseBatches: [SparseBatch] = (0..<2).map { _ in SparseBatch(capacity: capacity, features: net.sizes[0]) }

    // Per partition (index p).
    /// acts[h][p]: partition p's columns of hidden layer h's outputs, capacity × parts[h][p].count, contiguous.
    let acts: [[UnsafeMutablePointer<Float>]]
    /// Dropout (see `dropout`): masks[h][p] holds each of partition p's outputs of hidden layer h its scale in
    /// this step (0 for a dropped unit, 1/(1 − rate) for a kept one); dropped[h][p] the outputs times it, which
    /// the layer above reads. Allocated on the first step with dropout on.
    private var masks: [[UnsafeMutablePointer<Float>]] = []
    private var dropped: [[UnsafeMutablePointer<Float>]] = []
    /// Batch normalisation (when the network has it; see `Network.batchNorm` and `normalizeForward`): xhat[h][p]
    /// the step's normalised pre-activations of partition p's units of hidden layer h, capacity × their count;
    /// normStats[h][p] their batch mean, biased variance and 1/√(σ² + ε), then the backward pass's per-unit
    /// coefficients, 6 × their count.
    private var xhat: [[UnsafeMutablePointer<Float>]] = []
    private var normStats: [[UnsafeMutablePointer<Float>]] = []
    /// delta0[p]: partition p's columns of hidden layer 0's delta, contiguous.
    let delta0: [UnsafeMutablePointer<Float>]
    /// deltas[h], h ≥ 1: hidden layer h's delta, capacity × n_h, as one block per partition (`block`):
    /// partition p's columns, capacity × their count.
    let deltas: [UnsafeMutablePointer<Float>]
    /// partials[l][p]: partition p's partial pre-activation of weight layer l ≥ 1 (the sum over its input
    /// units), capacity × n_{l+1}: for a hidden layer one block per partition of the output columns
    /// (`block`), for the output layer one row-major matrix.
    let partials: [[UnsafeMutablePointer<Float>]]
    /// Partition p's columns of layer 0's weights and of the optimiser's two state arrays, n_0 × parts[0][p].count,
    /// during an epoch, and a chunk of their gradient.
    let w0: [UnsafeMutablePointer<Float>]
    let m0: [UnsafeMutablePointer<Float>]
    let v0: [UnsafeMutablePointer<Float>]
    let g0: [UnsafeMutablePointer<Float>]
    /// Input rows of layer 0's gradient made (and applied) at a time.
    let chunkRows: [Int]
    /// Hidden statistics (partition p's units of every hidden layer).
    let stats: [UnsafeMutablePointer<StatsAccumulator>]
    /// Step measures (one per weight layer) of the parameters partition p updates.
    let measures: [UnsafeMutablePointer<StepMeasure>]
    /// The parameter ranges partition p updates in the network's own arrays. (Layer 0's weights, when there
    /// are hidden layers, are updated in the partition's copy instead.)
    let owned: [[(layer: Int, range: Range<Int>, isWeight: Bool)]]

    /// Offset of partition p's block in hidden layer h's delta or partial sums.
    @inline(__always)
    private func block(_ h: Int, _ p: Int) -> Int { p == 0 ? 0 : capacity * parts[h][0].count }

    /// Threads running the current epoch (1 or 2); set by `beginEpoch`.
    private(set) var threads = 1
    /// The partitions thread t runs.
    @inline(__always)
    private func mine(_ t: Int) -> Range<Int> { threads == 1 ? 0..<Self.partitions : t..<(t + 1) }

    let barrier = ThreadBarrier(parties: 2)
    /// Seconds each thread spent waiting at the step's barriers (since the last `resetStats`): the
    /// two-thread split's imbalance, reported by scripts/bench.
    let waitSeconds: UnsafeMutablePointer<Double> = {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: 16); p.initialize(repeating: 0, count: 16); return p
    }()

    /// A barrier inside the step, timed for thread `t`; nothing on one thread.
    @inline(__always)
    func sync(_ t: Int) {
        guard threads > 1 else { return }
        let t0 = monotonicSeconds()
        barrier.wait()
        let t1 = monotonicSeconds()
        waitSeconds[t * 8] += t1 - t0
        if profiling { phaseMark[t * 8] = t1 }
    }

    /// Phase timers for scripts/bench --profile (off otherwise): seconds per thread and phase since
    /// `resetStats`, 16 slots a thread (see `Phase`).
    public enum Phase: Int, CaseIterable { case convert, forwardGemm, forwardElementwise, softmax, backwardGemm, backwardElementwise, inputLayerGradient, optimizer }
    var profiling = false
    let phaseSeconds: UnsafeMutablePointer<Double> = {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: 32); p.initialize(repeating: 0, count: 32); return p
    }()
    private let phaseMark: UnsafeMutablePointer<Double> = {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: 16); p.initialize(repeating: 0, count: 16); return p
    }()
    /// Charges the time since the last mark (or barrier) to `phase` for thread `t`.
    @inline(__always)
    private func lap(_ t: Int, _ phase: Phase) {
        guard profiling else { return }
        let now = monotonicSeconds()
        phaseSeconds[t * 16 + phase.rawValue] += now - phaseMark[t * 8]
        phaseMark[t * 8] = now
    }

    // The job the main thread publishes before each step's start barrier.
    /// `rate`: the optimiser's rate for this step (`stepRate` of its number), fixed before the threads start
    /// it, since the main thread may begin the next step while the worker still updates.
    /// `clip`: the global gradient-norm limit of this step, or nil.
    struct Job {
        var start = 0; var rows = 0; var measure = false; var stop = false; var keepGrads = false; var update = true; var rate: Float = 0
        var clip: Float? = nil
        /// Dropout in this step: its rate and the step's number in the mask generator, or nil (off).
        var drop: (rate: Float, step: UInt64)? = nil
    }
    var job = Job()
    var set: SampleSet?
    var order: UnsafePointer<Int32>?
    var epsilon: Float = 1e-7
    var optimizer: Optimizer?
    /// Global gradient-norm clipping (nil: off): before any update, when the norm over every layer's weight
    /// and bias gradients exceeds it, all gradients are scaled by clipNorm / norm.
    var clipNorm: Float?
    /// Inverted dropout after every hidden activation in training (nil or 0: off): each output is kept with
    /// probability 1 − rate and then scaled by 1/(1 − rate). The mask of unit u in row r of hidden layer h in
    /// step s is a hash of (dropoutSeed, s, h, r, u) (`dropoutKeep`), so each partition draws its own units'
    /// masks and the thread count does not change them.
    var dropout: Float?
    var dropoutSeed: UInt64 = 0
    /// Each partition's sum of squared gradients in the current step (for clipping), a cache line apart: slot
    /// 8p its total, slot 8p + 1 that of its layer 0 weights, added chunk by chunk as they are made.
    let gradSquares: UnsafeMutablePointer<Double> = {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: 16); p.initialize(repeating: 0, count: 16); return p
    }()
    /// With clipping, partition p's whole gradient of layer 0's weights (n_0 × its columns, laid out as w0[p]),
    /// kept until the global norm is known. Allocated on the first clipped step.
    private var clipGrads: [UnsafeMutablePointer<Float>] = []
    var loss = LossResult()
    private var worker: Thread?
    private let wake = DispatchSemaphore(value: 0)
    private let parked = DispatchSemaphore(value: 0)

    init(net: Network, capacity: Int) {
        self.net = net; self.capacity = capacity
        L = net.layerCount
        let sizes = net.sizes
        func buf(_ n: Int) -> UnsafeMutablePointer<Float> { alignedFloats(n) }
        // Partition 0 takes a multiple of 16 units (whole SIMD vectors and cache lines) when the layer is wide.
        parts = (1..<(sizes.count - 1)).map { h in
            let n = sizes[h]
            let c = n >= 32 && n % 16 == 0 ? (n / 2) / 16 * 16 : n / 2
            return [0..<c, c..<n]
        }
        let hiddenSizes = Array(sizes.dropFirst().dropLast())
        hiddenLayers = hiddenSizes.count
        let P = Self.partitions
        xs = (0..<2).map { _ in buf(capacity * sizes[0]) }
        labels = (0..<2).map { _ in let p = UnsafeMutablePointer<Int32>.allocate(capacity: capacity); p.initialize(repeating: 0, count: capacity); return p }
        outs = (0..<2).map { _ in buf(capacity * sizes.last!) }
        outDeltas = (0..<2).map { _ in buf(capacity * sizes.last!) }
        outBias = (0..<2).map { _ in buf(sizes.last!) }
        deltaRows = (0..<2).map { _ in buf(capacity * (hiddenSizes.max() ?? 1)) }
        acts = parts.map { hp in hp.map { buf(capacity * $0.count) } }
        delta0 = hiddenLayers > 0 ? parts[0].map { buf(capacity * $0.count) } : []
        deltas = hiddenSizes.enumerated().map { h, n in h == 0 ? buf(1) : buf(capacity * n) }
        partials = (0..<net.layerCount).map { l in l == 0 ? [] : (0..<P).map { _ in buf(capacity * sizes[l + 1]) } }
        let cols0 = hiddenLayers > 0 ? parts[0].map { $0.count } : [Int](repeating: 0, count: P)
        w0 = cols0.map { buf(sizes[0] * $0) }
        m0 = cols0.map { buf(sizes[0] * $0) }
        v0 = cols0.map { buf(sizes[0] * $0) }
        let chunks = cols0.map { inputGradientChunkRows(inputs: sizes[0], columns: $0) }
        chunkRows = chunks
        g0 = (0..<P).map { buf(chunks[$0] * cols0[$0]) }
        stats = (0..<P).map { _ in
            let p = UnsafeMutablePointer<StatsAccumulator>.allocate(capacity: max(hiddenSizes.count, 1))
            for (i, n) in hiddenSizes.enumerated() { (p + i).initialize(to: StatsAccumulator(units: n)) }
            return p
        }
        measures = (0..<P).map { _ in
            let p = UnsafeMutablePointer<StepMeasure>.allocate(capacity: net.layerCount)
            p.initialize(repeating: StepMeasure(), count: net.layerCount)
            return p
        }
        var own: [[(Int, Range<Int>, Bool)]] = Array(repeating: [], count: P)
        let r = net.ranges
        for p in 0..<P {
            // Layer 0: the bias of p's units (its weights are in p's own copy); with no hidden layer,
            // partition 0 updates the whole layer.
            let c0 = sizes.count > 2 ? parts[0][p] : (p == 0 ? 0..<sizes[1] : 0..<0)
            if !c0.isEmpty {
                if sizes.count == 2 { own[p].append((0, r[0].weights, true)) }
                own[p].append((0, (r[0].bias.lowerBound + c0.lowerBound)..<(r[0].bias.lowerBound + c0.upperBound), false))
            }
            for l in 1..<max(net.layerCount, 1) {
                let rowsOwned = parts[l - 1][p]
                let n = sizes[l + 1]
                if !rowsOwned.isEmpty {
                    own[p].append((l, (r[l].weights.lowerBound + rowsOwned.lowerBound * n)..<(r[l].weights.lowerBound + rowsOwned.upperBound * n), true))
                }
                if l < net.layerCount - 1 {
                    let cols = parts[l][p]
                    if !cols.isEmpty { own[p].append((l, (r[l].bias.lowerBound + cols.lowerBound)..<(r[l].bias.lowerBound + cols.upperBound), false)) }
                } else if p == 0 {
                    own[p].append((l, r[l].bias, false))
                }
            }
        }
        // Batch normalisation: partition p updates γ and β of its units of every hidden layer.
        for p in 0..<P {
            for (h, nr) in net.normRanges.enumerated() where !parts[h][p].isEmpty {
                let c = parts[h][p]
                own[p].append((h, (nr.gamma.lowerBound + c.lowerBound)..<(nr.gamma.lowerBound + c.upperBound), false))
                own[p].append((h, (nr.beta.lowerBound + c.lowerBound)..<(nr.beta.lowerBound + c.upperBound), false))
            }
        }
        owned = own.map { $0.map { (layer: $0.0, range: $0.1, isWeight: $0.2) } }
        if net.batchNorm {
            xhat = parts.map { hp in hp.map { alignedFloats(capacity * $0.count) } }
            normStats = parts.map { hp in hp.map { alignedFloats(6 * $0.count) } }
        }
    }

    deinit {
        stopWorker()
        (masks.flatMap { $0 } + dropped.flatMap { $0 }).forEach { $0.deallocate() }
        (xhat.flatMap { $0 } + normStats.flatMap { $0 }).forEach { $0.deallocate() }
        (xs + outs + outDeltas + outBias + deltaRows + acts.flatMap { $0 } + delta0 + deltas + partials.flatMap { $0 } + w0 + m0 + v0 + g0).forEach { $0.deallocate() }
        labels.forEach { $0.deallocate() }
        for p in stats { p.deinitialize(count: hiddenLayers); p.deallocate() }
        measures.forEach { $0.deallocate() }
        waitSeconds.deallocate(); gradSquares.deallocate()
        clipGrads.forEach { $0.deallocate() }
        phaseSeconds.deallocate(); phaseMark.deallocate()
        sinks.deallocate()
    }

    /// Copies each partition's columns of layer 0's weights (and, with `state`, the optimiser's state) out of
    /// the network and the optimiser (`toCopies`), or back.
    private func exchangeInputLayer(toCopies: Bool, state: Bool) {
        guard hiddenLayers > 0 else { return }
        let n0 = net.sizes[0], n1 = net.sizes[1], base = net.ranges[0].weights.lowerBound
        for p in 0..<Self.partitions {
            let c = parts[0][p], ct = c.count
            guard ct > 0 else { continue }
            var pairs = [(net.params, w0[p])]
            if state, let opt = optimizer { pairs += [(opt.m, m0[p]), (opt.v, v0[p])] }
            for (shared, mine) in pairs {
                for i in 0..<n0 {
                    let s = shared + base + i * n1 + c.lowerBound, q = mine + i * ct
                    if toCopies { q.update(from: s, count: ct) } else { s.update(from: q, count: ct) }
                }
            }
        }
    }

    /// Starts an epoch on `threads` threads (2 only with hidden layers): takes the partitions' copies of
    /// layer 0, then, on two threads, starts (or resumes) the worker thread.
    func beginEpoch(threads: Int) {
        self.threads = hiddenLayers > 0 && threads >= 2 ? 2 : 1
        exchangeInputLayer(toCopies: true, state: true)
        guard self.threads == 2 else { return }
        if worker == nil {
            let t = Thread { [unowned self] in self.workerLoop() }
            t.stackSize = 1 << 22
            worker = t
            t.start()
        } else {
            wake.signal()
        }
    }

    /// Ends an epoch: parks the worker until the next one and puts layer 0 back into the network and optimiser.
    func endEpoch() {
        if threads == 2 {
            job = Job(); job.stop = true
            barrier.wait()
            parked.wait()
        }
        exchangeInputLayer(toCopies: false, state: true)
    }

    private var exiting = false
    func stopWorker() {
        guard worker != nil else { return }
        exiting = true
        wake.signal()
        worker = nil
    }

    private func workerLoop() {
        leaveSignalsToOtherThreads()
        BLAS.setThreads(1)
        BLAS.setFlushToZero(true)
        while true {
            sync(1)
            if job.stop {
                parked.signal()
                wake.wait()
                if exiting { return }
                continue
            }
            step(thread: 1)
        }
    }

    func resetStats() {
        for p in 0..<Self.partitions { for i in 0..<hiddenLayers { stats[p][i].reset() } }
        waitSeconds[0] = 0; waitSeconds[8] = 0
        for i in 0..<32 { phaseSeconds[i] = 0 }
    }

    /// Merges the partitions' statistics (disjoint units), in partition order.
    func mergedStats() -> [StatsAccumulator] {
        var out = Array(UnsafeBufferPointer(start: stats[0], count: hiddenLayers))
        for p in 1..<Self.partitions {
            for h in out.indices {
                let b = stats[p][h]
                out[h].sum += b.sum; out[h].sumSquares += b.sumSquares; out[h].max = max(out[h].max, b.max)
                out[h].zeros += b.zeros; out[h].aboveOne += b.aboveOne; out[h].saturated += b.saturated
                out[h].values += b.values; out[h].samples = max(out[h].samples, b.samples)
                for u in out[h].unitMax.indices { out[h].unitMax[u] = max(out[h].unitMax[u], b.unitMax[u]) }
            }
        }
        return out
    }

    /// The last measured step's ‖g‖², ‖Δw‖², ‖w‖² of each weight layer, summed over the partitions in order.
    func mergedMeasures() -> [(Double, Double, Double)] {
        (0..<L).map { l in
            var g = 0.0, u = 0.0, w = 0.0
            for p in 0..<Self.partitions { g += measures[p][l].gradSquared; u += measures[p][l].updateSquared; w += measures[p][l].weightSquared }
            return (g, u, w)
        }
    }

    /// Runs one training step on the main thread as thread 0 (on two threads the worker runs thread 1).
    /// Returns the loss result; if it is not finite nothing was updated.
    /// With `gradsReady`, the main thread calls it once every gradient of the step is computed and before
    /// any parameter is updated (the first-batch record); the network's gradient arrays are complete then.
    func runStep(start: Int, rows: Int, measure: Bool, gradsReady: ((LossResult) -> Void)? = nil) -> LossResult {
        let opt = optimizer!
        opt.beginStep()
        job = Job(start: start, rows: rows, measure: measure, stop: false, keepGrads: gradsReady != nil, update: true,
                  rate: opt.stepRate(opt.steps), clip: clipNorm)
        // The step that makes the first-batch record runs without dropout, so that the record (and the probe,
        // which never drops) shows the network as initialised.
        if let r = dropout, r > 0, gradsReady == nil {
            ensureDropoutBuffers()
            job.drop = (r, UInt64(opt.steps))
        }
        if clipNorm != nil && clipGrads.isEmpty && hiddenLayers > 0 {
            clipGrads = parts[0].map { alignedFloats(net.sizes[0] * $0.count) }
        }
        self.gradsReady = gradsReady
        sync(0)
        step(thread: 0)
        self.gradsReady = nil
        return loss
    }
    private var gradsReady: ((LossResult) -> Void)?

    /// The same step's forward and backward passes on one thread with no update (`check` before training):
    /// `record` sees the loss with the network's gradient arrays complete. The weights are the network's.
    /// `dropStep` (tests: gradient checks with a fixed mask) applies dropout with the mask of that step.
    func probe(start: Int, rows: Int, dropStep: UInt64? = nil, record: @escaping (LossResult) -> Void) {
        threads = 1
        exchangeInputLayer(toCopies: true, state: false)
        job = Job(start: start, rows: rows, measure: false, stop: false, keepGrads: true, update: false)
        if let s = dropStep, let r = dropout, r > 0 { ensureDropoutBuffers(); job.drop = (r, s) }
        gradsReady = record
        step(thread: 0)
        gradsReady = nil
    }

    private func ensureDropoutBuffers() {
        guard masks.isEmpty else { return }
        masks = parts.map { hp in hp.map { alignedFloats(capacity * $0.count) } }
        dropped = parts.map { hp in hp.map { alignedFloats(capacity * $0.count) } }
    }

    /// Draws partition p's dropout mask of hidden layer h for `rows` rows and applies it: masks[h][p] gets each
    /// output's scale, dropped[h][p] the scaled outputs.
    private func applyDropout(_ h: Int, _ p: Int, rows: Int, rate: Float, step: UInt64) {
        let c = parts[h][p], ct = c.count
        guard ct > 0 else { return }
        let keepScale = 1 / (1 - rate)
        let threshold = DropoutMask.threshold(rate)
        let a = acts[h][p], m = masks[h][p], o = dropped[h][p]
        let stepKey = DropoutMask.stepKey(seed: dropoutSeed, step: step)
        for r in 0..<rows {
            let rowKey = DropoutMask.rowKey(stepKey, layer: h, row: r)
            let base = r * ct
            for j in 0..<ct {
                let kept = DropoutMask.draw(rowKey, unit: c.lowerBound + j) >= threshold
                let s: Float = kept ? keepScale : 0
                m[base + j] = s
                o[base + j] = a[base + j] * s
            }
        }
    }

    /// Batch normalisation of partition p's units of hidden layer h in a training step (or the probe). On entry
    /// `acts[h][p]` holds their pre-activations without the dense bias. Adds the bias (z = x·W + b), then per unit
    /// the batch mean μ and biased variance σ² over the `rows` rows (two passes), keeps x̂ = (z − μ)/√(σ² + ε) for
    /// the backward pass and μ, σ² for the running statistics, and leaves γ·x̂ in `acts[h][p]`. Returns β of p's
    /// units: the activation pass adds it as its bias, so the layer's output is act(γ·x̂ + β). Only p's units are
    /// read and written, so the partitions need no exchange and the thread count changes nothing.
    private func normalizeForward(_ h: Int, _ p: Int, rows: Int) -> UnsafePointer<Float> {
        let c = parts[h][p], ct = c.count
        let z = acts[h][p], xh = xhat[h][p], st = normStats[h][p]
        let bias = net.params + net.ranges[h].bias.lowerBound + c.lowerBound
        let gamma = net.params + net.normRanges[h].gamma.lowerBound + c.lowerBound
        let mean = st, variance = st + ct, inv = st + 2 * ct
        for j in 0..<ct { mean[j] = 0; variance[j] = 0 }
        for r in 0..<rows {
            let row = z + r * ct
            for j in 0..<ct { let v = row[j] + bias[j]; row[j] = v; mean[j] += v }
        }
        let n = Float(rows)
        for j in 0..<ct { mean[j] /= n }
        for r in 0..<rows {
            let row = z + r * ct
            for j in 0..<ct { let d = row[j] - mean[j]; variance[j] += d * d }
        }
        for j in 0..<ct { variance[j] /= n; inv[j] = 1 / (variance[j] + Network.normEpsilon).squareRoot() }
        for r in 0..<rows {
            let row = z + r * ct, xr = xh + r * ct
            for j in 0..<ct { let x = (row[j] - mean[j]) * inv[j]; xr[j] = x; row[j] = gamma[j] * x }
        }
        return UnsafePointer(net.params + net.normRanges[h].beta.lowerBound + c.lowerBound)
    }

    /// The backward pass through partition p's batch normalisation of hidden layer h. On entry `d` holds ∂L/∂y of
    /// p's units (y = γ·x̂ + β, the activation's input; rows × their count). Writes ∂L/∂β = Σ_r d and
    /// ∂L/∂γ = Σ_r d·x̂ to the gradients and leaves ∂L/∂z in `d`: with the batch statistics depending on every row,
    /// ∂L/∂z = γ/√(σ² + ε) · (d − mean_r(d) − x̂·mean_r(d·x̂)).
    private func normalizeBackward(_ h: Int, _ p: Int, rows: Int, delta d: UnsafeMutablePointer<Float>) {
        let c = parts[h][p], ct = c.count
        guard ct > 0 else { return }
        let xh = xhat[h][p], inv = normStats[h][p] + 2 * ct
        let gamma = net.params + net.normRanges[h].gamma.lowerBound + c.lowerBound
        let dGamma = net.grads + net.normRanges[h].gamma.lowerBound + c.lowerBound
        let dBeta = net.grads + net.normRanges[h].beta.lowerBound + c.lowerBound
        for j in 0..<ct { dGamma[j] = 0; dBeta[j] = 0 }
        for r in 0..<rows {
            let dr = d + r * ct, xr = xh + r * ct
            for j in 0..<ct { dBeta[j] += dr[j]; dGamma[j] += dr[j] * xr[j] }
        }
        let n = Float(rows)
        // Per unit, once: γ/σ, mean(d) and mean(d·x̂).
        let scale = inv + ct, meanD = inv + 2 * ct, meanDX = inv + 3 * ct
        for j in 0..<ct { scale[j] = gamma[j] * inv[j]; meanD[j] = dBeta[j] / n; meanDX[j] = dGamma[j] / n }
        for r in 0..<rows {
            let dr = d + r * ct, xr = xh + r * ct
            for j in 0..<ct { dr[j] = scale[j] * (dr[j] - meanD[j] - xr[j] * meanDX[j]) }
        }
    }

    /// After a training step's update: partition p's units' running mean and variance move towards the step's
    /// batch statistics, running = momentum·running + (1 − momentum)·batch (Keras' form, the biased variance).
    private func updateRunningStatistics(_ p: Int) {
        let mo = Network.normMomentum, keep = 1 - Network.normMomentum
        for h in 0..<hiddenLayers {
            let c = parts[h][p], ct = c.count
            guard ct > 0 else { continue }
            let st = normStats[h][p]
            let rm = net.runningMean[h] + c.lowerBound, rv = net.runningVariance[h] + c.lowerBound
            for j in 0..<ct {
                rm[j] = rm[j] * mo + st[j] * keep
                rv[j] = rv[j] * mo + st[ct + j] * keep
            }
        }
    }

    /// The outputs of partition p's units of hidden layer h that the layer above reads in this step.
    @inline(__always)
    private func layerInput(_ h: Int, _ p: Int, _ job: Job) -> UnsafeMutablePointer<Float> {
        job.drop == nil ? acts[h][p] : dropped[h][p]
    }

    /// Σ g² over the gradients partition p updates in the network's own array (every one but layer 0's weights
    /// when there are hidden layers: those are in p's copy), range by range in a fixed order.
    private func ownedSquares(_ p: Int) -> Double {
        var acc = 0.0
        for o in owned[p] { acc += sumOfSquares(net.grads + o.range.lowerBound, count: o.range.count) }
        return acc
    }

    private func step(thread t: Int) {
        // Snapshot what the main thread published: it may publish the next step while this thread finishes.
        let job = self.job
        let mine = self.mine(t)
        let sizes = net.sizes
        let rows = job.rows
        let P = net.params, G = net.grads
        let R = net.ranges
        let x = xs[t]
        let set = self.set!
        if profiling { phaseMark[t * 8] = monotonicSeconds() }
        let hidden = L - 1
        let n0 = sizes[0]
        let bn = net.batchNorm
        // Each thread converts (or, on the sparse path, lists the non-zeros of) the whole batch into its own
        // buffers: no shared input lines. The first-batch record reads the converted inputs as well.
        let sparse: SparseBatch? = path == .sparse && hidden > 0 ? sparseBatches[t] : nil
        if let sparse {
            sparse.load(set, order: order!, start: job.start, rows: rows, y: labels[t], sink: sinks + 64 * t, byFeature: true)
            if job.keepGrads && t == 0 { set.copyRows(order: order!, start: job.start, rows: rows, x: x, y: labels[t], sink: sinks + 64 * t) }
        } else {
            set.copyRows(order: order!, start: job.start, rows: rows, x: x, y: labels[t], sink: sinks + 64 * t)
        }
        lap(t, .convert)
        // Forward, layer 0: each partition's columns of hidden layer 0, from its copy of their weights.
        if hidden > 0 {
            for p in mine {
                let c = parts[0][p], ct = c.count
                guard ct > 0 else { continue }
                if let sparse {
                    sparse.timesDense(w0[p], ldw: ct, columns: ct, out: acts[0][p], ldo: ct)
                } else {
                    BLAS.gemm(m: rows, n: ct, k: n0, a: x, lda: n0, b: w0[p], ldb: ct, c: acts[0][p], ldc: ct)
                }
                lap(t, .forwardGemm)
                net.biasActivate(acts[0][p], rows: rows, cols: ct, stride: ct, unit0: c.lowerBound,
                                 bias: bn ? normalizeForward(0, p, rows: rows) : UnsafePointer(P + R[0].bias.lowerBound + c.lowerBound), stats: stats[p])
                if let d = job.drop { applyDropout(0, p, rows: rows, rate: d.rate, step: d.step) }
                lap(t, .forwardElementwise)
            }
        }
        // Later layers: each partition's partial sums over its input units; after the exchange, partition 0's
        // plus partition 1's, then the bias and activation of each partition's columns.
        let outLogits = outs[t]
        if hidden == 0 {
            // No hidden layer: no partitions, one thread.
            BLAS.gemm(m: rows, n: sizes[1], k: n0, a: x, lda: n0, b: P + R[0].weights.lowerBound, ldb: sizes[1], c: outLogits, ldc: sizes[1])
            net.addBias(outLogits, rows: rows, cols: sizes[1], bias: P + R[0].bias.lowerBound)
        } else {
            for l in 1..<L {
                let nOut = sizes[l + 1]
                for p in mine {
                    let inPart = parts[l - 1][p]
                    let partial = partials[l][p]
                    if inPart.isEmpty {
                        partial.initialize(repeating: 0, count: rows * nOut)
                    } else if l < L - 1 {
                        // One block per partition of the output columns, so that each partition later reads
                        // blocks of its own and nothing next to what the other alone reads.
                        for s in 0..<Self.partitions {
                            let c = parts[l][s]
                            guard !c.isEmpty else { continue }
                            BLAS.gemm(m: rows, n: c.count, k: inPart.count, a: layerInput(l - 1, p, job), lda: inPart.count,
                                      b: P + R[l].weights.lowerBound + inPart.lowerBound * nOut + c.lowerBound, ldb: nOut,
                                      c: partial + block(l, s), ldc: c.count)
                        }
                    } else {
                        BLAS.gemm(m: rows, n: nOut, k: inPart.count, a: layerInput(l - 1, p, job), lda: inPart.count,
                                  b: P + R[l].weights.lowerBound + inPart.lowerBound * nOut, ldb: nOut, c: partial, ldc: nOut)
                    }
                }
                lap(t, .forwardGemm)
                if l == L - 1 {
                    let b = P + R[l].bias.lowerBound
                    for j in 0..<nOut { outBias[t][j] = b[j] }
                }
                sync(t)
                let p0 = partials[l][0], p1 = partials[l][1]
                if l < L - 1 {
                    for p in mine {
                        let c = parts[l][p], ct = c.count
                        guard ct > 0 else { continue }
                        let out = acts[l][p], a0 = p0 + block(l, p), a1 = p1 + block(l, p)
                        for i in 0..<(rows * ct) { out[i] = a0[i] + a1[i] }
                        net.biasActivate(out, rows: rows, cols: ct, stride: ct, unit0: c.lowerBound,
                                         bias: bn ? normalizeForward(l, p, rows: rows) : UnsafePointer(P + R[l].bias.lowerBound + c.lowerBound),
                                         stats: stats[p] + l)
                        if let d = job.drop { applyDropout(l, p, rows: rows, rate: d.rate, step: d.step) }
                    }
                } else {
                    let b = outBias[t]
                    for r in 0..<rows {
                        let o = r * nOut
                        for j in 0..<nOut { outLogits[o + j] = p0[o + j] + p1[o + j] + b[j] }
                    }
                }
                lap(t, .forwardElementwise)
            }
        }
        // Softmax, loss and output delta: on two threads both compute the same numbers on their own copies.
        let res = softmaxCrossEntropy(outLogits, labels: labels[t], delta: outDeltas[t], rows: rows, classes: sizes.last!, epsilon: epsilon)
        if t == 0 { loss = res }
        lap(t, .softmax)
        // A non-finite loss stops training before any update; a probe still makes its gradients.
        guard res.lossSum.isFinite || !job.update else { return }
        let opt = optimizer!
        let rate = job.rate
        // Layer 0's whole gradient is made before any update for the first-batch record and for clipping.
        let whole = job.keepGrads || job.clip != nil
        if job.measure { for p in mine { for l in 0..<L { measures[p][l] = StepMeasure() } } }
        if job.clip != nil { for p in mine { gradSquares[p * 8 + 1] = 0 } }
        // Backward.
        let dOut = outDeltas[t]
        if hidden == 0 {
            BLAS.gemm(transA: true, m: n0, n: sizes[1], k: rows, a: x, lda: n0, b: dOut, ldb: sizes[1],
                      c: G + R[0].weights.lowerBound, ldc: sizes[1])
            net.columnSums(dOut, rows: rows, cols: sizes[1], into: G + R[0].bias.lowerBound)
        } else {
            for l in stride(from: L - 1, through: 1, by: -1) {
                let nOut = sizes[l + 1]
                // This layer's delta in full rows: the output layer's (each thread's own copy), or a hidden
                // layer's blocks (one written by each partition) gathered into this thread's buffer.
                let d: UnsafeMutablePointer<Float>
                if l == L - 1 {
                    d = dOut
                    if mine.contains(0) { net.columnSums(dOut, rows: rows, cols: nOut, into: G + R[l].bias.lowerBound) }
                } else {
                    sync(t)   // the other partition's block of this layer's delta
                    d = deltaRows[t]
                    for s in 0..<Self.partitions {
                        let c = parts[l][s], blk = deltas[l] + block(l, s)
                        for r in 0..<rows { (d + r * nOut + c.lowerBound).update(from: blk + r * c.count, count: c.count) }
                    }
                    for p in mine {
                        let c = parts[l][p]
                        guard !c.isEmpty else { continue }
                        net.columnSums(deltas[l] + block(l, p), rows: rows, cols: c.count, stride: c.count,
                                       into: G + R[l].bias.lowerBound + c.lowerBound)
                    }
                }
                lap(t, .backwardElementwise)
                for p in mine {
                    let inPart = parts[l - 1][p], ctIn = inPart.count
                    guard ctIn > 0 else { continue }
                    let a = acts[l - 1][p]
                    // dW_l (from the outputs after dropout, which this layer read)[p's rows, :] = A_{l-1}[:, p]ᵀ · d
                    BLAS.gemm(transA: true, m: ctIn, n: nOut, k: rows, a: layerInput(l - 1, p, job), lda: ctIn,
                              b: d, ldb: nOut, c: G + R[l].weights.lowerBound + inPart.lowerBound * nOut, ldc: nOut)
                    // dA_{l-1}[:, p] = d · W_l[p's rows, :]ᵀ (into p's block of the layer below), then through the activation.
                    let dPrev = l == 1 ? delta0[p] : deltas[l - 1] + block(l - 1, p)
                    BLAS.gemm(transB: true, m: rows, n: ctIn, k: nOut, a: d, lda: nOut,
                              b: P + R[l].weights.lowerBound + inPart.lowerBound * nOut, ldb: nOut, c: dPrev, ldc: ctIn)
                    lap(t, .backwardGemm)
                    if job.drop != nil {
                        // Through the dropout: the mask's scale, then the activation's derivative at the outputs before it.
                        let m = masks[l - 1][p]
                        for i in 0..<(rows * ctIn) { dPrev[i] *= m[i] }
                    }
                    net.applyDerivative(dPrev, outputs: a, count: rows * ctIn)
                    if bn { normalizeBackward(l - 1, p, rows: rows, delta: dPrev) }
                    lap(t, .backwardElementwise)
                }
            }
            // Layer 0: dW_0[:, p] = Xᵀ · d_0[:, p], a chunk of input rows at a time (small products skip
            // OpenBLAS's packing), each chunk applied to p's copy of the weights while its gradient is in cache.
            // For the first-batch record the whole gradient goes to the network's array and is applied after it.
            // Meanwhile the next batch's image rows are fetched towards this core, a slice per chunk, so that
            // converting them next step does not wait on memory.
            let n1 = sizes[1]
            let nextStart = job.start + rows
            let nextRows = max(0, min(rows, set.count - nextStart))
            let slices = mine.reduce(0) { $0 + (parts[0][$1].isEmpty ? 0 : (n0 + chunkRows[$1] - 1) / chunkRows[$1]) }
            var slice = 0
            for p in mine {
                let c = parts[0][p], ct = c.count
                guard ct > 0 else { continue }
                let d0 = delta0[p]
                net.columnSums(d0, rows: rows, cols: ct, stride: ct, into: G + R[0].bias.lowerBound + c.lowerBound)
                lap(t, .backwardElementwise)
                let chunk = chunkRows[p]
                let chunks = (n0 + chunk - 1) / chunk
                for k in 0..<chunks {
                    let r0 = k * chunk, n = min(chunk, n0 - r0)
                    set.prefetch(order: order!, start: nextStart, rows: nextRows, slice: slice, of: slices)
                    slice += 1
                    if whole {
                        // The first-batch record reads it in the network's array; clipping keeps it in p's own,
                        // and adds the chunk's share of the global norm while it is in cache.
                        let (g, ldg) = job.keepGrads ? (G + R[0].weights.lowerBound + r0 * n1 + c.lowerBound, n1) : (clipGrads[p] + r0 * ct, ct)
                        if let sparse {
                            sparse.transposeTimes(d0, ldd: ct, columns: ct, features: r0..<(r0 + n), into: g, ldg: ldg)
                        } else {
                            BLAS.gemm(transA: true, m: n, n: ct, k: rows, a: x + r0, lda: n0, b: d0, ldb: ct, c: g, ldc: ldg)
                        }
                        if job.clip != nil { gradSquares[p * 8 + 1] += sumOfSquares(g, rows: n, cols: ct, stride: ldg) }
                        lap(t, .inputLayerGradient)
                    } else {
                        if let sparse {
                            sparse.transposeTimes(d0, ldd: ct, columns: ct, features: r0..<(r0 + n), into: g0[p], ldg: ct)
                        } else {
                            BLAS.gemm(transA: true, m: n, n: ct, k: rows, a: x + r0, lda: n0, b: d0, ldb: ct, c: g0[p], ldc: ct)
                        }
                        lap(t, .inputLayerGradient)
                        opt.apply(params: w0[p] + r0 * ct, grads: g0[p], m: m0[p] + r0 * ct, v: v0[p] + r0 * ct, count: n * ct,
                                  rate: rate, measure: job.measure ? measures[p] : nil)
                        lap(t, .optimizer)
                    }
                }
            }
        }
        if job.keepGrads {
            // The main thread reads every gradient (first-batch record) before anything is updated.
            sync(t)
            if t == 0 { gradsReady?(res) }
            sync(t)
            guard job.update else { return }
        }
        // Clipping: every gradient is multiplied by gradScale as the optimiser reads it.
        var gradScale: Float = 1
        if let clip = job.clip {
            // The global norm: each partition's sum of squares of the gradients it updates (layer 0's weights',
            // summed as they were made, then its other ranges), then the sum in partition order.
            for p in mine { gradSquares[p * 8] = gradSquares[p * 8 + 1] + ownedSquares(p) }
            sync(t)
            var total = 0.0
            for p in 0..<Self.partitions { total += gradSquares[p * 8] }
            let norm = total.squareRoot()
            if norm > Double(clip) { gradScale = Float(Double(clip) / norm) }
        }
        if whole {
            for p in mine where hidden > 0 {
                let c = parts[0][p], ct = c.count
                guard ct > 0 else { continue }
                if job.keepGrads {
                    for i in 0..<n0 {
                        opt.apply(params: w0[p] + i * ct, grads: G + R[0].weights.lowerBound + i * sizes[1] + c.lowerBound,
                                  m: m0[p] + i * ct, v: v0[p] + i * ct, count: ct, rate: rate, measure: job.measure ? measures[p] : nil,
                                  gradScale: gradScale)
                    }
                } else {
                    // From p's own copy of the gradient, a chunk at a time as the unclipped step applies it.
                    let chunk = chunkRows[p]
                    for r0 in stride(from: 0, to: n0, by: chunk) {
                        let n = min(chunk, n0 - r0)
                        opt.apply(params: w0[p] + r0 * ct, grads: clipGrads[p] + r0 * ct, m: m0[p] + r0 * ct, v: v0[p] + r0 * ct,
                                  count: n * ct, rate: rate, measure: job.measure ? measures[p] : nil, gradScale: gradScale)
                    }
                }
            }
        }
        // Update the rest of each partition's parameters.
        for p in mine {
            for o in owned[p] {
                opt.apply(params: P, grads: G, range: o.range, rate: rate, measure: job.measure && o.isWeight ? measures[p] + o.layer : nil,
                          gradScale: gradScale)
            }
        }
        if bn { for p in mine { updateRunningStatistics(p) } }
        lap(t, .optimizer)
        if job.measure { sync(t) }   // the main thread reads both partitions' measures after this step
    }
}


/// The dropout masks' counter-based generator: unit u of row r of hidden layer h in step s of a run with
/// seed `seed` is kept when `draw(rowKey(stepKey(seed, s), h, r), u) ≥ threshold(rate)` — a hash, so any
/// partition draws any unit's mask without a shared sequential generator.
public enum DropoutMask {
    /// SplitMix64's finaliser (a good 64-bit mix of its input).
    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    @inline(__always)
    static func stepKey(seed: UInt64, step: UInt64) -> UInt64 { mix(seed &+ mix(step &+ 0x517C_C1B7_2722_0A95)) }
    @inline(__always)
    static func rowKey(_ stepKey: UInt64, layer: Int, row: Int) -> UInt64 { mix(stepKey ^ (UInt64(layer) << 40 | UInt64(row))) }
    /// A uniform 53-bit number.
    @inline(__always)
    static func draw(_ rowKey: UInt64, unit: Int) -> UInt64 { mix(rowKey &+ UInt64(unit) &* 0x9E37_79B9_7F4A_7C15) >> 11 }
    /// rate · 2^53: a unit is dropped with probability `rate`.
    static func threshold(_ rate: Float) -> UInt64 { UInt64(Double(rate) * 9007199254740992.0) }

    /// Whether unit `unit` (0-based, of the whole layer) of batch row `row` of hidden layer `layer` (0-based)
    /// is kept in optimiser step `step` (the step counter after it began: 1 for the first).
    public static func kept(seed: UInt64, step: UInt64, layer: Int, row: Int, unit: Int, rate: Float) -> Bool {
        draw(rowKey(stepKey(seed: seed, step: step), layer: layer, row: row), unit: unit) >= threshold(rate)
    }
}


/// Blocks asynchronous signals (^C, SIGTERM, SIGHUP, SIGWINCH, …) in the calling thread, so that the process's
/// handlers run on the main thread: there a signal interrupts the prompt's blocking read as the line editor
/// expects. Faults stay deliverable. For every helper thread that trains (the step's worker, a sweep's lane).
public func leaveSignalsToOtherThreads() {
    var set = sigset_t()
    sigfillset(&set)
    for s in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP] { sigdelset(&set, s) }
    pthread_sigmask(SIG_BLOCK, &set, nil)
}
