/// A multilayer perceptron: dense layers, one hidden activation, softmax output.
/// All parameters live in one flat buffer (weights of layer 0, its bias, weights of layer 1, …) so the
/// optimiser makes one pass over them; gradients use the same layout.
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

    public init(sizes: [Int], activation: Activation) {
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
        paramCount = off
        params = alignedFloats(off)
        grads = alignedFloats(off)
    }
    deinit { params.deallocate(); grads.deallocate() }

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
    }

    public var parameterArray: [Float] { Array(UnsafeBufferPointer(start: params, count: paramCount)) }
    public func setParameters(_ a: [Float]) {
        precondition(a.count == paramCount)
        a.withUnsafeBufferPointer { params.update(from: $0.baseAddress!, count: paramCount) }
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
