/// A multilayer perceptron: dense layers, one hidden activation, softmax output.
/// All parameters live in one flat buffer (weights of layer 0, its bias, weights of layer 1, …, then, with
/// batch normalisation, each hidden layer's γ and β) so the optimiser makes one pass over them; gradients use
/// the same layout.
public final class Network {
    /// Layer widths: input, hidden…, output (e.g. [784, 128, 128, 10]).
    public let sizes: [Int]
    public let activation: Activation
    public var layerCount: Int { sizes.count - 1 }
    public var hiddenCount: Int { sizes.count - 2 }
    public let paramCount: Int
    /// Offsets of each layer's weights (fan_in × fan_out, row-major) and bias (fan_out) in `params`.
    public let ranges: [(weights: Range<Int>, bias: Range<Int>)]
    public let params: UnsafeMutablePointer<Float>
    public let grads: UnsafeMutablePointer<Float>

    /// Batch normalisation (Keras' BatchNormalization with its defaults) of every hidden layer's pre-activations,
    /// per unit, before the activation; never the output layer. In training each unit's pre-activation z (the
    /// dense layer's output, bias included) is normalised by the batch's mean μ and biased variance σ²:
    /// x̂ = (z − μ)/√(σ² + ε), then y = γ·x̂ + β goes through the activation; at evaluation μ and σ² are the
    /// running statistics instead. γ (starting at 1) and β (at 0) are trained like the other parameters (they
    /// follow the layers in `params`, see `normRanges`); the running mean (starting at 0) and variance (at 1)
    /// move by `normMomentum` after each training step: running = 0.99·running + 0.01·batch, with the batch's
    /// biased variance (as Keras computes it; torch would use the unbiased one).
    public let batchNorm: Bool
    /// ε added to the variance (Keras' default) and the running statistics' momentum (Keras' default).
    public static let normEpsilon: Float = 1e-3
    public static let normMomentum: Float = 0.99
    /// Offsets of hidden layer h's γ and β (n_h each) in `params`; empty without batch normalisation.
    public let normRanges: [(gamma: Range<Int>, beta: Range<Int>)]
    /// Hidden layer h's running mean and variance (n_h each); empty without batch normalisation.
    public let runningMean: [UnsafeMutablePointer<Float>]
    public let runningVariance: [UnsafeMutablePointer<Float>]

    public init(sizes: [Int], activation: Activation, batchNorm: Bool = false) {
        precondition(sizes.count >= 2 && sizes.allSatisfy { $0 > 0 })
        self.sizes = sizes
        self.activation = activation
        var r: [(Range<Int>, Range<Int>)] = []
        var off = 0
        for l in 0..<(sizes.count - 1) {
            let w = off..<(off + sizes[l] * sizes[l + 1]); off = w.upperBound
            let b = off..<(off + sizes[l + 1]); off = b.upperBound
            r.append((w, b))
        }
        ranges = r.map { (weights: $0.0, bias: $0.1) }
        let hidden = Array(sizes.dropFirst().dropLast())
        self.batchNorm = batchNorm && !hidden.isEmpty
        var nr: [(gamma: Range<Int>, beta: Range<Int>)] = []
        if self.batchNorm {
            for n in hidden {
                let g = off..<(off + n); off = g.upperBound
                let b = off..<(off + n); off = b.upperBound
                nr.append((gamma: g, beta: b))
            }
        }
        normRanges = nr
        runningMean = self.batchNorm ? hidden.map { alignedFloats($0) } : []
        runningVariance = self.batchNorm ? hidden.map { n in let p = alignedFloats(n); p.update(repeating: 1, count: n); return p } : []
        paramCount = off
        params = alignedFloats(off)
        grads = alignedFloats(off)
        for g in nr { params.advanced(by: g.gamma.lowerBound).update(repeating: 1, count: g.gamma.count) }
    }
    deinit { params.deallocate(); grads.deallocate(); (runningMean + runningVariance).forEach { $0.deallocate() } }

    /// Hidden layer h's γ, β, running mean and running variance (batch normalisation only).
    public func gamma(_ h: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: params + normRanges[h].gamma.lowerBound, count: normRanges[h].gamma.count)
    }
    public func beta(_ h: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: params + normRanges[h].beta.lowerBound, count: normRanges[h].beta.count)
    }
    public func movingMean(_ h: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: runningMean[h], count: sizes[h + 1])
    }
    public func movingVariance(_ h: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: runningVariance[h], count: sizes[h + 1])
    }
    /// The running statistics, hidden layer after hidden layer (mean then variance of each); empty without them.
    public var runningStatistics: [Float] {
        (0..<normRanges.count).flatMap { Array(movingMean($0)) + Array(movingVariance($0)) }
    }

    public func weights(_ l: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: params + ranges[l].weights.lowerBound, count: ranges[l].weights.count)
    }
    public func bias(_ l: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: params + ranges[l].bias.lowerBound, count: ranges[l].bias.count)
    }
    public func weightGrads(_ l: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: grads + ranges[l].weights.lowerBound, count: ranges[l].weights.count)
    }
    public func biasGrads(_ l: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: grads + ranges[l].bias.lowerBound, count: ranges[l].bias.count)
    }

    /// Draws every layer's weights (biases zero). `inits[l]` for layer l; the generator is seeded from `seed`
    /// and drawn layer after layer, so a per-layer override leaves the other layers' draws unchanged.
    public func initialize(_ inits: [Initializer], seed: UInt64) {
        precondition(inits.count == layerCount)
        for l in 0..<layerCount {
            var rng = Xoshiro(seed: seed, stream: 100 + UInt64(l))
            inits[l].fill(weights(l), fanIn: sizes[l], fanOut: sizes[l + 1], rng: &rng)
            let b = bias(l)
            for i in b.indices { b[i] = 0 }
        }
        // Batch normalisation starts as the identity on a standardised batch: γ 1, β 0, running mean 0, variance 1.
        for h in normRanges.indices {
            gamma(h).update(repeating: 1); beta(h).update(repeating: 0)
            movingMean(h).update(repeating: 0); movingVariance(h).update(repeating: 1)
        }
    }

    public var parameterArray: [Float] { Array(UnsafeBufferPointer(start: params, count: paramCount)) }
    public func setParameters(_ a: [Float]) {
        precondition(a.count == paramCount)
        a.withUnsafeBufferPointer { params.update(from: $0.baseAddress!, count: paramCount) }
    }
    /// Sets the running statistics from `runningStatistics`' layout.
    public func setRunningStatistics(_ a: [Float]) {
        precondition(a.count == runningStatistics.count)
        var i = 0
        for h in normRanges.indices {
            for buf in [movingMean(h), movingVariance(h)] { for j in buf.indices { buf[j] = a[i]; i += 1 } }
        }
    }

    /// A new network with the same shape and the same parameters and running statistics.
    public func copy() -> Network {
        let n = Network(sizes: sizes, activation: activation, batchNorm: batchNorm)
        n.setParameters(parameterArray)
        if batchNorm { n.setRunningStatistics(runningStatistics) }
        return n
    }
}

/// `n` zeroed floats starting on a cache-line boundary: buffers that two threads write in halves (split at
/// multiples of 16 floats) then never share a cache line.
func alignedFloats(_ n: Int) -> UnsafeMutablePointer<Float> {
    let count = max(n, 1)
    allocatedFloatCounter.add(count, ordering: .relaxed)   // TrainingMemory's tests count what training allocates
    let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
    let p = raw.bindMemory(to: Float.self, capacity: count)
    p.initialize(repeating: 0, count: count)
    return p
}
