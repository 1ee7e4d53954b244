import XCTest
import PreflightEngine

/// Float64 reference of a network with batch normalisation before every hidden activation: forward only, over a
/// whole batch at once (in training the batch statistics tie the rows together). Its finite differences check
/// the engine's gradients; its evaluation mode (running statistics) checks `Network.forward`.
struct ReferenceNormMLP {
    var sizes: [Int]
    var activation: Activation
    var params: [Double]
    var ranges: [(weights: Range<Int>, bias: Range<Int>)]
    var normRanges: [(gamma: Range<Int>, beta: Range<Int>)]
    let eps = Double(Network.normEpsilon)

    init(_ net: Network) {
        sizes = net.sizes; activation = net.activation; params = net.parameterArray.map(Double.init)
        ranges = net.ranges; normRanges = net.normRanges
    }

    func act(_ z: Double) -> Double {
        ReferenceMLP(sizes: sizes, activation: activation, params: [], ranges: []).act(z)
    }

    /// Each hidden layer's pre-activations z (bias included, before the normalisation) and the logits, rows × width.
    /// `running[h]`: hidden layer h's (mean, variance) for evaluation; nil: each unit's batch mean and biased
    /// variance. `scale(h, r, u)`: dropout's factor after the activation.
    func forward(x: [Double], rows: Int, running: [([Double], [Double])]? = nil,
                 scale: ((Int, Int, Int) -> Double)? = nil) -> (pre: [[[Double]]], logits: [[Double]]) {
        var a = (0..<rows).map { r in Array(x[(r * sizes[0])..<((r + 1) * sizes[0])]) }
        var pre: [[[Double]]] = []
        for l in 0..<(sizes.count - 1) {
            let nIn = sizes[l], nOut = sizes[l + 1]
            var z = [[Double]](repeating: [Double](repeating: 0, count: nOut), count: rows)
            for r in 0..<rows {
                for j in 0..<nOut {
                    var s = params[ranges[l].bias.lowerBound + j]
                    for i in 0..<nIn { s += a[r][i] * params[ranges[l].weights.lowerBound + i * nOut + j] }
                    z[r][j] = s
                }
            }
            guard l < sizes.count - 2 else { return (pre, z) }
            pre.append(z)
            for j in 0..<nOut {
                let mean: Double, variance: Double
                if let running { mean = running[l].0[j]; variance = running[l].1[j] } else {
                    mean = (0..<rows).reduce(0.0) { $0 + z[$1][j] } / Double(rows)
                    variance = (0..<rows).reduce(0.0) { $0 + (z[$1][j] - mean) * (z[$1][j] - mean) } / Double(rows)
                }
                let g = params[normRanges[l].gamma.lowerBound + j], b = params[normRanges[l].beta.lowerBound + j]
                for r in 0..<rows {
                    let y = g * (z[r][j] - mean) / (variance + eps).squareRoot() + b
                    z[r][j] = act(y) * (scale?(l, r, j) ?? 1)
                }
            }
            a = z
        }
        fatalError("unreachable")
    }

    /// Mean cross-entropy over the batch (no clipping: the tests keep the probabilities inside (ε, 1−ε)).
    func loss(x: [Double], labels: [Int], rows: Int, running: [([Double], [Double])]? = nil,
              scale: ((Int, Int, Int) -> Double)? = nil) -> Double {
        let logits = forward(x: x, rows: rows, running: running, scale: scale).logits
        var total = 0.0
        for r in 0..<rows {
            let m = logits[r].max()!
            total += m + log(logits[r].map { exp($0 - m) }.reduce(0, +)) - logits[r][labels[r]]
        }
        return total / Double(rows)
    }
}

/// Batch normalisation (`Network(…, batchNorm: true)`): Keras' BatchNormalization before every hidden activation.
final class BatchNormTests: XCTestCase {
    /// A network with batch normalisation, γ and β moved away from 1 and 0 (so that a term of the backward pass
    /// missing for them shows), small non-zero biases.
    func network(_ sizes: [Int], _ activation: Activation, seed: UInt64 = 7) -> Network {
        let net = Network(sizes: sizes, activation: activation, batchNorm: true)
        net.initialize(Array(repeating: .glorot, count: net.layerCount), seed: seed)
        for l in 0..<net.layerCount { let b = net.bias(l); for i in b.indices { b[i] = Float(i % 3) * 0.05 - 0.02 } }
        for h in 0..<net.hiddenCount {
            let g = net.gamma(h), b = net.beta(h)
            for i in g.indices { g[i] = 0.6 + 0.15 * Float(i % 5); b[i] = 0.1 * Float(i % 4) - 0.15 }
        }
        return net
    }

    func randomSet(rows: Int, features: Int, classes: Int, zeros: Double = 0, seed: UInt64 = 3) -> (SampleSet, [Double], [Int]) {
        var rng = Xoshiro(seed: seed)
        let pixels = (0..<(rows * features)).map { _ -> UInt8 in
            let b = UInt8(rng.below(256))
            return Double(rng.below(1000)) < zeros * 1000 ? 0 : b
        }
        let labels = (0..<rows).map { UInt8($0 % classes) }
        let set = SampleSet(pixels: pixels, labels: labels, count: rows, features: features, scale: 1 / 255)
        return (set, pixels.map { Double(Float($0) * (1 / 255 as Float)) }, labels.map(Int.init))
    }

    /// The training step's gradients (the probe's: batch statistics, no update) of every parameter — weights,
    /// biases, γ and β — against central differences of the Float64 reference. The weights and biases below a
    /// normalised layer check the delta the normalisation passes down (∂L/∂z), γ and β their own terms.
    /// Returns the worst relative error.
    @discardableResult
    func check(_ activation: Activation, sizes: [Int], rows: Int, zeros: Double = 0, path: InputPath? = nil,
               dropout: Float? = nil, file: StaticString = #filePath, line: UInt = #line) -> Double {
        let net = network(sizes, activation)
        let (set, x, y) = randomSet(rows: rows, features: sizes[0], classes: sizes.last!, zeros: zeros)
        let seed: UInt64 = 5, step: UInt64 = 17
        let trainer = Trainer(network: net, optimizer: .sgd(lr: 0.1, momentum: 0), seed: seed)
        trainer.inputPath = path
        trainer.dropout = dropout
        let before = net.parameterArray, runningBefore = net.runningStatistics
        let order = trainer.peekOrder(count: rows).map(Int.init)
        var rowOf = [Int](repeating: 0, count: rows)
        for (i, r) in order.enumerated() { rowOf[r] = i }
        let probe = trainer.probe(set, batch: rows, epsilon: 1e-7, dropoutStep: dropout == nil ? nil : step)
        if let path { XCTAssertEqual(trainer.lastInputPath, path, file: file, line: line) }
        XCTAssertEqual(net.parameterArray, before, "the probe updates nothing", file: file, line: line)
        XCTAssertEqual(net.runningStatistics, runningBefore, "the probe leaves the running statistics alone", file: file, line: line)
        let analytic = Array(UnsafeBufferPointer(start: net.grads, count: net.paramCount))
        let scale: ((Int, Int, Int) -> Double)? = dropout.map { rate in { l, r, u in
            DropoutMask.kept(seed: seed, step: step, layer: l, row: rowOf[r], unit: u, rate: rate) ? 1 / Double(1 - rate) : 0
        } }
        let ref = ReferenceNormMLP(net)
        XCTAssertEqual(probe.loss, ref.loss(x: x, labels: y, rows: rows, scale: scale), accuracy: 1e-5,
                       "the first-batch record's loss is the batch-statistics network's", file: file, line: line)
        let h = 1e-6
        var worst = 0.0, worstAt = 0
        for p in 0..<net.paramCount {
            var plus = ref, minus = ref
            plus.params[p] += h; minus.params[p] -= h
            let numeric = (plus.loss(x: x, labels: y, rows: rows, scale: scale) - minus.loss(x: x, labels: y, rows: rows, scale: scale)) / (2 * h)
            let err = abs(numeric - Double(analytic[p])) / max(1e-3, abs(numeric) + abs(Double(analytic[p])))
            if err > worst { worst = err; worstAt = p }
        }
        XCTAssertLessThan(worst, 2e-3, "\(activation) \(sizes): worst relative gradient error \(worst) at parameter \(worstAt)", file: file, line: line)
        // The γ and β gradients are not trivially small (the check above would pass a zero for a zero).
        for nr in net.normRanges {
            XCTAssertGreaterThan(nr.gamma.map { abs(Double(analytic[$0])) }.max()!, 1e-3, file: file, line: line)
            XCTAssertGreaterThan(nr.beta.map { abs(Double(analytic[$0])) }.max()!, 1e-3, file: file, line: line)
        }
        return worst
    }

    func testReluGradients() { check(.relu, sizes: [6, 5, 4, 3], rows: 6) }
    func testTanhGradientsDeepOddWidths() { check(.tanh, sizes: [9, 7, 5, 3, 4], rows: 6) }
    func testSigmoidGradients() { check(.sigmoid, sizes: [8, 6, 4], rows: 5) }
    /// Width 16 and 32 take the vectorised relu path; a unit alone in its partition.
    func testWideReluAndOneUnitGradients() {
        check(.relu, sizes: [20, 16, 32, 5], rows: 7)
        check(.leakyRelu, sizes: [10, 1, 5, 3], rows: 5)
    }
    /// The sparse products of layer 0 feed the normalisation like the dense ones.
    func testSparsePathGradients() {
        check(.relu, sizes: [20, 35, 6, 4], rows: 6, zeros: 0.8)
        check(.elu, sizes: [12, 9, 4, 3], rows: 5, path: .sparse)
    }
    /// Dropout after the activation of a normalised layer: the mask, then the activation, then the normalisation
    /// on the way back.
    func testGradientsWithDropout() {
        check(.relu, sizes: [6, 5, 4, 3], rows: 6, dropout: 0.3)
        check(.tanh, sizes: [9, 7, 5, 3, 4], rows: 6, dropout: 0.5)
    }

    /// A batch's hidden pre-activations (bias included) under fixed weights: the reference's, in Float64.
    func batchMoments(_ net: Network, x: [Double], rows: Int) -> [(mean: [Double], variance: [Double])] {
        ReferenceNormMLP(net).forward(x: x, rows: rows).pre.map { z in
            let n = z[0].count
            let mean = (0..<n).map { j in z.reduce(0.0) { $0 + $1[j] } / Double(rows) }
            let variance = (0..<n).map { j in z.reduce(0.0) { $0 + ($1[j] - mean[j]) * ($1[j] - mean[j]) } / Double(rows) }
            return (mean, variance)
        }
    }

    /// The running statistics start at mean 0, variance 1 and after each training step move as
    /// running = 0.99·running + 0.01·batch, with the batch's biased variance. A learning rate of 0 keeps the
    /// weights fixed, so each batch's statistics can be computed by hand; three batches of different samples.
    func testRunningStatisticsFollowTheMomentumFormula() {
        let sizes = [8, 6, 5, 3]
        let net = network(sizes, .relu)
        for h in 0..<net.hiddenCount {
            XCTAssertTrue(net.movingMean(h).allSatisfy { $0 == 0 } && net.movingVariance(h).allSatisfy { $0 == 1 })
        }
        let rows = 30, batch = 10
        let (set, x, _) = randomSet(rows: rows, features: sizes[0], classes: sizes.last!)
        let trainer = Trainer(network: net, optimizer: .sgd(lr: 0, momentum: 0), seed: 2)
        let order = trainer.peekOrder(count: rows).map(Int.init)
        var expected: [(mean: [Double], variance: [Double])] = (0..<net.hiddenCount).map { h in
            (Array(repeating: 0, count: sizes[h + 1]), Array(repeating: 1, count: sizes[h + 1]))
        }
        let m = Double(Network.normMomentum)
        for b in 0..<(rows / batch) {
            let samples = order[(b * batch)..<((b + 1) * batch)]
            let bx = samples.flatMap { x[($0 * sizes[0])..<(($0 + 1) * sizes[0])] }
            for (h, s) in batchMoments(net, x: bx, rows: batch).enumerated() {
                for j in s.mean.indices {
                    expected[h].mean[j] = m * expected[h].mean[j] + (1 - m) * s.mean[j]
                    expected[h].variance[j] = m * expected[h].variance[j] + (1 - m) * s.variance[j]
                }
            }
        }
        let weights = net.parameterArray
        trainer.threads = 1
        XCTAssertNotNil(trainer.trainEpoch(set, test: nil, batch: batch, epsilon: 1e-7))
        XCTAssertEqual(net.parameterArray, weights, "a rate of 0 keeps the weights")
        var moved = 0.0
        for h in 0..<net.hiddenCount {
            for j in 0..<sizes[h + 1] {
                XCTAssertEqual(Double(net.movingMean(h)[j]), expected[h].mean[j], accuracy: 1e-6, "layer \(h) unit \(j) mean")
                XCTAssertEqual(Double(net.movingVariance(h)[j]), expected[h].variance[j], accuracy: 1e-6, "layer \(h) unit \(j) variance")
                moved = max(moved, abs(expected[h].mean[j]) + abs(expected[h].variance[j] - 1))
            }
        }
        XCTAssertGreaterThan(moved, 1e-3, "the statistics moved measurably")
    }

    /// Evaluation (test metrics) normalises with the running statistics: the loss `evaluate` gives is the
    /// reference's with the running statistics, and clearly not the one with the batch's own statistics (what
    /// the training step and the first-batch record use).
    func testEvaluationUsesTheRunningStatistics() {
        let train = blobSet(count: 120, seed: 11), test = blobSet(count: 40, seed: 12)
        let net = Network(sizes: [32, 20, 12, 4], activation: .relu, batchNorm: true)
        net.initialize(Array(repeating: .glorot, count: 3), seed: 4)
        let t = Trainer(network: net, optimizer: .adam(lr: 0.01), seed: 4)
        t.evalBatch = 16   // several evaluation passes: the running statistics make rows independent
        XCTAssertNotNil(t.trainEpoch(train, test: nil, batch: 24, epsilon: 1e-7))
        let x = (0..<test.count).flatMap { i in (0..<32).map { Double(Float(test.pixels[i * 32 + $0]) * (1 / 255 as Float)) } }
        let y = (0..<test.count).map { Int(test.labels[$0]) }
        let ref = ReferenceNormMLP(net)
        let running = (0..<net.hiddenCount).map { h in (net.movingMean(h).map(Double.init), net.movingVariance(h).map(Double.init)) }
        let e = t.evaluate(test, epsilon: 1e-7)
        let withRunning = ref.loss(x: x, labels: y, rows: test.count, running: running)
        let withBatch = ref.loss(x: x, labels: y, rows: test.count)
        XCTAssertEqual(e.loss, withRunning, accuracy: 1e-5)
        XCTAssertGreaterThan(abs(withBatch - withRunning), 0.01, "batch statistics would give another loss")
        // By hand for one unit: the first test sample's first hidden unit, as Keras' inference computes it.
        let z = (0..<32).reduce(Double(net.bias(0)[0])) { $0 + x[$1] * Double(net.weights(0)[$1 * 20]) }
        let yHand = Double(net.gamma(0)[0]) * (z - Double(net.movingMean(0)[0])) / (Double(net.movingVariance(0)[0]) + 1e-3).squareRoot()
            + Double(net.beta(0)[0])
        let ws = Workspace(sizes: net.sizes, capacity: 1)
        ws.load(test, order: nil, start: 0, rows: 1)
        net.forward(ws, rows: 1)
        XCTAssertEqual(Double(ws.acts[0][0]), max(yHand, 0), accuracy: 1e-5)
        // Layer 0's sparse products feed the same normalisation at evaluation.
        t.inputPath = .sparse
        XCTAssertEqual(t.evaluate(test, epsilon: 1e-7).loss, withRunning, accuracy: 1e-5)
    }

    /// Without batch normalisation nothing changes: no γ/β parameters, no running statistics.
    func testOffAddsNothing() {
        let a = Network(sizes: [10, 8, 3], activation: .relu), b = Network(sizes: [10, 8, 3], activation: .relu, batchNorm: false)
        XCTAssertEqual(a.paramCount, 10 * 8 + 8 + 8 * 3 + 3)
        XCTAssertEqual(a.paramCount, b.paramCount)
        XCTAssertTrue(a.normRanges.isEmpty && a.runningStatistics.isEmpty)
        let c = Network(sizes: [10, 8, 6, 3], activation: .relu, batchNorm: true)
        XCTAssertEqual(c.paramCount, 10 * 8 + 8 + 8 * 6 + 6 + 6 * 3 + 3 + 2 * (8 + 6), "γ and β of each hidden unit")
        XCTAssertEqual(c.runningStatistics.count, 2 * (8 + 6))
        XCTAssertFalse(Network(sizes: [10, 3], activation: .relu, batchNorm: true).batchNorm, "no hidden layer, nothing to normalise")
    }

    /// l2 and AdamW's decay leave γ and β alone: with a zero gradient they stay where they are while the weights shrink.
    func testNoDecayOnGammaAndBeta() {
        let net = network([6, 5, 3], .relu)
        for kind: OptimizerKind in [.adamw(lr: 0.1, weightDecay: 0.5), .sgd(lr: 0.1, momentum: 0)] {
            let opt = Optimizer(kind: kind, count: net.paramCount, biasRanges: net.ranges.map(\.bias),
                                normRanges: net.normRanges.flatMap { [$0.gamma, $0.beta] })
            opt.l2 = 0.5
            var p = net.parameterArray
            let g = [Float](repeating: 0, count: net.paramCount)
            p.withUnsafeMutableBufferPointer { pb in g.withUnsafeBufferPointer { gb in
                opt.step(params: pb.baseAddress!, grads: gb.baseAddress!, layerRanges: net.ranges, measures: nil)
                opt.apply(params: pb.baseAddress!, grads: gb.baseAddress!, range: net.normRanges[0].gamma, rate: opt.stepRate(opt.steps), measure: nil)
                opt.apply(params: pb.baseAddress!, grads: gb.baseAddress!, range: net.normRanges[0].beta, rate: opt.stepRate(opt.steps), measure: nil)
            } }
            let before = net.parameterArray
            for r in [net.normRanges[0].gamma, net.normRanges[0].beta] { XCTAssertEqual(Array(p[r]), Array(before[r]), "\(kind)") }
            XCTAssertNotEqual(Array(p[net.ranges[0].weights]), Array(before[net.ranges[0].weights]), "\(kind): the weights decay")
        }
    }

    /// One and two threads (and a switch between them) give bit-identical records, weights, γ, β, optimiser
    /// state and running statistics: each partition normalises its own units. With dropout, clipping and
    /// AdamW + l2 too, and on the sparse path.
    func testOneAndTwoThreadsAreBitIdentical() {
        let train = blobSet(count: 250, seed: 11), test = blobSet(count: 70, seed: 12)
        func trained(_ sizes: [Int], _ kind: OptimizerKind, threads: [Int], train: SampleSet, test: SampleSet,
                     dropout: Float? = nil, clip: Float? = nil, l2: Double = 0) -> Trainer {
            let net = Network(sizes: sizes, activation: .relu, batchNorm: true)
            net.initialize(Array(repeating: .glorot, count: sizes.count - 1), seed: 13)
            let t = Trainer(network: net, optimizer: kind, seed: 13)
            t.dropout = dropout; t.clipNorm = clip; t.optimizer.l2 = l2
            t.measureEvery = 2
            for n in threads { t.threads = n; XCTAssertNotNil(t.trainEpoch(train, test: test, batch: 32, epsilon: 1e-7)) }
            return t
        }
        func same(_ a: Trainer, _ b: Trainer, _ what: String) {
            XCTAssertEqual(a.epochs.map(\.trainLoss.bitPattern), b.epochs.map(\.trainLoss.bitPattern), what)
            XCTAssertEqual(a.epochs.map(\.testLoss), b.epochs.map(\.testLoss), what)
            XCTAssertEqual(a.epochs.map(\.hidden), b.epochs.map(\.hidden), what)
            XCTAssertEqual(a.epochs.map(\.layers), b.epochs.map(\.layers), what)
            XCTAssertEqual(a.firstBatch, b.firstBatch, what)
            XCTAssertEqual(a.network.parameterArray.map(\.bitPattern), b.network.parameterArray.map(\.bitPattern), "\(what): parameters")
            XCTAssertEqual(a.network.runningStatistics.map(\.bitPattern), b.network.runningStatistics.map(\.bitPattern), "\(what): running statistics")
            XCTAssertEqual(a.optimizer.mArray.map(\.bitPattern), b.optimizer.mArray.map(\.bitPattern), "\(what): m")
            XCTAssertEqual(a.optimizer.vArray.map(\.bitPattern), b.optimizer.vArray.map(\.bitPattern), "\(what): v")
        }
        let cases: [([Int], OptimizerKind, Float?, Float?, Double)] = [
            ([32, 35, 17, 4], .adam(lr: 0.01), nil, nil, 0),
            ([32, 48, 35, 19, 4], .sgd(lr: 0.05, momentum: 0.9), nil, nil, 0),
            ([32, 1, 5, 4], .rmsprop(lr: 0.003), nil, nil, 0),
            ([32, 35, 17, 4], .adam(lr: 0.01), 0.3, nil, 0),
            ([32, 48, 35, 19, 4], .adamw(lr: 0.01, weightDecay: 0.01), nil, 0.5, 1e-3),
        ]
        for (sizes, kind, drop, clip, l2) in cases {
            let one = trained(sizes, kind, threads: [1, 1], train: train, test: test, dropout: drop, clip: clip, l2: l2)
            let two = trained(sizes, kind, threads: [2, 2], train: train, test: test, dropout: drop, clip: clip, l2: l2)
            let mixed = trained(sizes, kind, threads: [2, 1], train: train, test: test, dropout: drop, clip: clip, l2: l2)
            let what = "\(sizes) \(kind) dropout \(drop ?? 0) clip \(clip ?? 0)"
            same(one, two, what)
            same(one, mixed, what + ", switching")
            XCTAssertTrue(one.epochs.allSatisfy { $0.trainLoss.isFinite }, what)
            XCTAssertNotEqual(one.network.runningStatistics, Network(sizes: sizes, activation: .relu, batchNorm: true).runningStatistics, what)
        }
        let sparseTrain = sparseBlobSet(count: 250, seed: 21, features: 48), sparseTest = sparseBlobSet(count: 60, seed: 22, features: 48)
        let one = trained([48, 150, 17, 4], .adam(lr: 0.005), threads: [1, 1], train: sparseTrain, test: sparseTest)
        let two = trained([48, 150, 17, 4], .adam(lr: 0.005), threads: [2, 2], train: sparseTrain, test: sparseTest)
        XCTAssertEqual(two.lastInputPath, .sparse)
        same(one, two, "sparse")
    }

    /// Batch normalisation trains: a few epochs on the blobs reach a good test accuracy, and the network's copy
    /// carries γ, β and the running statistics (it evaluates the same).
    func testTrainsAndCopies() {
        let train = blobSet(count: 400, seed: 31), test = blobSet(count: 100, seed: 32)
        let net = Network(sizes: [32, 24, 16, 4], activation: .relu, batchNorm: true)
        net.initialize(Array(repeating: .truncnormal(0.5), count: 3), seed: 3)
        let t = Trainer(network: net, optimizer: .adam(lr: 0.01), seed: 3)
        for _ in 0..<4 { t.trainEpoch(train, test: test, batch: 20, epsilon: 1e-7) }
        XCTAssertGreaterThan(t.epochs.last!.testAccuracy!, 0.9)
        let copy = net.copy()
        XCTAssertTrue(copy.batchNorm)
        XCTAssertEqual(copy.parameterArray, net.parameterArray)
        XCTAssertEqual(copy.runningStatistics, net.runningStatistics)
        let u = Trainer(network: copy, optimizer: .adam(lr: 0.01), seed: 3)
        XCTAssertEqual(u.evaluate(test, epsilon: 1e-7).loss, t.evaluate(test, epsilon: 1e-7).loss)
    }
}
