#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Optimiser settings. Constants follow Keras: Adam β1 0.9, β2 0.999, ε 1e-7; RMSprop ρ 0.9, ε 1e-7.
public enum OptimizerKind: Sendable, Equatable, Codable, CustomStringConvertible {
    case sgd(lr: Double, momentum: Double)
    case adam(lr: Double)
    case rmsprop(lr: Double)

    public var name: String {
        switch self { case .sgd: return "sgd"; case .adam: return "adam"; case .rmsprop: return "rmsprop" }
    }
    public var learningRate: Double {
        switch self { case .sgd(let lr, _), .adam(let lr), .rmsprop(let lr): return lr }
    }
    public var description: String {
        switch self {
        case .sgd(let lr, let m): return m == 0 ? "sgd \(formatParam(lr))" : "sgd \(formatParam(lr)) momentum \(formatParam(m))"
        case .adam(let lr): return "adam \(formatParam(lr))"
        case .rmsprop(let lr): return "rmsprop \(formatParam(lr))"
        }
    }
    public static let names = ["sgd", "adam", "rmsprop"]
}

/// Per-layer measurements taken during one optimiser step (when asked for): ‖g‖², ‖Δw‖², ‖w‖² over the layer's weights.
public struct StepMeasure: Sendable {
    public var gradSquared: Double = 0
    public var updateSquared: Double = 0
    public var weightSquared: Double = 0
    public init() {}
}

/// Optimiser state over one flat parameter vector (all weights and biases of a network).
public final class Optimizer {
    public let kind: OptimizerKind
    public let count: Int
    /// Steps taken so far (Adam's bias correction uses it).
    public private(set) var steps: Int = 0
    /// First moment (Adam) or velocity (SGD momentum); zero-length use for plain SGD.
    public let m: UnsafeMutablePointer<Float>
    /// Second moment (Adam, RMSprop).
    public let v: UnsafeMutablePointer<Float>

    public static let beta1: Float = 0.9, beta2: Float = 0.999, adamEpsilon: Float = 1e-7
    public static let rho: Float = 0.9, rmsEpsilon: Float = 1e-7

    public init(kind: OptimizerKind, count: Int) {
        self.kind = kind
        self.count = count
        m = alignedFloats(count)
        v = alignedFloats(count)
    }
    deinit { m.deallocate(); v.deallocate() }

    /// Restores state saved earlier (save/load).
    public func restore(steps: Int, m mState: [Float], v vState: [Float]) {
        precondition(mState.count == count && vState.count == count)
        self.steps = steps
        mState.withUnsafeBufferPointer { m.update(from: $0.baseAddress!, count: count) }
        vState.withUnsafeBufferPointer { v.update(from: $0.baseAddress!, count: count) }
    }
    public var mArray: [Float] { Array(UnsafeBufferPointer(start: m, count: count)) }
    public var vArray: [Float] { Array(UnsafeBufferPointer(start: v, count: count)) }

    /// One update of `params` from `grads` over `range`; `lrt` is the step's `stepRate` (Adam's bias-corrected rate).
    /// When `measure` is non-nil, ‖g‖², ‖Δw‖² and ‖w‖² (before the update) over the range are added to it.
    /// `m` and `v` are the state arrays indexed like `params` (this optimiser's own, or a thread's private copy).
    @inline(__always)
    func update(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                v: UnsafeMutablePointer<Float>, range: Range<Int>, rate lrt: Float, measure: UnsafeMutablePointer<StepMeasure>?) {
        let lo = range.lowerBound, hi = range.upperBound
        switch kind {
        case .sgd(let lrD, let momD):
            let lr = Float(lrD), mom = Float(momD)
            if let measure {
                var g2: Double = 0, d2: Double = 0, w2: Double = 0
                for i in lo..<hi {
                    let g = grads[i], w = params[i]
                    let d: Float
                    if mom != 0 { m[i] = mom * m[i] - lr * g; d = m[i] } else { d = -lr * g }
                    params[i] = w + d
                    g2 += Double(g * g); d2 += Double(d * d); w2 += Double(w * w)
                }
                measure.pointee.gradSquared += g2; measure.pointee.updateSquared += d2; measure.pointee.weightSquared += w2
            } else if mom != 0 {
                for i in lo..<hi { let d = mom * m[i] - lr * grads[i]; m[i] = d; params[i] += d }
            } else {
                for i in lo..<hi { params[i] -= lr * grads[i] }
            }
        case .adam:
            let b1 = Self.beta1, b2 = Self.beta2, eps = Self.adamEpsilon
            // Keras: lr_t = lr·√(1−β2^t)/(1−β1^t); w −= lr_t·m/(√v + ε)
            let c1 = 1 - b1, c2 = 1 - b2
            if let measure {
                var g2: Double = 0, d2: Double = 0, w2: Double = 0
                for i in lo..<hi {
                    let g = grads[i], w = params[i]
                    let mi = b1 * m[i] + c1 * g, vi = b2 * v[i] + c2 * g * g
                    m[i] = mi; v[i] = vi
                    let d = -lrt * mi / (vi.squareRoot() + eps)
                    params[i] = w + d
                    g2 += Double(g * g); d2 += Double(d * d); w2 += Double(w * w)
                }
                measure.pointee.gradSquared += g2; measure.pointee.updateSquared += d2; measure.pointee.weightSquared += w2
            } else {
                adamLoop(params: params, grads: grads, m: m, v: v, lo: lo, hi: hi, lrt: lrt)
            }
        case .rmsprop(let lrD):
            let lr = Float(lrD), rho = Self.rho, c = 1 - Self.rho, eps = Self.rmsEpsilon
            var g2: Double = 0, d2: Double = 0, w2: Double = 0
            for i in lo..<hi {
                let g = grads[i], w = params[i]
                let vi = rho * v[i] + c * g * g
                v[i] = vi
                let d = -lr * g / (vi.squareRoot() + eps)
                params[i] = w + d
                if measure != nil { g2 += Double(g * g); d2 += Double(d * d); w2 += Double(w * w) }
            }
            if let measure {
                measure.pointee.gradSquared += g2; measure.pointee.updateSquared += d2; measure.pointee.weightSquared += w2
            }
        }
    }

    /// Adam's bias-corrected rate lr·√(1−β2^t)/(1−β1^t) for step t (Keras' form).
    public func stepRate(_ t: Int) -> Float {
        Float(kind.learningRate * (1 - pow(Double(Self.beta2), Double(t))).squareRoot() / (1 - pow(Double(Self.beta1), Double(t))))
    }

    /// The hot Adam loop, 16 lanes at a time.
    @inline(__always)
    private func adamLoop(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                          v: UnsafeMutablePointer<Float>, lo: Int, hi: Int, lrt: Float) {
        typealias V = SIMD16<Float>
        let b1 = V(repeating: Self.beta1), b2 = V(repeating: Self.beta2)
        let c1 = V(repeating: 1 - Self.beta1), c2 = V(repeating: 1 - Self.beta2)
        let eps = V(repeating: Self.adamEpsilon), nlr = V(repeating: -lrt)
        var i = lo
        let raw = UnsafeMutableRawPointer(params), graw = UnsafeRawPointer(grads)
        let mraw = UnsafeMutableRawPointer(m), vraw = UnsafeMutableRawPointer(v)
        while i + 16 <= hi {
            let off = i * 4
            let g = graw.loadUnaligned(fromByteOffset: off, as: V.self)
            var mi = mraw.loadUnaligned(fromByteOffset: off, as: V.self)
            var vi = vraw.loadUnaligned(fromByteOffset: off, as: V.self)
            mi = b1 * mi + c1 * g
            vi = b2 * vi + c2 * g * g
            mraw.storeBytes(of: mi, toByteOffset: off, as: V.self)
            vraw.storeBytes(of: vi, toByteOffset: off, as: V.self)
            let w = raw.loadUnaligned(fromByteOffset: off, as: V.self)
            raw.storeBytes(of: w + nlr * mi / (vi.squareRoot() + eps), toByteOffset: off, as: V.self)
            i += 16
        }
        let s1 = Self.beta1, s2 = Self.beta2
        while i < hi {
            let g = grads[i]
            let mi = s1 * m[i] + (1 - s1) * g, vi = s2 * v[i] + (1 - s2) * g * g
            m[i] = mi; v[i] = vi
            params[i] -= lrt * mi / (vi.squareRoot() + Self.adamEpsilon)
            i += 1
        }
    }

    /// Starts a step: the ranges of this step are then updated with `apply` (possibly from several threads).
    public func beginStep() { steps += 1 }

    /// Updates one range of the current step (after `beginStep`).
    @inline(__always)
    /// `rate`: `stepRate(t)` of the step being applied, computed once by the caller (a step comes in many ranges).
    public func apply(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, range: Range<Int>,
                      rate: Float, measure: UnsafeMutablePointer<StepMeasure>?) {
        update(params: params, grads: grads, m: m, v: v, range: range, rate: rate, measure: measure)
    }

    /// Updates `count` parameters whose state lives in caller-owned arrays `m` and `v` (a training thread's
    /// private, contiguous copy of part of this optimiser's state; see TrainingStep). Same arithmetic as `apply`.
    @inline(__always)
    public func apply(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                      v: UnsafeMutablePointer<Float>, count: Int, rate: Float, measure: UnsafeMutablePointer<StepMeasure>?) {
        update(params: params, grads: grads, m: m, v: v, range: 0..<count, rate: rate, measure: measure)
    }

    /// Applies one step to every layer's parameter range; `measures` (one per layer, weights only) when measuring.
    public func step(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>,
                     layerRanges: [(weights: Range<Int>, bias: Range<Int>)], measures: UnsafeMutablePointer<StepMeasure>?) {
        beginStep()
        let rate = stepRate(steps)
        for (l, r) in layerRanges.enumerated() {
            apply(params: params, grads: grads, range: r.weights, rate: rate, measure: measures.map { $0 + l })
            apply(params: params, grads: grads, range: r.bias, rate: rate, measure: nil)
        }
    }
}
