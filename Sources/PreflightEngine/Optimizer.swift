#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Optimiser settings. Constants follow Keras: Adam β1 0.9, β2 0.999, ε 1e-7; RMSprop ρ 0.9, ε 1e-7.
/// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter): every parameter, weights and biases, is
/// multiplied by 1 − lr·wd each step, lr being the step's scheduled rate (torch.optim.AdamW's form; default wd 0.01).
public enum OptimizerKind: Sendable, Equatable, Codable, CustomStringConvertible {
    case sgd(lr: Double, momentum: Double)
    case adam(lr: Double)
    case rmsprop(lr: Double)
    case adamw(lr: Double, weightDecay: Double)

    /// torch.optim.AdamW's default weight decay.
    public static let defaultWeightDecay = 0.01

    public var name: String {
        switch self { case .sgd: return "sgd"; case .adam: return "adam"; case .rmsprop: return "rmsprop"; case .adamw: return "adamw" }
    }
    public var learningRate: Double {
        switch self { case .sgd(let lr, _), .adam(let lr), .rmsprop(let lr), .adamw(let lr, _): return lr }
    }
    /// AdamW's decoupled weight decay; 0 for the others.
    public var weightDecay: Double {
        if case .adamw(_, let wd) = self { return wd }
        return 0
    }
    /// Whether the step's rate carries Adam's bias correction.
    var biasCorrected: Bool {
        switch self { case .adam, .adamw: return true; default: return false }
    }
    /// The same optimiser with another learning rate.
    public func withLearningRate(_ lr: Double) -> OptimizerKind {
        switch self {
        case .sgd(_, let m): return .sgd(lr: lr, momentum: m)
        case .adam: return .adam(lr: lr)
        case .rmsprop: return .rmsprop(lr: lr)
        case .adamw(_, let wd): return .adamw(lr: lr, weightDecay: wd)
        }
    }
    public var description: String {
        switch self {
        case .sgd(let lr, let m): return m == 0 ? "sgd \(formatParam(lr))" : "sgd \(formatParam(lr)) momentum \(formatParam(m))"
        case .adam(let lr): return "adam \(formatParam(lr))"
        case .rmsprop(let lr): return "rmsprop \(formatParam(lr))"
        case .adamw(let lr, let wd): return "adamw \(formatParam(lr)) \(formatParam(wd))"
        }
    }
    public static let names = ["sgd", "adam", "rmsprop", "adamw"]
}

/// A learning-rate schedule over the planned epochs: the step's rate is the optimiser's learning rate times
/// `factor(epoch:planned:)`, constant within an epoch.
public enum Schedule: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The learning rate throughout.
    case none
    /// The rate times `factor` every `every` epochs: lr·factor^⌊e/every⌋ for 0-based epoch e (Keras' step decay).
    case step(every: Int, factor: Double)
    /// Half a cosine from lr down towards 0 over the planned epochs E: lr·(1 + cos(π·e/E))/2 for 0-based epoch e
    /// (torch's CosineAnnealingLR with T_max = E, η_min = 0, stepped once per epoch). Epochs beyond the plan keep
    /// the last planned epoch's rate.
    case cosine

    /// The multiplier of the learning rate in 0-based epoch `epoch` of a plan of `planned` epochs (≤ 0: unknown,
    /// taken as 1 epoch).
    public func factor(epoch: Int, planned: Int) -> Double {
        switch self {
        case .none: return 1
        case .step(let every, let f): return pow(f, Double(max(epoch, 0) / max(every, 1)))
        case .cosine:
            let E = max(planned, 1), e = min(max(epoch, 0), E - 1)
            return 0.5 * (1 + cos(Double.pi * Double(e) / Double(E)))
        }
    }

    /// As the `schedule` command takes it: "none", "step 10 0.5", "cosine".
    public var description: String {
        switch self {
        case .none: return "none"
        case .step(let n, let f): return "step \(n) \(formatParam(f))"
        case .cosine: return "cosine"
        }
    }
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

    /// L2 regularisation of the weights (never the biases), Keras' kernel_regularizer=l2(L): the loss gains
    /// L·Σw², so each weight's gradient gains 2·L·w before the optimiser uses it. 0: off.
    public var l2: Double = 0
    /// The learning-rate schedule and the epochs it is planned over (0: not planned yet; see `Schedule`).
    public var schedule: Schedule = .none
    public var plannedEpochs = 0
    /// The 0-based epoch now training: the trainer sets it at the start of each epoch (the schedule reads it).
    public var epoch = 0
    /// The bias ranges of the parameter vector: the parts l2 leaves alone.
    public let biasRanges: [Range<Int>]
    /// Batch normalisation's γ and β ranges: neither l2 nor AdamW's decoupled decay touch them (Keras puts no
    /// regulariser on them by default; decaying γ towards 0 would only shrink what the normalisation restores).
    public let normRanges: [Range<Int>]

    /// `biasRanges`: where the biases lie in the parameter vector (l2 skips them); empty: every range is weights.
    /// `normRanges`: γ and β of batch normalisation (no l2, no decay).
    public init(kind: OptimizerKind, count: Int, biasRanges: [Range<Int>] = [], normRanges: [Range<Int>] = []) {
        self.kind = kind
        self.count = count
        self.biasRanges = biasRanges
        self.normRanges = normRanges
        m = alignedFloats(count)
        v = alignedFloats(count)
    }

    /// The schedule's multiplier for the current epoch.
    public var scheduleFactor: Double { schedule.factor(epoch: epoch, planned: plannedEpochs) }

    /// 2·L for weight ranges, 0 for bias ranges (a range lies wholly in one or the other).
    @inline(__always)
    private func l2Coefficient(_ range: Range<Int>) -> Float {
        guard l2 != 0, !range.isEmpty else { return 0 }
        for b in biasRanges where b.contains(range.lowerBound) { return 0 }
        return Float(2 * l2)
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
    /// `l2c`: 2·L for weights under l2 (added to each gradient as l2c·w), else 0. The learning rate used by
    /// SGD and RMSprop is `lrt` too (the scheduled rate), and AdamW's decay multiplies by 1 − lr·schedule·wd.
    /// `decay`: whether AdamW's decoupled decay applies (not to batch normalisation's γ and β); without it
    /// AdamW's update is Adam's.
    /// `gradScale`: every gradient is multiplied by it (in Float) before use (global-norm clipping; 1: as given).
    @inline(__always)
    func update(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                v: UnsafeMutablePointer<Float>, range: Range<Int>, rate lrt: Float, l2c: Float,
                measure: UnsafeMutablePointer<StepMeasure>?, decay: Bool = true, gradScale gs: Float = 1) {
        let lo = range.lowerBound, hi = range.upperBound
        if l2c != 0 || (decay && kind.weightDecay != 0) {
            if measure == nil, kind.biasCorrected {
                let keep = Float(1 - kind.learningRate * scheduleFactor * kind.weightDecay)
                adamRegularizedLoop(params: params, grads: grads, m: m, v: v, lo: lo, hi: hi, lrt: lrt, l2c: l2c, keep: keep, gs: gs)
                return
            }
            regularizedUpdate(params: params, grads: grads, m: m, v: v, lo: lo, hi: hi, lrt: lrt, l2c: l2c, measure: measure, gs: gs)
            return
        }
        switch kind {
        case .sgd(_, let momD):
            let lr = lrt, mom = Float(momD)
            if let measure {
                var g2: Double = 0, d2: Double = 0, w2: Double = 0
                for i in lo..<hi {
                    let g = grads[i] * gs, w = params[i]
                    let d: Float
                    if mom != 0 { m[i] = mom * m[i] - lr * g; d = m[i] } else { d = -lr * g }
                    params[i] = w + d
                    g2 += Double(g * g); d2 += Double(d * d); w2 += Double(w * w)
                }
                measure.pointee.gradSquared += g2; measure.pointee.updateSquared += d2; measure.pointee.weightSquared += w2
            } else if mom != 0 {
                for i in lo..<hi { let d = mom * m[i] - lr * (grads[i] * gs); m[i] = d; params[i] += d }
            } else {
                for i in lo..<hi { params[i] -= lr * (grads[i] * gs) }
            }
        case .adam, .adamw:
            let b1 = Self.beta1, b2 = Self.beta2, eps = Self.adamEpsilon
            // Keras: lr_t = lr·√(1−β2^t)/(1−β1^t); w −= lr_t·m/(√v + ε)
            let c1 = 1 - b1, c2 = 1 - b2
            if let measure {
                var g2: Double = 0, d2: Double = 0, w2: Double = 0
                for i in lo..<hi {
                    let g = grads[i] * gs, w = params[i]
                    let mi = b1 * m[i] + c1 * g, vi = b2 * v[i] + c2 * g * g
                    m[i] = mi; v[i] = vi
                    let d = -lrt * mi / (vi.squareRoot() + eps)
                    params[i] = w + d
                    g2 += Double(g * g); d2 += Double(d * d); w2 += Double(w * w)
                }
                measure.pointee.gradSquared += g2; measure.pointee.updateSquared += d2; measure.pointee.weightSquared += w2
            } else {
                adamLoop(params: params, grads: grads, m: m, v: v, lo: lo, hi: hi, lrt: lrt, gs: gs)
            }
        case .rmsprop:
            let lr = lrt, rho = Self.rho, c = 1 - Self.rho, eps = Self.rmsEpsilon
            var g2: Double = 0, d2: Double = 0, w2: Double = 0
            for i in lo..<hi {
                let g = grads[i] * gs, w = params[i]
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

    /// The rate of step t: the learning rate times the schedule's factor for the current epoch; for Adam and
    /// AdamW also bias-corrected, lr·√(1−β2^t)/(1−β1^t) (Keras' form).
    public func stepRate(_ t: Int) -> Float {
        let lr = kind.learningRate * scheduleFactor
        guard kind.biasCorrected else { return Float(lr) }
        return Float(lr * (1 - pow(Double(Self.beta2), Double(t))).squareRoot() / (1 - pow(Double(Self.beta1), Double(t))))
    }

    /// The update with l2 and/or AdamW's decoupled decay: g' = g + l2c·w; AdamW w' = w·(1 − lr·s·wd) − step.
    /// One scalar loop for every optimiser (the plain updates keep their own loops).
    private func regularizedUpdate(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                                   v: UnsafeMutablePointer<Float>, lo: Int, hi: Int, lrt: Float, l2c: Float,
                                   measure: UnsafeMutablePointer<StepMeasure>?, gs: Float) {
        var g2: Double = 0, d2: Double = 0, w2: Double = 0
        let measuring = measure != nil
        switch kind {
        case .sgd(_, let momD):
            let mom = Float(momD)
            for i in lo..<hi {
                let w = params[i], g = grads[i] * gs + l2c * w
                let d: Float
                if mom != 0 { m[i] = mom * m[i] - lrt * g; d = m[i] } else { d = -lrt * g }
                params[i] = w + d
                if measuring { g2 += Double(g * g); d2 += Double(d * d); w2 += Double(w * w) }
            }
        case .rmsprop:
            let rho = Self.rho, c = 1 - Self.rho, eps = Self.rmsEpsilon
            for i in lo..<hi {
                let w = params[i], g = grads[i] * gs + l2c * w
                let vi = rho * v[i] + c * g * g
                v[i] = vi
                let d = -lrt * g / (vi.squareRoot() + eps)
                params[i] = w + d
                if measuring { g2 += Double(g * g); d2 += Double(d * d); w2 += Double(w * w) }
            }
        case .adam, .adamw:
            let b1 = Self.beta1, b2 = Self.beta2, c1 = 1 - b1, c2 = 1 - b2, eps = Self.adamEpsilon
            let keep = Float(1 - kind.learningRate * scheduleFactor * kind.weightDecay)
            for i in lo..<hi {
                let w = params[i], g = grads[i] * gs + l2c * w
                let mi = b1 * m[i] + c1 * g, vi = b2 * v[i] + c2 * g * g
                m[i] = mi; v[i] = vi
                let nw = keep * w - lrt * mi / (vi.squareRoot() + eps)
                params[i] = nw
                if measuring { let d = nw - w; g2 += Double(g * g); d2 += Double(d * d); w2 += Double(w * w) }
            }
        }
        if let measure {
            measure.pointee.gradSquared += g2; measure.pointee.updateSquared += d2; measure.pointee.weightSquared += w2
        }
    }

    /// The hot Adam loop, 16 lanes at a time.
    @inline(__always)
    private func adamLoop(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                          v: UnsafeMutablePointer<Float>, lo: Int, hi: Int, lrt: Float, gs: Float) {
        typealias V = SIMD16<Float>
        let b1 = V(repeating: Self.beta1), b2 = V(repeating: Self.beta2)
        let c1 = V(repeating: 1 - Self.beta1), c2 = V(repeating: 1 - Self.beta2)
        let eps = V(repeating: Self.adamEpsilon), nlr = V(repeating: -lrt), sv = V(repeating: gs)
        var i = lo
        let raw = UnsafeMutableRawPointer(params), graw = UnsafeRawPointer(grads)
        let mraw = UnsafeMutableRawPointer(m), vraw = UnsafeMutableRawPointer(v)
        while i + 16 <= hi {
            let off = i * 4
            let g = graw.loadUnaligned(fromByteOffset: off, as: V.self) * sv
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
            let g = grads[i] * gs
            let mi = s1 * m[i] + (1 - s1) * g, vi = s2 * v[i] + (1 - s2) * g * g
            m[i] = mi; v[i] = vi
            params[i] -= lrt * mi / (vi.squareRoot() + Self.adamEpsilon)
            i += 1
        }
    }

    /// Adam/AdamW with l2 and/or decoupled decay, 16 lanes at a time (the same arithmetic as `regularizedUpdate`):
    /// g' = g + l2c·w; w' = keep·w − lrt·m/(√v + ε).
    @inline(__always)
    private func adamRegularizedLoop(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                                     v: UnsafeMutablePointer<Float>, lo: Int, hi: Int, lrt: Float, l2c: Float, keep: Float, gs: Float) {
        typealias V = SIMD16<Float>
        let b1 = V(repeating: Self.beta1), b2 = V(repeating: Self.beta2)
        let c1 = V(repeating: 1 - Self.beta1), c2 = V(repeating: 1 - Self.beta2)
        let eps = V(repeating: Self.adamEpsilon), lr = V(repeating: lrt), l2v = V(repeating: l2c), kv = V(repeating: keep)
        let sv = V(repeating: gs)
        var i = lo
        let raw = UnsafeMutableRawPointer(params), graw = UnsafeRawPointer(grads)
        let mraw = UnsafeMutableRawPointer(m), vraw = UnsafeMutableRawPointer(v)
        while i + 16 <= hi {
            let off = i * 4
            let w = raw.loadUnaligned(fromByteOffset: off, as: V.self)
            let g = graw.loadUnaligned(fromByteOffset: off, as: V.self) * sv + l2v * w
            var mi = mraw.loadUnaligned(fromByteOffset: off, as: V.self)
            var vi = vraw.loadUnaligned(fromByteOffset: off, as: V.self)
            mi = b1 * mi + c1 * g
            vi = b2 * vi + c2 * g * g
            mraw.storeBytes(of: mi, toByteOffset: off, as: V.self)
            vraw.storeBytes(of: vi, toByteOffset: off, as: V.self)
            raw.storeBytes(of: kv * w - lr * mi / (vi.squareRoot() + eps), toByteOffset: off, as: V.self)
            i += 16
        }
        let s1 = Self.beta1, s2 = Self.beta2
        while i < hi {
            let w = params[i], g = grads[i] * gs + l2c * w
            let mi = s1 * m[i] + (1 - s1) * g, vi = s2 * v[i] + (1 - s2) * g * g
            m[i] = mi; v[i] = vi
            params[i] = keep * w - lrt * mi / (vi.squareRoot() + Self.adamEpsilon)
            i += 1
        }
    }

    /// Starts a step: the ranges of this step are then updated with `apply` (possibly from several threads).
    public func beginStep() { steps += 1 }

    /// Updates one range of the current step (after `beginStep`).
    @inline(__always)
    /// `rate`: `stepRate(t)` of the step being applied, computed once by the caller (a step comes in many ranges).
    /// `gradScale`: the gradients' factor (global-norm clipping), applied as each is read.
    public func apply(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, range: Range<Int>,
                      rate: Float, measure: UnsafeMutablePointer<StepMeasure>?, gradScale: Float = 1) {
        if !normRanges.isEmpty, !range.isEmpty, normRanges.contains(where: { $0.contains(range.lowerBound) }) {
            update(params: params, grads: grads, m: m, v: v, range: range, rate: rate, l2c: 0, measure: measure, decay: false,
                   gradScale: gradScale)
            return
        }
        update(params: params, grads: grads, m: m, v: v, range: range, rate: rate, l2c: l2Coefficient(range), measure: measure,
               gradScale: gradScale)
    }

    /// Updates `count` parameters whose state lives in caller-owned arrays `m` and `v` (a training thread's
    /// private, contiguous copy of part of this optimiser's state; see TrainingStep). Same arithmetic as `apply`.
    /// `weights`: whether the copy holds weights (l2 applies) or biases.
    @inline(__always)
    public func apply(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                      v: UnsafeMutablePointer<Float>, count: Int, rate: Float, measure: UnsafeMutablePointer<StepMeasure>?,
                      weights: Bool = true, gradScale: Float = 1) {
        update(params: params, grads: grads, m: m, v: v, range: 0..<count, rate: rate,
               l2c: weights && l2 != 0 ? Float(2 * l2) : 0, measure: measure, gradScale: gradScale)
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
