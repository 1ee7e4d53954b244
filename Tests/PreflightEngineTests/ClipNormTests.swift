import XCTest
import PreflightEngine

/// Global gradient-norm clipping (`Trainer.clipNorm`).
final class ClipNormTests: XCTestCase {
    func trainer(_ sizes: [Int], _ kind: OptimizerKind, clip: Float?, seed: UInt64 = 21) -> Trainer {
        let net = Network(sizes: sizes, activation: .relu)
        net.initialize(Array(repeating: .glorot, count: sizes.count - 1), seed: seed)
        let t = Trainer(network: net, optimizer: kind, seed: seed)
        t.clipNorm = clip
        return t
    }

    /// One SGD step on one batch: the update is −lr·g·(c/‖g‖) when ‖g‖ > c, with g the raw gradient (what the
    /// probe computes with the same weights), ‖g‖ over every weight and bias; nothing changes when ‖g‖ ≤ c.
    func testOneStepScalesTheWholeGradientToTheLimit() {
        let set = blobSet(count: 40, seed: 5)
        for sizes in [[32, 19, 9, 4], [32, 4]] {
            let lr: Float = 0.1
            let probeTrainer = trainer(sizes, .sgd(lr: Double(lr), momentum: 0), clip: nil)
            _ = probeTrainer.probe(set, batch: 40, epsilon: 1e-7)
            let g = Array(UnsafeBufferPointer(start: probeTrainer.network.grads, count: probeTrainer.network.paramCount))
            let norm = g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            XCTAssertGreaterThan(norm, 0.05)
            let w0 = probeTrainer.network.parameterArray
            for clip in [Float(norm / 4), Float(norm * 2)] {
                let t = trainer(sizes, .sgd(lr: Double(lr), momentum: 0), clip: clip)
                t.threads = 2
                t.trainEpoch(set, test: nil, batch: 40, epsilon: 1e-7)   // one batch: one step
                let w1 = t.network.parameterArray
                let scale = min(1, Double(clip) / norm)
                var worst = 0.0
                for i in w0.indices {
                    let expected = Double(w0[i]) - Double(lr) * Double(g[i]) * scale
                    worst = max(worst, abs(Double(w1[i]) - expected))
                }
                XCTAssertLessThan(worst, 1e-6, "\(sizes), clip \(clip) (‖g‖ = \(norm)): worst weight error \(worst)")
                let moved = zip(w0, w1).reduce(0.0) { $0 + Double($1.1 - $1.0) * Double($1.1 - $1.0) }.squareRoot()
                XCTAssertEqual(moved, Double(lr) * min(Double(clip), norm), accuracy: 1e-3 * moved, "\(sizes): ‖Δw‖ = lr · min(c, ‖g‖)")
                // The first-batch record keeps the raw gradient's norms.
                XCTAssertEqual(t.firstBatch?.gradNorms, probeTrainer.probe(set, batch: 40, epsilon: 1e-7).gradNorms)
            }
        }
    }

    /// Clipping is the same on one and two threads, bit for bit, with every optimiser; a limit never reached
    /// trains exactly as no clipping; an active one changes training.
    func testClippingIsThreadIndependentAndOffWhenNotReached() {
        let train = blobSet(count: 250, seed: 11), test = blobSet(count: 70, seed: 12)
        for kind in ThreadIdentityTests.optimizers {
            var params: [[Float]] = []
            for clip: Float? in [0.3, 0.3, nil, 1e6] {
                let t = trainer([32, 35, 17, 4], kind, clip: clip)
                t.threads = params.count == 1 ? 2 : 1
                t.measureEvery = 2
                for _ in 0..<2 { t.trainEpoch(train, test: test, batch: 32, epsilon: 1e-7) }
                params.append(t.network.parameterArray)
            }
            XCTAssertEqual(params[0].map(\.bitPattern), params[1].map(\.bitPattern), "\(kind): one and two threads")
            XCTAssertEqual(params[2], params[3], "\(kind): a limit never reached")
            XCTAssertNotEqual(params[0], params[2], "\(kind): clipping at 0.3 changes training")
        }
    }

    /// The recorded gradient norms of a clipped step are the clipped gradients' (each layer's raw norm times
    /// c/‖g‖), on one and two threads; the first-batch record keeps the raw ones.
    func testRecordedNormsAreTheClippedGradients() {
        let set = blobSet(count: 40, seed: 7)
        let sizes = [32, 19, 9, 4]
        let probe = trainer(sizes, .adam(lr: 0.01), clip: nil)
        let raw = probe.probe(set, batch: 40, epsilon: 1e-7).gradNorms
        let all = Array(UnsafeBufferPointer(start: probe.network.grads, count: probe.network.paramCount))
        let norm = all.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let clip = Float(norm / 3)
        for threads in [1, 2] {
            let t = trainer(sizes, .adam(lr: 0.01), clip: clip)
            t.threads = threads
            let rec = t.trainEpoch(set, test: nil, batch: 40, epsilon: 1e-7)!   // one batch: one measured step
            XCTAssertEqual(t.firstBatch!.gradNorms, raw, "threads \(threads)")
            for (l, r) in rec.layers.enumerated() {
                XCTAssertEqual(r.gradNorm, raw[l] * Double(clip) / norm, accuracy: 1e-5 * raw[l], "threads \(threads), layer \(l)")
            }
        }
    }
}
