import Synchronization
import Foundation

/// A barrier for two threads that spin (the waits are a few microseconds at most).
final class SpinBarrier: @unchecked Sendable {
    private let count = Atomic<Int>(0)
    private let generation = Atomic<Int>(0)
    let parties: Int
    init(parties: Int) { self.parties = parties }

    func wait() {
        let gen = generation.load(ordering: .acquiring)
        if count.add(1, ordering: .acquiringAndReleasing).newValue == parties {
            count.store(0, ordering: .relaxed)
            generation.store(gen &+ 1, ordering: .releasing)
        } else {
            // Spin for a few microseconds (the usual wait), then yield the core: if the other thread has been
            // descheduled (a busy machine), spinning would only keep it off the CPU.
            var spins = 0
            while generation.load(ordering: .acquiring) == gen {
                spins += 1
                if spins > 20_000 { sched_yield() }
            }
        }
    }
}

/// Two-thread model-parallel training step. Thread t owns half of every hidden layer's units: for layer 0
/// the matching weight columns, for every later layer the matching weight *rows* (the inputs coming from
/// its units), and the units' biases. The threads exchange only partial sums of each later layer's
/// pre-activations and the hidden deltas — never parameters or gradients — so each thread's optimiser
/// update touches memory only it reads. Results are deterministic for a given thread count.
final class TwoThreadStep: @unchecked Sendable {
    let net: Network
    let capacity: Int
    let L: Int
    /// parts[h][t]: the columns of hidden layer h owned by thread t.
    let parts: [[Range<Int>]]
    /// Each thread's own copy of the input batch and labels.
    let xs: [UnsafeMutablePointer<Float>]
    let labels: [UnsafeMutablePointer<Int32>]
    /// Hidden outputs and deltas (each thread writes its own columns), capacity × n_h.
    let acts: [UnsafeMutablePointer<Float>]
    let deltas: [UnsafeMutablePointer<Float>]
    /// partials[l][t]: thread t's partial pre-activation of weight layer l ≥ 1, capacity × n_{l+1}.
    let partials: [[UnsafeMutablePointer<Float>]]
    /// Each thread's copy of the output probabilities and output delta, capacity × classes.
    let outs: [UnsafeMutablePointer<Float>]
    let outDeltas: [UnsafeMutablePointer<Float>]
    /// Each thread's copy of the output bias, taken before the exchange barrier.
    let outBias: [UnsafeMutablePointer<Float>]
    /// Per-thread hidden statistics (stable storage: each thread writes only its own).
    let stats: [UnsafeMutablePointer<StatsAccumulator>]
    /// Per-thread step measures (one per weight layer).
    let measures: [UnsafeMutablePointer<StepMeasure>]
    /// The parameter ranges each thread updates: [(layer, range)].
    let owned: [[(layer: Int, range: Range<Int>, isWeight: Bool)]]
    let barrier = SpinBarrier(parties: 2)
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
        waitSeconds[t * 8] += monotonicSeconds() - t0
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
        xs = [buf(capacity * sizes[0]), buf(capacity * sizes[0])]
        labels = (0..<2).map { _ in let p = UnsafeMutablePointer<Int32>.allocate(capacity: capacity); p.initialize(repeating: 0, count: capacity); return p }
        acts = (1..<(sizes.count - 1)).map { buf(capacity * sizes[$0]) }
        deltas = (1..<(sizes.count - 1)).map { buf(capacity * sizes[$0]) }
        partials = (0..<net.layerCount).map { l in l == 0 ? [] : [buf(capacity * sizes[l + 1]), buf(capacity * sizes[l + 1])] }
        outs = [buf(capacity * sizes.last!), buf(capacity * sizes.last!)]
        outDeltas = [buf(capacity * sizes.last!), buf(capacity * sizes.last!)]
        outBias = [buf(sizes.last!), buf(sizes.last!)]
        let hiddenSizes = Array(sizes.dropFirst().dropLast())
        stats = (0..<2).map { _ in
            let p = UnsafeMutablePointer<StatsAccumulator>.allocate(capacity: max(hiddenSizes.count, 1))
            for (i, n) in hiddenSizes.enumerated() { (p + i).initialize(to: StatsAccumulator(units: n)) }
            return p
        }
        hiddenLayers = hiddenSizes.count
        measures = (0..<2).map { _ in
            let p = UnsafeMutablePointer<StepMeasure>.allocate(capacity: net.layerCount)
            p.initialize(repeating: StepMeasure(), count: net.layerCount)
            return p
        }
        var own: [[(Int, Range<Int>, Bool)]] = [[], []]
        let r = net.ranges
        for t in 0..<2 {
            // Layer 0: the columns of hidden layer 0 owned by t, row by row.
            let c0 = sizes.count > 2 ? parts[0][t] : (t == 0 ? 0..<sizes[1] : 0..<0)
            if !c0.isEmpty {
                for i in 0..<sizes[0] {
                    let base = r[0].weights.lowerBound + i * sizes[1]
                    own[t].append((0, (base + c0.lowerBound)..<(base + c0.upperBound), true))
                }
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
        (xs + acts + deltas + partials.flatMap { $0 } + outs + outDeltas + outBias).forEach { $0.deallocate() }
        labels.forEach { $0.deallocate() }
        for p in stats { p.deinitialize(count: hiddenLayers); p.deallocate() }
        measures.forEach { $0.deallocate() }
        waitSeconds.deallocate()
        sinks.deallocate()
    }

    /// Starts (or resumes) the worker thread for an epoch.
    func startWorker() {
        if worker == nil {
            let t = Thread { [unowned self] in self.workerLoop() }
            t.stackSize = 1 << 22
            worker = t
            t.start()
        } else {
            wake.signal()
        }
    }

    /// Parks the worker until the next epoch.
    func parkWorker() {
        job = Job(); job.stop = true
        barrier.wait()
        parked.wait()
    }

    private var exiting = false
    func stopWorker() {
        guard worker != nil else { return }
        exiting = true
        wake.signal()
        worker = nil
    }

    private func workerLoop() {
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
        for t in 0..<2 { for i in 0..<hiddenLayers { stats[t][i].reset() } }
        waitSeconds[0] = 0; waitSeconds[8] = 0
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
    /// any parameter is updated (the first-batch record).
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
        // Each thread converts the whole batch into its own buffer: no shared input lines.
        set.pixels.withUnsafeBufferPointer { px in
            let f = set.features
            touchRows(px.baseAddress!, order! + job.start, rows, f, sink: sinks + 64 * t)
            for r in 0..<rows {
                let idx = Int(order![job.start + r])
                labels[t][r] = Int32(set.labels[idx])
                convertRow(px.baseAddress! + idx * f, x + r * f, f, set.scale)
            }
        }
        let hidden = L - 1
        // Forward, layer 0: my columns of hidden layer 0.
        if hidden > 0 {
            let c = parts[0][t], n1 = sizes[1]
            if !c.isEmpty {
                BLAS.gemm(m: rows, n: c.count, k: sizes[0], a: x, lda: sizes[0], b: P + R[0].weights.lowerBound + c.lowerBound,
                          ldb: n1, c: acts[0] + c.lowerBound, ldc: n1)
                net.biasActivate(acts[0] + c.lowerBound, rows: rows, cols: c.count, stride: n1, unit0: c.lowerBound,
                                 bias: P + R[0].bias.lowerBound + c.lowerBound, stats: stats[t])
            }
        }
        // Later layers: partial sums over my input units, exchanged, then my columns.
        var outLogits: UnsafeMutablePointer<Float>
        if hidden == 0 {
            // No hidden layer: thread-local full product.
            outLogits = outs[t]
            BLAS.gemm(m: rows, n: sizes[1], k: sizes[0], a: x, lda: sizes[0], b: P + R[0].weights.lowerBound, ldb: sizes[1], c: outLogits, ldc: sizes[1])
            net.addBias(outLogits, rows: rows, cols: sizes[1], bias: P + R[0].bias.lowerBound)
        } else {
            outLogits = outs[t]
            for l in 1..<L {
                let inPart = parts[l - 1][t], nIn = sizes[l], nOut = sizes[l + 1]
                let mine = partials[l][t]
                if inPart.isEmpty {
                    mine.initialize(repeating: 0, count: rows * nOut)
                } else {
                    BLAS.gemm(m: rows, n: nOut, k: inPart.count, a: acts[l - 1] + inPart.lowerBound, lda: nIn,
                              b: P + R[l].weights.lowerBound + inPart.lowerBound * nOut, ldb: nOut, c: mine, ldc: nOut)
                }
                if l == L - 1 {
                    // Read the output bias before the barrier: thread 0 may update it as soon as both have passed.
                    let b = P + R[l].bias.lowerBound
                    for j in 0..<nOut { outBias[t][j] = b[j] }
                }
                sync(t)
                let p0 = partials[l][0], p1 = partials[l][1]
                if l < L - 1 {
                    let c = parts[l][t]
                    if !c.isEmpty {
                        let out = acts[l]
                        for r in 0..<rows {
                            let o = r * nOut
                            for j in c { out[o + j] = p0[o + j] + p1[o + j] }
                        }
                        net.biasActivate(out + c.lowerBound, rows: rows, cols: c.count, stride: nOut, unit0: c.lowerBound,
                                         bias: P + R[l].bias.lowerBound + c.lowerBound, stats: stats[t] + l)
                    }
                } else {
                    let b = outBias[t]
                    for i in 0..<(rows * nOut) { outLogits[i] = p0[i] + p1[i] + b[i % nOut] }
                }
            }
        }
        // Softmax, loss and output delta: both threads compute the same numbers on their own copies.
        let res = softmaxCrossEntropy(outLogits, labels: labels[t], delta: outDeltas[t], rows: rows, classes: sizes.last!, epsilon: epsilon)
        if t == 0 { loss = res }
        guard res.lossSum.isFinite else { return }
        // Backward.
        let dOut = outDeltas[t]
        if hidden == 0 {
            if t == 0 {
                BLAS.gemm(transA: true, m: sizes[0], n: sizes[1], k: rows, a: x, lda: sizes[0], b: dOut, ldb: sizes[1],
                          c: G + R[0].weights.lowerBound, ldc: sizes[1])
                net.columnSums(dOut, rows: rows, cols: sizes[1], into: G + R[0].bias.lowerBound)
            }
        } else {
            for l in stride(from: L - 1, through: 1, by: -1) {
                let nIn = sizes[l], nOut = sizes[l + 1]
                let inPart = parts[l - 1][t]
                let d: UnsafeMutablePointer<Float> = l == L - 1 ? dOut : deltas[l]
                if l < L - 1 { sync(t) }   // the other half of this layer's delta
                if l == L - 1 {
                    if t == 0 { net.columnSums(d, rows: rows, cols: nOut, into: G + R[l].bias.lowerBound) }
                } else {
                    let c = parts[l][t]
                    if !c.isEmpty { net.columnSums(d + c.lowerBound, rows: rows, cols: c.count, stride: nOut, into: G + R[l].bias.lowerBound + c.lowerBound) }
                }
                guard !inPart.isEmpty else { continue }
                // dW_l[my rows, :] = A_{l-1}[:, my]ᵀ · d
                BLAS.gemm(transA: true, m: inPart.count, n: nOut, k: rows, a: acts[l - 1] + inPart.lowerBound, lda: nIn,
                          b: d, ldb: nOut, c: G + R[l].weights.lowerBound + inPart.lowerBound * nOut, ldc: nOut)
                // dA_{l-1}[:, my] = d · W_l[my rows, :]ᵀ, then through the activation.
                BLAS.gemm(transB: true, m: rows, n: inPart.count, k: nOut, a: d, lda: nOut,
                          b: P + R[l].weights.lowerBound + inPart.lowerBound * nOut, ldb: nOut,
                          c: deltas[l - 1] + inPart.lowerBound, ldc: nIn)
                net.applyDerivative(deltas[l - 1] + inPart.lowerBound, outputs: acts[l - 1] + inPart.lowerBound,
                                    rows: rows, cols: inPart.count, stride: nIn)
            }
            let c = parts[0][t], n1 = sizes[1]
            if !c.isEmpty {
                BLAS.gemm(transA: true, m: sizes[0], n: c.count, k: rows, a: x, lda: sizes[0], b: deltas[0] + c.lowerBound, ldb: n1,
                          c: G + R[0].weights.lowerBound + c.lowerBound, ldc: n1)
                net.columnSums(deltas[0] + c.lowerBound, rows: rows, cols: c.count, stride: n1, into: G + R[0].bias.lowerBound + c.lowerBound)
            }
        }
        if job.keepGrads {
            // The main thread reads every gradient (first-batch record) before anyone updates.
            sync(t)
            if t == 0 { gradsReady?(res) }
            sync(t)
        }
        // Update my parameters.
        let opt = optimizer!
        let rate = opt.stepRate(stepCount)
        if job.measure {
            let mb = measures[t]
            for l in 0..<L { mb[l] = StepMeasure() }
            for o in owned[t] {
                opt.apply(params: P, grads: G, range: o.range, rate: rate, measure: o.isWeight ? mb + o.layer : nil)
            }
            sync(t)   // the main thread reads both threads' measures after this step
        } else {
            for o in owned[t] { opt.apply(params: P, grads: G, range: o.range, rate: rate, measure: nil) }
        }
    }

}
