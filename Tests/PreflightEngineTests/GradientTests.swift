import XCTest
import PreflightEngine

/// Float64 reference of the same network: forward only; its finite differences check the engine's gradients.
struct ReferenceMLP {
    var sizes: [Int]
    var activation: Activation
    var params: [Double]
    var ranges: [(weights: Range<Int>, bias: Range<Int>)]

    func act(_ z: Double) -> Double {
        switch activation {
        case .relu: return max(z, 0)
        case .tanh: return Foundation.tanh(z)
        case .sigmoid: return 1 / (1 + exp(-z))
        case .leakyRelu: return z > 0 ? z : Double(Activation.leakySlope) * z
        case .elu: return z > 0 ? z : Double(Activation.eluAlpha) * (exp(z) - 1)
        case .linear: return z
        }
    }

    /// Mean cross-entropy over the rows (no clipping: the test keeps probabilities well inside (ε, 1−ε)).
    /// `scale(l, r, u)`: dropout's factor for unit u of hidden layer l in row r (0 or 1/(1 − rate)), or nil for none.
    func loss(x: [Double], labels: [Int], rows: Int, scale: ((Int, Int, Int) -> Double)? = nil) -> Double {
        var total = 0.0
        for r in 0..<rows {
            var a = Array(x[(r * sizes[0])..<((r + 1) * sizes[0])])
            for l in 0..<(sizes.count - 1) {
                let nIn = sizes[l], nOut = sizes[l + 1]
                var z = [Double](repeating: 0, count: nOut)
                for j in 0..<nOut {
                    var s = params[ranges[l].bias.lowerBound + j]
                    for i in 0..<nIn { s += a[i] * params[ranges[l].weights.lowerBound + i * nOut + j] }
                    z[j] = s
                }
                a = l < sizes.count - 2 ? z.map(act) : z
                if let scale, l < sizes.count - 2 { for u in a.indices { a[u] *= scale(l, r, u) } }
            }
            let m = a.max()!
            let lse = m + log(a.map { exp($0 - m) }.reduce(0, +))
            total += lse - a[labels[r]]
        }
        return total / Double(rows)
    }
}

final class GradientTests: XCTestCase {
    /// `zeros`: the share of input bytes set to zero (with `path` nil, the data's density chooses the path of
    /// layer 0's products; a path forces it).
    func check(_ activation: Activation, sizes: [Int] = [6, 5, 4, 3], rows: Int = 4, zeros: Double = 0, path: InputPath? = nil,
               file: StaticString = #filePath, line: UInt = #line) {
        let net = Network(sizes: sizes, activation: activation)
        net.initialize(Array(repeating: .glorot, count: net.layerCount), seed: 7)
        // Small non-zero biases so relu kinks are unlikely to sit exactly at a test point.
        for l in 0..<net.layerCount { let b = net.bias(l); for i in b.indices { b[i] = Float(i % 3) * 0.05 - 0.02 } }
        var rng = Xoshiro(seed: 3)
        let features = sizes[0]
        let pixels = (0..<(rows * features)).map { _ -> UInt8 in
            let b = UInt8(rng.below(256))
            return Double(rng.below(1000)) < zeros * 1000 ? 0 : b
        }
        let labels = (0..<rows).map { UInt8($0 % sizes.last!) }
        let set = SampleSet(pixels: pixels, labels: labels, count: rows, features: features, scale: 1 / 255)
        // The training step's own gradients: the probe runs its forward and backward passes over one batch
        // (all `rows` samples, in shuffled order: the mean loss does not depend on it) without updating.
        let trainer = Trainer(network: net, optimizer: .sgd(lr: 0.1, momentum: 0), seed: 5)
        trainer.inputPath = path
        let before = net.parameterArray
        let probe = trainer.probe(set, batch: rows, epsilon: 1e-7)
        let expected = path ?? (set.density < InputPath.sparseBelowDensity ? .sparse : .dense)
        XCTAssertEqual(trainer.lastInputPath, expected, "the path taken", file: file, line: line)
        XCTAssertEqual(net.parameterArray, before, "the probe updates nothing")
        let analytic = Array(UnsafeBufferPointer(start: net.grads, count: net.paramCount))

        let ref = ReferenceMLP(sizes: sizes, activation: activation, params: net.parameterArray.map(Double.init), ranges: net.ranges)
        let x = pixels.map { Double(Float($0) * (1 / 255 as Float)) }
        let y = labels.map(Int.init)
        let h = 1e-6
        var worst = 0.0
        for p in 0..<net.paramCount {
            var plus = ref, minus = ref
            plus.params[p] += h; minus.params[p] -= h
            let numeric = (plus.loss(x: x, labels: y, rows: rows) - minus.loss(x: x, labels: y, rows: rows)) / (2 * h)
            let err = abs(numeric - Double(analytic[p])) / max(1e-3, abs(numeric) + abs(Double(analytic[p])))
            worst = max(worst, err)
        }
        XCTAssertLessThan(worst, 2e-3, "\(activation): worst relative gradient error \(worst)", file: file, line: line)
        // And the engine's loss agrees with the Float64 reference: the step's, and the evaluation pass's.
        let ws = Workspace(sizes: sizes, capacity: rows)
        ws.load(set, order: nil, start: 0, rows: rows, path: trainer.path(for: set))
        let engineLoss = { () -> Double in
            net.forward(ws, rows: rows)
            return net.softmaxLoss(ws, rows: rows, epsilon: 1e-7).lossSum / Double(rows)
        }()
        let refLoss = ref.loss(x: x, labels: y, rows: rows)
        XCTAssertEqual(engineLoss, refLoss, accuracy: 1e-5, file: file, line: line)
        XCTAssertEqual(probe.loss, refLoss, accuracy: 1e-5, file: file, line: line)
    }

    /// Through the sparse products of layer 0: sparse data (chosen by its density), with widths whose
    /// partitions take the kernels' 16-column blocks and single columns (SparseTests checks the 64-column
    /// block's sums bit for bit), a forced sparse path on dense data, and other activations.
    func testSparsePathGradients() {
        check(.relu, sizes: [20, 35, 6, 4], rows: 6, zeros: 0.8)
        check(.tanh, sizes: [30, 7, 5, 3], rows: 5, zeros: 0.7)
        check(.relu, sizes: [12, 35, 6, 4], rows: 4, path: .sparse)
        check(.elu, sizes: [25, 9, 4, 3, 4], rows: 5, zeros: 0.9)
    }
    /// A dense data set forced onto the sparse path still checks; sparse data forced onto the dense path too.
    func testForcedDensePathOnSparseData() { check(.relu, sizes: [40, 33, 9, 5], rows: 6, zeros: 0.8, path: .dense) }

    func testReluGradients() { check(.relu) }
    func testTanhGradients() { check(.tanh) }
    func testSigmoidGradients() { check(.sigmoid) }
    func testLeakyReluGradients() { check(.leakyRelu) }
    func testEluGradients() { check(.elu) }
    func testLinearGradients() { check(.linear) }
    /// Width 16 takes the vectorised relu path.
    func testWideReluGradients() { check(.relu, sizes: [20, 16, 32, 5], rows: 7) }
    func testSingleLayerSoftmaxGradients() { check(.relu, sizes: [8, 3], rows: 5) }
    /// Three hidden layers of odd widths: partitions of unequal size, deltas gathered from both partitions' blocks.
    func testDeepOddWidthGradients() { check(.tanh, sizes: [9, 7, 5, 3, 4], rows: 6) }
    /// A hidden layer of one unit: partition 0 of it is empty.
    func testOneUnitLayerGradients() { check(.leakyRelu, sizes: [10, 1, 5, 3], rows: 5) }

    func testLossClipsPredictionsLikeKeras() {
        // A confident wrong prediction costs −ln(ε), not infinity.
        let net = Network(sizes: [1, 2], activation: .relu)
        net.weights(0)[0] = 0; net.weights(0)[1] = 0
        net.bias(0)[0] = 100; net.bias(0)[1] = -100
        let set = SampleSet(pixels: [0], labels: [1], count: 1, features: 1, scale: 1)
        let ws = Workspace(sizes: [1, 2], capacity: 1)
        ws.load(set, order: nil, start: 0, rows: 1)
        net.forward(ws, rows: 1)
        let r = net.softmaxLoss(ws, rows: 1, epsilon: 1e-7)
        XCTAssertEqual(r.lossSum, -log(Double(Float(1e-7))), accuracy: 1e-4)
        XCTAssertEqual(r.low, 1); XCTAssertEqual(r.high, 1)
    }
}
