import Foundation

/// Input rows of layer 0's weight gradient a training thread makes (and applies) at a time when it owns
/// `columns` of the layer's `inputs` × n weight columns: about 25 KB of gradient, small enough for OpenBLAS's
/// small-matrix kernels and for the chunk to stay in cache until its update.
public func inputGradientChunkRows(inputs: Int, columns: Int) -> Int {
    min(inputs, max(8, (98 * 64) / max(columns, 1)))
}

/// Two-thread model-parallel training step. Thread t owns half of every hidden layer's units: for layer 0
/// the matching weight columns, for every later layer the matching weight *rows* (the inputs coming from
/// its units), and the units' biases. The threads exchange only partial sums of each later layer's
/// pre-activations and the hidden deltas — never parameters or gradients — so each thread's optimiser
/// update touches memory only it reads. Results are deterministic for a given thread count.
///
/// Memory a thread works on is kept contiguous and apart from the other thread's: two cores writing
/// alternate 256-byte pieces of one array run many times slower than on separate arrays (each core's
/// prefetcher pulls in the neighbour's lines). So each thread keeps its own copy of its columns of
/// layer 0's weights and optimiser state for the length of an epoch (`beginEpoch` copies them out of the
/// network and optimiser, `endEpoch` back), and its own hidden outputs.
final class TwoThreadStep: @unchecked Sendable {
    let net: Network
    let capacity: Int
    let L: Int
    /// parts[h][t]: the columns of hidden layer h owned by thread t.
    let parts: [[Range<Int>]]
    /// Each thread's own copy of the input batch and labels.
    let xs: [UnsafeMutablePointer<Float>]
    let labels: [UnsafeMutablePointer<Int32>]
    /// acts[h][t]: thread t's columns of hidden layer h's outputs, capacity × parts[h][t].count, contiguous.
    let acts: [[UnsafeMutablePointer<Float>]]
    /// delta0[t]: thread t's columns of hidden layer 0's delta (only it reads them), contiguous.
    let delta0: [UnsafeMutablePointer<Float>]
    /// deltas[h], h ≥ 1: hidden layer h's delta, capacity × n_h, as two blocks (`deltaBlock`): the columns
    /// each thread owns, capacity × their count. Each thread writes its block; both read both.
    let deltas: [UnsafeMutablePointer<Float>]
    /// Each thread's copy of a hidden layer's whole delta in rows (its products read full rows), capacity × max n_h.
    let deltaRows: [UnsafeMutablePointer<Float>]
    /// Offset of the block of thread `s`'s columns in hidden layer h's delta.
    @inline(__always)
    private func deltaBlock(_ h: Int, _ s: Int) -> Int { s == 0 ? 0 : capacity * parts[h][0].count }
    /// partials[l][t]: thread t's partial pre-activation of weight layer l ≥ 1, capacity × n_{l+1}: for a
    /// hidden layer, two blocks (`partialBlock`), the columns each thread owns, capacity × their count;
    /// for the output layer, one row-major matrix.
    let partials: [[UnsafeMutablePointer<Float>]]
    /// Offset of the block of thread `s`'s columns in a hidden layer's partial sums.
    @inline(__always)
    private func partialBlock(_ l: Int, _ s: Int) -> Int { s == 0 ? 0 : capacity * parts[l][0].count }
    /// Each thread's copy of the output probabilities and output delta, capacity × classes.
    let outs: [UnsafeMutablePointer<Float>]
    let outDeltas: [UnsafeMutablePointer<Float>]
    /// Each thread's copy of the output bias, taken before the exchange barrier.
    let outBias: [UnsafeMutablePointer<Float>]
    /// Thread t's columns of layer 0's weights and of the optimiser's two state arrays, n_0 × parts[0][t].count,
    /// during an epoch (see `beginEpoch`), and a chunk of their gradient.
    let w0: [UnsafeMutablePointer<Float>]
    let m0: [UnsafeMutablePointer<Float>]
    let v0: [UnsafeMutablePointer<Float>]
    let g0: [UnsafeMutablePointer<Float>]
    /// Input rows of layer 0's gradient made (and applied) at a time: about 25 KB of gradient.
    let chunkRows: [Int]
    /// Per-thread hidden statistics (stable storage: each thread writes only its own).
    let stats: [UnsafeMutablePointer<StatsAccumulator>]
    /// Per-thread step measures (one per weight layer).
    let measures: [UnsafeMutablePointer<StepMeasure>]
    /// The parameter ranges each thread updates in the network's own arrays: [(layer, range)]. (Layer 0's
    /// weights, when there are hidden layers, are updated in the thread's copy instead.)
    let owned: [[(layer: Int, range: Range<Int>, isWeight: Bool)]]
    let barrier = ThreadBarrier(parties: 2)
    let hiddenLayers: Int
    /// Each thread's sink for the row-touching pass, a cache line apart.
    let sinks = UnsafeMutablePointer<UInt8>.allocate(capacity: 128)
    /// Seconds each thread spent waiting at the step's barriers (since the last `resetStats`): the
    /// two-thread split's imbalance, reported by scripts/bench.
    let waitSeconds: UnsafeMutablePointer<Double> = {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: 16); p.initialize(repeating: 0, count: 16); return p
    }()

    /// A barrier inside the step, timed for thread `t`.
    @inline(__always)
    func sync(_ t: Int) {
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
    struct Job { var start = 0; var rows = 0; var measure = false; var stop = false; var keepGrads = false }
    var job = Job()
    var set: SampleSet?
    var order: UnsafePointer<Int32>?
    var epsilon: Float = 1e-7
    var optimizer: Optimizer?
    var loss = LossResult()
    private var worker: Thread?
    private let wake = DispatchSemaphore(value: 0)
    private let parked = DispatchSemaphore(value: 0)

    init(net: Network, capacity: Int) {
        self.net = net; self.capacity = capacity
        L = net.layerCount
        let sizes = net.sizes
        func buf(_ n: Int) -> UnsafeMutablePointer<Float> {
            alignedFloats(n)
        }
        parts = (1..<(sizes.count - 1)).map { h in
            let n = sizes[h]
            var c = n >= 32 ? (n / 2) / 16 * 16 : n / 2
            if n >= 32 && n % 16 != 0 { c = n / 2 }
            return [0..<c, c..<n]
        }
        let hiddenSizes = Array(sizes.dropFirst().dropLast())
        hiddenLayers = hiddenSizes.count
        xs = [buf(capacity * sizes[0]), buf(capacity * sizes[0])]
        labels = (0..<2).map { _ in let p = UnsafeMutablePointer<Int32>.allocate(capacity: capacity); p.initialize(repeating: 0, count: capacity); return p }
        acts = parts.map { hp in hp.map { buf(capacity * $0.count) } }
        delta0 = hiddenLayers > 0 ? parts[0].map { buf(capacity * $0.count) } : []
        deltas = hiddenSizes.enumerated().map { h, n in h == 0 ? buf(1) : buf(capacity * n) }
        deltaRows = (0..<2).map { _ in buf(capacity * (hiddenSizes.max() ?? 1)) }
        partials = (0..<net.layerCount).map { l in l == 0 ? [] : [buf(capacity * sizes[l + 1]), buf(capacity * sizes[l + 1])] }
        outs = [buf(capacity * sizes.last!), buf(capacity * sizes.last!)]
        outDeltas = [buf(capacity * sizes.last!), buf(capacity * sizes.last!)]
        outBias = [buf(sizes.last!), buf(sizes.last!)]
        let cols0 = hiddenLayers > 0 ? parts[0].map { $0.count } : [0, 0]
        w0 = cols0.map { buf(sizes[0] * $0) }
        m0 = cols0.map { buf(sizes[0] * $0) }
        v0 = cols0.map { buf(sizes[0] * $0) }
        let chunks = cols0.map { inputGradientChunkRows(inputs: sizes[0], columns: $0) }
        chunkRows = chunks
        g0 = (0..<2).map { buf(chunks[$0] * cols0[$0]) }
        stats = (0..<2).map { _ in
            let p = UnsafeMutablePointer<StatsAccumulator>.allocate(capacity: max(hiddenSizes.count, 1))
            for (i, n) in hiddenSizes.enumerated() { (p + i).initialize(to: StatsAccumulator(units: n)) }
            return p
        }
        measures = (0..<2).map { _ in
            let p = UnsafeMutablePointer<StepMeasure>.allocate(capacity: net.layerCount)
            p.initialize(repeating: StepMeasure(), count: net.layerCount)
            return p
        }
        var own: [[(Int, Range<Int>, Bool)]] = [[], []]
        let r = net.ranges
        for t in 0..<2 {
            // Layer 0: its bias columns owned by t (its weights are in t's own copy); with no hidden layer,
            // thread 0 updates the whole layer.
            let c0 = sizes.count > 2 ? parts[0][t] : (t == 0 ? 0..<sizes[1] : 0..<0)
            if !c0.isEmpty {
                if sizes.count == 2 { own[t].append((0, r[0].weights, true)) }
                own[t].append((0, (r[0].bias.lowerBound + c0.lowerBound)..<(r[0].bias.lowerBound + c0.upperBound), false))
            }
            for l in 1..<max(net.layerCount, 1) {
                let rowsOwned = parts[l - 1][t]
                let n = sizes[l + 1]
                if !rowsOwned.isEmpty {
                    own[t].append((l, (r[l].weights.lowerBound + rowsOwned.lowerBound * n)..<(r[l].weights.lowerBound + rowsOwned.upperBound * n), true))
                }
                if l < net.layerCount - 1 {
                    let cols = parts[l][t]
                    if !cols.isEmpty { own[t].append((l, (r[l].bias.lowerBound + cols.lowerBound)..<(r[l].bias.lowerBound + cols.upperBound), false)) }
                } else if t == 0 {
                    own[t].append((l, r[l].bias, false))
                }
            }
        }
        owned = own.map { $0.map { (layer: $0.0, range: $0.1, isWeight: $0.2) } }
    }

    deinit {
        stopWorker()
        (xs + acts.flatMap { $0 } + delta0 + deltas + deltaRows + partials.flatMap { $0 } + outs + outDeltas + outBias + w0 + m0 + v0 + g0).forEach { $0.deallocate() }
        labels.forEach { $0.deallocate() }
        for p in stats { p.deinitialize(count: hiddenLayers); p.deallocate() }
        measures.forEach { $0.deallocate() }
        waitSeconds.deallocate()
        phaseSeconds.deallocate(); phaseMark.deallocate()
        sinks.deallocate()
    }

    /// Copies each thread's columns of layer 0's weights and optimiser state out of the network and the
    /// optimiser (`toCopies`), or back.
    private func exchangeInputLayer(toCopies: Bool) {
        guard hiddenLayers > 0, let opt = optimizer else { return }
        let n0 = net.sizes[0], n1 = net.sizes[1], base = net.ranges[0].weights.lowerBound
        for t in 0..<2 {
            let c = parts[0][t], ct = c.count
            guard ct > 0 else { continue }
            for (shared, mine) in [(net.params, w0[t]), (opt.m, m0[t]), (opt.v, v0[t])] {
                for i in 0..<n0 {
                    let s = shared + base + i * n1 + c.lowerBound, p = mine + i * ct
                    if toCopies { p.update(from: s, count: ct) } else { s.update(from: p, count: ct) }
                }
            }
        }
    }

    /// Starts an epoch: takes the threads' copies of layer 0, then starts (or resumes) the worker thread.
    func beginEpoch() {
        exchangeInputLayer(toCopies: true)
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
        job = Job(); job.stop = true
        barrier.wait()
        parked.wait()
        exchangeInputLayer(toCopies: false)
    }

    private var exiting = false
    func stopWorker() {
        guard worker != nil else { return }
        exiting = true
        wake.signal()
        worker = nil
    }

    private func workerLoop() {
        Self.leaveSignalsToOtherThreads()
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

    /// Blocks asynchronous signals (^C, SIGTERM, SIGHUP, SIGWINCH, …) in the calling thread, so that the
    /// process's handlers run on the main thread: there a signal interrupts the prompt's blocking read as the
    /// line editor expects. Faults stay deliverable.
    private static func leaveSignalsToOtherThreads() {
        var set = sigset_t()
        sigfillset(&set)
        for s in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP] { sigdelset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    func resetStats() {
        for t in 0..<2 { for i in 0..<hiddenLayers { stats[t][i].reset() } }
        waitSeconds[0] = 0; waitSeconds[8] = 0
        for i in 0..<32 { phaseSeconds[i] = 0 }
    }

    /// Merges both threads' statistics (disjoint units).
    func mergedStats() -> [StatsAccumulator] {
        var out = Array(UnsafeBufferPointer(start: stats[0], count: hiddenLayers))
        for h in out.indices {
            let b = stats[1][h]
            out[h].sum += b.sum; out[h].sumSquares += b.sumSquares; out[h].max = max(out[h].max, b.max)
            out[h].zeros += b.zeros; out[h].aboveOne += b.aboveOne; out[h].saturated += b.saturated
            out[h].values += b.values; out[h].samples = max(out[h].samples, b.samples)
            for u in out[h].unitMax.indices { out[h].unitMax[u] = max(out[h].unitMax[u], b.unitMax[u]) }
        }
        return out
    }

    /// Runs one training step on the main thread as thread 0 (the worker runs thread 1).
    /// Returns the loss result; if it is not finite nothing was updated.
    /// With `gradsReady`, the main thread calls it once every gradient of the step is computed and before
    /// any parameter is updated (the first-batch record); the network's gradient arrays are complete then.
    func runStep(start: Int, rows: Int, measure: Bool, gradsReady: ((LossResult) -> Void)? = nil) -> LossResult {
        job = Job(start: start, rows: rows, measure: measure, stop: false, keepGrads: gradsReady != nil)
        self.gradsReady = gradsReady
        optimizer!.beginStep()
        sync(0)
        step(thread: 0)
        self.gradsReady = nil
        return loss
    }
    private var gradsReady: ((LossResult) -> Void)?

    private func step(thread t: Int) {
        // Snapshot what the main thread published: it may publish the next step while this thread finishes.
        let job = self.job
        let stepCount = optimizer!.steps
        let sizes = net.sizes
        let rows = job.rows
        let P = net.params, G = net.grads
        let R = net.ranges
        let x = xs[t]
        let set = self.set!
        if profiling { phaseMark[t * 8] = monotonicSeconds() }
        // Each thread converts the whole batch into its own buffer: no shared input lines.
        set.copyRows(order: order!, start: job.start, rows: rows, x: x, y: labels[t], sink: sinks + 64 * t)
        lap(t, .convert)
        let hidden = L - 1
        let n0 = sizes[0]
        // Forward, layer 0: my columns of hidden layer 0, from my copy of their weights.
        if hidden > 0 {
            let c = parts[0][t], ct = c.count
            if ct > 0 {
                BLAS.gemm(m: rows, n: ct, k: n0, a: x, lda: n0, b: w0[t], ldb: ct, c: acts[0][t], ldc: ct)
                lap(t, .forwardGemm)
                net.biasActivate(acts[0][t], rows: rows, cols: ct, stride: ct, unit0: c.lowerBound,
                                 bias: P + R[0].bias.lowerBound + c.lowerBound, stats: stats[t])
                lap(t, .forwardElementwise)
            }
        }
        // Later layers: partial sums over my input units, exchanged, then my columns.
        let outLogits = outs[t]
        if hidden == 0 {
            // No hidden layer: thread-local full product.
            BLAS.gemm(m: rows, n: sizes[1], k: n0, a: x, lda: n0, b: P + R[0].weights.lowerBound, ldb: sizes[1], c: outLogits, ldc: sizes[1])
            net.addBias(outLogits, rows: rows, cols: sizes[1], bias: P + R[0].bias.lowerBound)
        } else {
            for l in 1..<L {
                let inPart = parts[l - 1][t], nOut = sizes[l + 1]
                let mine = partials[l][t]
                if inPart.isEmpty {
                    mine.initialize(repeating: 0, count: rows * nOut)
                } else if l < L - 1 {
                    // One block per owner of the output columns, so that the other thread reads one block of
                    // its own and nothing next to what this thread alone reads.
                    for s in 0..<2 {
                        let c = parts[l][s]
                        guard !c.isEmpty else { continue }
                        BLAS.gemm(m: rows, n: c.count, k: inPart.count, a: acts[l - 1][t], lda: inPart.count,
                                  b: P + R[l].weights.lowerBound + inPart.lowerBound * nOut + c.lowerBound, ldb: nOut,
                                  c: mine + partialBlock(l, s), ldc: c.count)
                    }
                } else {
                    BLAS.gemm(m: rows, n: nOut, k: inPart.count, a: acts[l - 1][t], lda: inPart.count,
                              b: P + R[l].weights.lowerBound + inPart.lowerBound * nOut, ldb: nOut, c: mine, ldc: nOut)
                }
                lap(t, .forwardGemm)
                if l == L - 1 {
                    // Read the output bias before the barrier: thread 0 may update it as soon as both have passed.
                    let b = P + R[l].bias.lowerBound
                    for j in 0..<nOut { outBias[t][j] = b[j] }
                }
                sync(t)
                let p0 = partials[l][0], p1 = partials[l][1]
                if l < L - 1 {
                    let c = parts[l][t], ct = c.count
                    if ct > 0 {
                        let out = acts[l][t], a0 = p0 + partialBlock(l, t), a1 = p1 + partialBlock(l, t)
                        for i in 0..<(rows * ct) { out[i] = a0[i] + a1[i] }
                        net.biasActivate(out, rows: rows, cols: ct, stride: ct, unit0: c.lowerBound,
                                         bias: P + R[l].bias.lowerBound + c.lowerBound, stats: stats[t] + l)
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
        // Softmax, loss and output delta: both threads compute the same numbers on their own copies.
        let res = softmaxCrossEntropy(outLogits, labels: labels[t], delta: outDeltas[t], rows: rows, classes: sizes.last!, epsilon: epsilon)
        if t == 0 { loss = res }
        lap(t, .softmax)
        guard res.lossSum.isFinite else { return }
        let opt = optimizer!
        let rate = opt.stepRate(stepCount)
        let mb = measures[t]
        if job.measure { for l in 0..<L { mb[l] = StepMeasure() } }
        // Backward.
        let dOut = outDeltas[t]
        if hidden == 0 {
            if t == 0 {
                BLAS.gemm(transA: true, m: n0, n: sizes[1], k: rows, a: x, lda: n0, b: dOut, ldb: sizes[1],
                          c: G + R[0].weights.lowerBound, ldc: sizes[1])
                net.columnSums(dOut, rows: rows, cols: sizes[1], into: G + R[0].bias.lowerBound)
            }
        } else {
            for l in stride(from: L - 1, through: 1, by: -1) {
                let nOut = sizes[l + 1]
                let inPart = parts[l - 1][t], ctIn = inPart.count
                // This layer's delta, full rows: the output layer's (each thread's own copy), or a hidden
                // layer's two column blocks (one written by each thread) gathered into this thread's buffer.
                let d: UnsafeMutablePointer<Float>
                if l == L - 1 {
                    d = dOut
                    if t == 0 { net.columnSums(dOut, rows: rows, cols: nOut, into: G + R[l].bias.lowerBound) }
                } else {
                    sync(t)   // the other thread's block of this layer's delta
                    d = deltaRows[t]
                    for s in 0..<2 {
                        let c = parts[l][s], block = deltas[l] + deltaBlock(l, s)
                        for r in 0..<rows { (d + r * nOut + c.lowerBound).update(from: block + r * c.count, count: c.count) }
                    }
                    let c = parts[l][t]
                    if !c.isEmpty {
                        net.columnSums(deltas[l] + deltaBlock(l, t), rows: rows, cols: c.count, stride: c.count,
                                       into: G + R[l].bias.lowerBound + c.lowerBound)
                    }
                }
                lap(t, .backwardElementwise)
                guard ctIn > 0 else { continue }
                let a = acts[l - 1][t]
                // dW_l[my rows, :] = A_{l-1}[:, my]ᵀ · d
                BLAS.gemm(transA: true, m: ctIn, n: nOut, k: rows, a: a, lda: ctIn,
                          b: d, ldb: nOut, c: G + R[l].weights.lowerBound + inPart.lowerBound * nOut, ldc: nOut)
                // dA_{l-1}[:, my] = d · W_l[my rows, :]ᵀ (into my block of the layer below), then through the activation.
                let dPrev = l == 1 ? delta0[t] : deltas[l - 1] + deltaBlock(l - 1, t)
                BLAS.gemm(transB: true, m: rows, n: ctIn, k: nOut, a: d, lda: nOut,
                          b: P + R[l].weights.lowerBound + inPart.lowerBound * nOut, ldb: nOut, c: dPrev, ldc: ctIn)
                lap(t, .backwardGemm)
                net.applyDerivative(dPrev, outputs: a, count: rows * ctIn)
                lap(t, .backwardElementwise)
            }
            let c = parts[0][t], ct = c.count, n1 = sizes[1]
            if ct > 0 {
                let d0 = delta0[t]
                net.columnSums(d0, rows: rows, cols: ct, stride: ct, into: G + R[0].bias.lowerBound + c.lowerBound)
                lap(t, .backwardElementwise)
                // dW_0[:, my] = Xᵀ · d_0[:, my], a chunk of input rows at a time (small products skip OpenBLAS's
                // packing), each chunk applied to my copy of the weights while its gradient is in cache. For the
                // first-batch record the whole gradient goes to the network's array and is applied after it.
                let chunk = chunkRows[t]
                // Meanwhile the next batch's image rows are fetched towards this core, a slice per chunk, so
                // that converting them next step does not wait on memory.
                let nextStart = job.start + rows
                let nextRows = max(0, min(rows, set.count - nextStart))
                let chunks = (n0 + chunk - 1) / chunk
                for k in 0..<chunks {
                    let r0 = k * chunk, n = min(chunk, n0 - r0)
                    set.prefetch(order: order!, start: nextStart, rows: nextRows, slice: k, of: chunks)
                    if job.keepGrads {
                        BLAS.gemm(transA: true, m: n, n: ct, k: rows, a: x + r0, lda: n0, b: d0, ldb: ct,
                                  c: G + R[0].weights.lowerBound + r0 * n1 + c.lowerBound, ldc: n1)
                        lap(t, .inputLayerGradient)
                    } else {
                        BLAS.gemm(transA: true, m: n, n: ct, k: rows, a: x + r0, lda: n0, b: d0, ldb: ct, c: g0[t], ldc: ct)
                        lap(t, .inputLayerGradient)
                        opt.apply(params: w0[t] + r0 * ct, grads: g0[t], m: m0[t] + r0 * ct, v: v0[t] + r0 * ct, count: n * ct,
                                  rate: rate, measure: job.measure ? mb : nil)
                        lap(t, .optimizer)
                    }
                }
            }
        }
        if job.keepGrads {
            // The main thread reads every gradient (first-batch record) before anyone updates.
            sync(t)
            if t == 0 { gradsReady?(res) }
            sync(t)
            let c = hidden > 0 ? parts[0][t] : 0..<0, ct = c.count
            for i in 0..<(ct > 0 ? n0 : 0) {
                opt.apply(params: w0[t] + i * ct, grads: G + R[0].weights.lowerBound + i * sizes[1] + c.lowerBound,
                          m: m0[t] + i * ct, v: v0[t] + i * ct, count: ct, rate: rate, measure: job.measure ? mb : nil)
            }
        }
        // Update the rest of my parameters.
        if job.measure {
            for o in owned[t] {
                opt.apply(params: P, grads: G, range: o.range, rate: rate, measure: o.isWeight ? mb + o.layer : nil)
            }
            lap(t, .optimizer)
            sync(t)   // the main thread reads both threads' measures after this step
        } else {
            for o in owned[t] { opt.apply(params: P, grads: G, range: o.range, rate: rate, measure: nil) }
        }
        lap(t, .optimizer)
    }

}
