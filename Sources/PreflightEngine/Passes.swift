import CBLAS

/// Buffers for the plain forward pass over up to `capacity` rows (evaluation), allocated once per network and size.
public final class Workspace {
    public let capacity: Int
    let sizes: [Int]
    /// Network input, capacity × sizes[0].
    public let x: UnsafeMutablePointer<Float>
    /// Output of each layer after its activation (the last holds softmax probabilities), capacity × sizes[l+1].
    public let acts: [UnsafeMutablePointer<Float>]
    /// Labels of the rows.
    public let labels: UnsafeMutablePointer<Int32>
    /// Where the row-touching pass leaves its (meaningless) sum.
    let sink = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
    /// Batch normalisation at evaluation: a hidden layer's per-unit scale and shift, 2 × the widest layer.
    let normAffine: UnsafeMutablePointer<Float>

    public init(sizes: [Int], capacity: Int) {
        self.capacity = capacity
        self.sizes = sizes
        func buf(_ n: Int) -> UnsafeMutablePointer<Float> {
            alignedFloats(n)
        }
        x = buf(capacity * sizes[0])
        acts = sizes.dropFirst().map { buf(capacity * $0) }
        labels = .allocate(capacity: capacity); labels.initialize(repeating: 0, count: capacity)
        normAffine = buf(2 * (sizes.max() ?? 1))
    }
    deinit {
        x.deallocate(); acts.forEach { $0.deallocate() }; labels.deallocate(); sink.deallocate(); normAffine.deallocate()
    }

    /// The batch's non-zero inputs, when loaded on the sparse path (made when first needed).
    private var sparseBatch: SparseBatch?
    /// Whether the last `load` listed the non-zero inputs (then `x` was not written).
    private(set) var loadedSparse = false
    var sparse: SparseBatch? { loadedSparse ? sparseBatch : nil }

    /// Converts rows `order[start..<start+rows]` of `set` into `x` and `labels`; on the sparse path lists their
    /// non-zero inputs instead (`forward` then computes layer 0 from them; `x` is left as it was).
    public func load(_ set: SampleSet, order: UnsafePointer<Int32>?, start: Int, rows: Int, path: InputPath = .dense) {
        loadedSparse = path == .sparse
        if loadedSparse {
            if sparseBatch == nil { sparseBatch = SparseBatch(capacity: capacity, features: sizes[0]) }
            sparseBatch!.load(set, order: order, start: start, rows: rows, y: labels, sink: sink, byFeature: false)
        } else {
            set.copyRows(order: order, start: start, rows: rows, x: x, y: labels, sink: sink)
        }
    }
}

/// Reads one byte of every cache line of the batch's rows before converting them: the loads of
/// randomly placed rows then overlap instead of stalling the conversion one line at a time.
/// The sum goes to `sink` (memory only the calling thread writes) so the loads cannot be optimised away.
@inline(__always)
func touchRows(_ base: UnsafePointer<UInt8>, _ order: UnsafePointer<Int32>, _ rows: Int, _ f: Int, sink: UnsafeMutablePointer<UInt8>) {
    var acc: UInt8 = 0
    for r in 0..<rows {
        let row = base + Int(order[r]) * f
        var i = 0
        while i < f { acc &+= row[i]; i += 64 }
        acc &+= row[f - 1]
    }
    sink.pointee = acc
}

extension SampleSet {
    /// Starts bringing slice `k` of `slices` of the batch `order[start..<start + rows]` towards the cache,
    /// without waiting for it. Called a slice at a time during one batch's products for the next batch's
    /// rows, so that `touchRows`/`convertRow` then find them in cache.
    public func prefetch(order: UnsafePointer<Int32>, start: Int, rows: Int, slice k: Int, of slices: Int) {
        let a = k * rows / slices, z = (k + 1) * rows / slices, f = features
        guard z > a else { return }
        if let listed = sparseRows {
            // The sparse path reads the samples' lists of non-zeros, not their bytes.
            listed.index.withUnsafeBufferPointer { ix in listed.bytes.withUnsafeBufferPointer { bs in
                for r in a..<z { listed.prefetch(Int(order[start + r]), ix.baseAddress!, bs.baseAddress!) }
            } }
            return
        }
        if isFloat {
            values.withUnsafeBufferPointer { v in
                v.withMemoryRebound(to: UInt8.self) { px in
                    let fb = f * 4
                    for r in a..<z {
                        let row = px.baseAddress! + Int(order[start + r]) * fb
                        var i = 0
                        while i < fb { preflight_prefetch(row + i); i += 64 }
                        preflight_prefetch(row + fb - 1)
                    }
                }
            }
            return
        }
        pixels.withUnsafeBufferPointer { px in
            for r in a..<z {
                let row = px.baseAddress! + Int(order[start + r]) * f
                var i = 0
                while i < f { preflight_prefetch(row + i); i += 64 }
                preflight_prefetch(row + f - 1)
            }
        }
    }
}

@inline(__always)
func convertRow(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, _ scale: Float) {
    preflight_bytes_to_floats(src, dst, n, scale)
}

/// Result of the softmax + cross-entropy pass over a batch.
public struct LossResult {
    public var lossSum: Double = 0
    public var correct: Int = 0
    public var low: Int = 0
    public var high: Int = 0
}

extension Network {
    /// The plain forward pass over `rows` rows of `ws.x` (evaluation; training runs TrainingStep). Hidden
    /// outputs go to `ws.acts`.
    public func forward(_ ws: Workspace, rows: Int) {
        var prev = UnsafePointer(ws.x)
        for l in 0..<layerCount {
            let nIn = sizes[l], nOut = sizes[l + 1]
            let out = ws.acts[l]
            if l == 0, let sparse = ws.sparse {
                sparse.timesDense(params + ranges[l].weights.lowerBound, ldw: nOut, columns: nOut, out: out, ldo: nOut)
            } else {
                BLAS.gemm(m: rows, n: nOut, k: nIn, a: prev, lda: nIn,
                          b: params + ranges[l].weights.lowerBound, ldb: nOut, c: out, ldc: nOut)
            }
            let b = UnsafePointer(params + ranges[l].bias.lowerBound)
            if l < layerCount - 1 {
                biasActivate(out, rows: rows, cols: nOut, bias: batchNorm ? normalizeForEvaluation(l, out, rows: rows, ws) : b,
                             stats: nil)
            } else {
                addBias(out, rows: rows, cols: nOut, bias: b)
            }
            prev = UnsafePointer(out)
        }
    }

    /// Batch normalisation at evaluation (see `batchNorm`): hidden layer h's units normalised by the running
    /// statistics, y = γ·(z − μ)/√(σ² + ε) + β with z = x·W + b, folded into one scale and shift per unit:
    /// y = z′·s + t with z′ = x·W (in `out`), s = γ/√(σ² + ε), t = β + (b − μ)·s. Scales `out` by s and returns t
    /// (the activation pass adds it as its bias).
    func normalizeForEvaluation(_ h: Int, _ out: UnsafeMutablePointer<Float>, rows: Int, _ ws: Workspace) -> UnsafePointer<Float> {
        let n = sizes[h + 1]
        let scale = ws.normAffine, shift = ws.normAffine + n
        let g = gamma(h), be = beta(h), b = bias(h), mu = movingMean(h), v = movingVariance(h)
        for j in 0..<n {
            let s = g[j] / (v[j] + Network.normEpsilon).squareRoot()
            scale[j] = s; shift[j] = be[j] + (b[j] - mu[j]) * s
        }
        for r in 0..<rows {
            let row = out + r * n
            for j in 0..<n { row[j] *= scale[j] }
        }
        return UnsafePointer(shift)
    }

    /// Softmax of the output layer in place, cross-entropy against `ws.labels` (see `softmaxCrossEntropy`).
    public func softmaxLoss(_ ws: Workspace, rows: Int, epsilon: Float) -> LossResult {
        softmaxCrossEntropy(ws.acts[layerCount - 1], labels: ws.labels, delta: nil, rows: rows, classes: sizes[layerCount], epsilon: epsilon)
    }

    @inline(__always)
    func addBias(_ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = out + r * cols
            for j in 0..<cols { row[j] += bias[j] }
        }
    }

    /// out[j] = Σ_r d[r·stride + j] for j < cols.
    func columnSums(_ d: UnsafePointer<Float>, rows: Int, cols: Int, stride: Int? = nil, into out: UnsafeMutablePointer<Float>) {
        let st = stride ?? cols
        for j in 0..<cols { out[j] = 0 }
        for r in 0..<rows {
            let row = d + r * st
            for j in 0..<cols { out[j] += row[j] }
        }
    }

    /// d ⊙= f′(a) over `count` contiguous values (the deltas and the outputs they came from).
    func applyDerivative(_ d: UnsafeMutablePointer<Float>, outputs a: UnsafePointer<Float>, count: Int) {
        switch activation {
        case .relu:
            var i = 0
            let rd = UnsafeMutableRawPointer(d), ra = UnsafeRawPointer(a)
            while i + 16 <= count {
                let av = ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                let dv = rd.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                rd.storeBytes(of: dv.replacing(with: 0, where: av .<= 0), toByteOffset: i * 4, as: SIMD16<Float>.self)
                i += 16
            }
            while i < count { if !(a[i] > 0) { d[i] = 0 }; i += 1 }
        case .linear:
            break
        default:
            let act = activation
            for i in 0..<count { d[i] *= act.derivative(output: a[i]) }
        }
    }

    /// bias + activation in place over a block of `rows` × `cols` (row stride `stride`), with the statistics
    /// folded into the same pass. `unit0` is the block's first unit (its column in the layer), for per-unit maxima.
    func biasActivate(_ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int, stride: Int? = nil, unit0: Int = 0,
                      bias: UnsafePointer<Float>, stats: UnsafeMutablePointer<StatsAccumulator>?) {
        let st = stride ?? cols
        if activation == .relu && cols % 16 == 0 {
            reluRows(out, rows: rows, cols: cols, stride: st, unit0: unit0, bias: bias, stats: stats)
            return
        }
        let act = activation
        let bounds = act.saturationBounds
        var sum: Double = 0, sq: Double = 0, mx: Float = stats?.pointee.max ?? -.infinity
        var zeros = 0, above = 0, sat = 0
        for r in 0..<rows {
            let row = out + r * st
            var rs: Float = 0, rq: Float = 0
            for j in 0..<cols {
                let a = act.apply(row[j] + bias[j])
                row[j] = a
                if stats != nil {
                    rs += a; rq += a * a
                    if a > mx { mx = a }
                    if a == 0 { zeros += 1 }
                    if a > 1 { above += 1 }
                    if let bounds, a < bounds.low || a > bounds.high { sat += 1 }
                }
            }
            sum += Double(rs); sq += Double(rq)
        }
        guard let stats else { return }
        stats.pointee.sum += sum; stats.pointee.sumSquares += sq; stats.pointee.max = mx
        stats.pointee.zeros += zeros; stats.pointee.aboveOne += above; stats.pointee.saturated += sat
        stats.pointee.values += rows * cols; stats.pointee.samples += rows
        stats.pointee.unitMax.withUnsafeMutableBufferPointer { um in
            for r in 0..<rows {
                let row = out + r * st
                for j in 0..<cols where row[j] > um[unit0 + j] { um[unit0 + j] = row[j] }
            }
        }
    }

    /// The hot path: relu blocks whose width is a multiple of 16.
    func reluRows(_ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int, stride st: Int, unit0: Int,
                  bias: UnsafePointer<Float>, stats: UnsafeMutablePointer<StatsAccumulator>?) {
        typealias V = SIMD16<Float>
        let ro = UnsafeMutableRawPointer(out), rb = UnsafeRawPointer(bias)
        guard let stats else {
            for r in 0..<rows {
                for j in Swift.stride(from: 0, to: cols, by: 16) {
                    let off = (r * st + j) * 4
                    let z = ro.loadUnaligned(fromByteOffset: off, as: V.self) + rb.loadUnaligned(fromByteOffset: j * 4, as: V.self)
                    ro.storeBytes(of: z.replacing(with: 0, where: z .< 0), toByteOffset: off, as: V.self)
                }
            }
            return
        }
        var sum: Double = 0, sq: Double = 0
        var vmax = V(repeating: -.infinity)
        var zeros = SIMD16<Int32>(), above = SIMD16<Int32>()
        let one = SIMD16<Int32>(repeating: 1), zeroI = SIMD16<Int32>()
        stats.pointee.unitMax.withUnsafeMutableBufferPointer { umb in
            let rum = UnsafeMutableRawPointer(umb.baseAddress! + unit0)
            for r in 0..<rows {
                var vs = V(), vq = V()
                for j in Swift.stride(from: 0, to: cols, by: 16) {
                    let off = (r * st + j) * 4
                    var z = ro.loadUnaligned(fromByteOffset: off, as: V.self) + rb.loadUnaligned(fromByteOffset: j * 4, as: V.self)
                    z.replace(with: 0, where: z .< 0)
                    ro.storeBytes(of: z, toByteOffset: off, as: V.self)
                    vs += z; vq += z * z
                    vmax.replace(with: z, where: z .> vmax)
                    zeros &+= zeroI.replacing(with: one, where: z .== 0)
                    above &+= zeroI.replacing(with: one, where: z .> 1)
                    let um = rum.loadUnaligned(fromByteOffset: j * 4, as: V.self)
                    rum.storeBytes(of: um.replacing(with: z, where: z .> um), toByteOffset: j * 4, as: V.self)
                }
                sum += Double(vs.sum()); sq += Double(vq.sum())
            }
        }
        var mx = stats.pointee.max
        for i in 0..<16 where vmax[i] > mx { mx = vmax[i] }
        stats.pointee.sum += sum; stats.pointee.sumSquares += sq; stats.pointee.max = mx
        stats.pointee.zeros += Int(zeros.wrappedSum()); stats.pointee.aboveOne += Int(above.wrappedSum())
        stats.pointee.values += rows * cols; stats.pointee.samples += rows
    }
}

/// Softmax of `rows` rows of logits in place; cross-entropy against `labels` with predictions clipped to
/// [ε, 1−ε] (as Keras does); accuracy; the count of outputs below ε / above 1−ε. With `delta`, writes
/// ∂(mean loss)/∂logits = (p − y)/rows there.
func softmaxCrossEntropy(_ out: UnsafeMutablePointer<Float>, labels: UnsafePointer<Int32>, delta d: UnsafeMutablePointer<Float>?,
                         rows: Int, classes n: Int, epsilon: Float) -> LossResult {
    var res = LossResult()
    let invRows = 1 / Float(rows)
    let hiLimit = 1 - epsilon
    for r in 0..<rows {
        let row = out + r * n
        var mx = row[0], arg = 0
        for j in 1..<max(n, 1) where row[j] > mx { mx = row[j]; arg = j }
        var s: Float = 0
        for j in 0..<n { let e = _expf(row[j] - mx); row[j] = e; s += e }
        let inv = 1 / s
        for j in 0..<n {
            let p = row[j] * inv
            row[j] = p
            if p < epsilon { res.low += 1 } else if p > hiLimit { res.high += 1 }
        }
        let y = Int(labels[r])
        let py = min(max(row[y], epsilon), hiLimit)
        res.lossSum -= Double(_logf(py))
        if arg == y { res.correct += 1 }
        if let d {
            let dr = d + r * n
            for j in 0..<n { dr[j] = row[j] * invRows }
            dr[y] -= invRows
        }
    }
    return res
}
