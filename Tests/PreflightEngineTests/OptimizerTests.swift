import XCTest
import PreflightEngine

final class OptimizerTests: XCTestCase {
    /// One parameter (plus 16 more to exercise the vectorised Adam loop), two steps, values by hand.
    func run(_ kind: OptimizerKind, grads gs: [Float], start w0: Float, count: Int = 1) -> [Float] {
        let opt = Optimizer(kind: kind, count: count)
        var p = [Float](repeating: w0, count: count)
        var out: [Float] = []
        for g in gs {
            let grads = [Float](repeating: g, count: count)
            p.withUnsafeMutableBufferPointer { pb in
                grads.withUnsafeBufferPointer { gb in
                    opt.step(params: pb.baseAddress!, grads: gb.baseAddress!,
                             layerRanges: [(weights: 0..<count, bias: count..<count)], measures: nil)
                }
            }
            out.append(p[count - 1])
            XCTAssertTrue(p.allSatisfy { $0 == p[0] }, "every lane updates alike")
        }
        return out
    }

    func testSGD() {
        let w = run(.sgd(lr: 0.1, momentum: 0), grads: [2, -1], start: 1)
        XCTAssertEqual(w[0], 0.8, accuracy: 1e-6); XCTAssertEqual(w[1], 0.9, accuracy: 1e-6)
    }

    func testSGDMomentumKerasForm() {
        // v = m·v − lr·g ; w += v
        let w = run(.sgd(lr: 0.1, momentum: 0.9), grads: [1, 1], start: 0)
        XCTAssertEqual(w[0], -0.1, accuracy: 1e-7)
        XCTAssertEqual(w[1], -0.1 + (0.9 * -0.1 - 0.1), accuracy: 1e-6)
    }

    func testAdamFirstStepsByHand() {
        // Step 1: m = 0.1·g, v = 0.001·g², lr_t = lr·√(1−β2)/(1−β1) ⇒ Δ = −lr_t·m/(√v+ε) ≈ −lr·sign(g).
        for count in [1, 33] {
            let w = run(.adam(lr: 0.01), grads: [0.5, -0.25], start: 1, count: count)
            let g1 = 0.5, g2 = -0.25, lr = 0.01
            var m = 0.1 * g1, v = 0.001 * g1 * g1
            var lrt = lr * (1 - 0.999).squareRoot() / (1 - 0.9)
            let w1 = 1 - lrt * m / (v.squareRoot() + 1e-7)
            m = 0.9 * m + 0.1 * g2; v = 0.999 * v + 0.001 * g2 * g2
            lrt = lr * (1 - 0.999 * 0.999).squareRoot() / (1 - 0.9 * 0.9)
            let w2 = w1 - lrt * m / (v.squareRoot() + 1e-7)
            XCTAssertEqual(Double(w[0]), w1, accuracy: 1e-6)
            XCTAssertEqual(Double(w[1]), w2, accuracy: 1e-6)
        }
    }

    func testRMSprop() {
        let w = run(.rmsprop(lr: 0.01), grads: [2], start: 0)
        let v = 0.1 * 4.0
        XCTAssertEqual(Double(w[0]), -0.01 * 2 / (v.squareRoot() + 1e-7), accuracy: 1e-7)
    }

    func testMeasuredStepEqualsUnmeasuredStepAndReportsNorms() {
        let a = Optimizer(kind: .adam(lr: 0.001), count: 40), b = Optimizer(kind: .adam(lr: 0.001), count: 40)
        var pa = (0..<40).map { Float($0) * 0.01 }, pb = pa
        let g = (0..<40).map { Float($0 % 7) - 3 }
        var measures = [StepMeasure()]
        pa.withUnsafeMutableBufferPointer { p in g.withUnsafeBufferPointer { gg in
            a.step(params: p.baseAddress!, grads: gg.baseAddress!, layerRanges: [(0..<40, 40..<40)], measures: &measures) } }
        pb.withUnsafeMutableBufferPointer { p in g.withUnsafeBufferPointer { gg in
            b.step(params: p.baseAddress!, grads: gg.baseAddress!, layerRanges: [(0..<40, 40..<40)], measures: nil) } }
        XCTAssertEqual(pa, pb)
        XCTAssertEqual(measures[0].gradSquared, g.map { Double($0 * $0) }.reduce(0, +), accuracy: 1e-9)
        XCTAssertGreaterThan(measures[0].updateSquared, 0)
    }

    /// A gradient scale (global-norm clipping) acts as if the gradients had been multiplied by it beforehand, bit
    /// for bit, with every optimiser, with l2, measured or not (the measures then see the scaled gradients).
    func testGradScaleEqualsPrescaledGradients() {
        let kinds: [OptimizerKind] = [.sgd(lr: 0.1, momentum: 0), .sgd(lr: 0.05, momentum: 0.9), .adam(lr: 0.01),
                                      .rmsprop(lr: 0.003), .adamw(lr: 0.01, weightDecay: 0.02)]
        let n = 40, scale: Float = 0.37
        let g = (0..<n).map { Float($0 % 7) * 0.3 - 1 }
        let scaled = g.map { $0 * scale }
        for kind in kinds {
            for l2 in [0.0, 1e-3] {
                for measured in [false, true] {
                    var params: [[Float]] = [], states: [[Float]] = [], norms: [Double] = []
                    for (grads, factor) in [(g, scale), (scaled, Float(1))] {
                        let o = Optimizer(kind: kind, count: n)
                        o.l2 = l2
                        var p = (0..<n).map { Float($0) * 0.01 - 0.2 }
                        var m = [StepMeasure()]
                        for _ in 0..<3 {   // three steps, so that moments and velocities carry over
                            o.beginStep()
                            let rate = o.stepRate(o.steps)
                            p.withUnsafeMutableBufferPointer { pp in grads.withUnsafeBufferPointer { gg in m.withUnsafeMutableBufferPointer { mm in
                                o.apply(params: pp.baseAddress!, grads: gg.baseAddress!, range: 0..<n, rate: rate,
                                        measure: measured ? mm.baseAddress! : nil, gradScale: factor)
                            } } }
                        }
                        params.append(p); states.append(o.mArray + o.vArray); norms.append(m[0].gradSquared)
                    }
                    let what = "\(kind), l2 \(l2), measured \(measured)"
                    XCTAssertEqual(params[0].map(\.bitPattern), params[1].map(\.bitPattern), what)
                    XCTAssertEqual(states[0].map(\.bitPattern), states[1].map(\.bitPattern), what)
                    XCTAssertEqual(norms[0], norms[1], what)
                    if measured { XCTAssertGreaterThan(norms[0], 0, what) }
                }
            }
        }
    }
}
