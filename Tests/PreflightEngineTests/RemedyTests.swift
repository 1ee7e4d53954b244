import XCTest
import PreflightEngine

/// The optimiser-level remedies of issue 14: l2 (Keras' kernel_regularizer: loss + L·Σw² over the weights),
/// AdamW's decoupled decay (w·(1 − lr·wd) for every parameter, torch's form) and learning-rate schedules; each on
/// one and two threads.
final class RemedyTests: XCTestCase {
    /// A batch of `rows` samples and a network with small non-zero biases (relu kinks away from the test points).
    func setUp(sizes: [Int], rows: Int, seed: UInt64 = 7) -> (Network, SampleSet) {
        let (net, set, _) = batch(sizes: sizes, rows: rows, seed: seed)
        return (net, set)
    }

    func batch(sizes: [Int], rows: Int, seed: UInt64 = 7) -> (Network, SampleSet, [Double]) {
        let net = Network(sizes: sizes, activation: .tanh)
        net.initialize(Array(repeating: .glorot, count: net.layerCount), seed: seed)
        for l in 0..<net.layerCount { let b = net.bias(l); for i in b.indices { b[i] = Float(i % 3) * 0.05 - 0.02 } }
        var rng = Xoshiro(seed: 3)
        let pixels = (0..<(rows * sizes[0])).map { _ in UInt8(rng.below(256)) }
        let labels = (0..<rows).map { UInt8($0 % sizes.last!) }
        return (net, SampleSet(pixels: pixels, labels: labels, count: rows, features: sizes[0], scale: 1 / 255),
                pixels.map { Double(Float($0) * (1 / 255 as Float)) })
    }

    /// One SGD step (no momentum) on one batch holding every sample, on 1 and 2 threads, moves each parameter by
    /// −lr·∂/∂p (mean cross-entropy + L·Σ over weights w²): the gradient the step used, checked against central
    /// finite differences of that objective in Float64. Biases carry no penalty.
    func testL2GradientMatchesFiniteDifferencesOnOneAndTwoThreads() {
        let sizes = [6, 5, 4, 3], rows = 6, L = 0.05, lr = 0.1
        for threads in [1, 2] {
            let (net, set, x) = batch(sizes: sizes, rows: rows)
            let ref0 = ReferenceMLP(sizes: sizes, activation: net.activation, params: net.parameterArray.map(Double.init), ranges: net.ranges)
            let labels = (0..<rows).map { $0 % sizes.last! }
            let before = net.parameterArray
            let t = Trainer(network: net, optimizer: .sgd(lr: lr, momentum: 0), seed: 1)
            t.optimizer.l2 = L
            t.threads = threads
            t.trainEpoch(set, test: nil, batch: rows, epsilon: 1e-12)
            let after = net.parameterArray
            let isBias = Set(net.ranges.flatMap { Array($0.bias) })
            func objective(_ p: [Double]) -> Double {
                var r = ref0; r.params = p
                var penalty = 0.0
                for (i, v) in p.enumerated() where !isBias.contains(i) { penalty += v * v }
                return r.loss(x: x, labels: labels, rows: rows) + L * penalty
            }
            var worst = 0.0
            for i in stride(from: 0, to: before.count, by: 3) {
                var p = ref0.params, m = ref0.params
                let h = 1e-5
                p[i] += h; m[i] -= h
                let numeric = (objective(p) - objective(m)) / (2 * h)
                let used = Double(before[i] - after[i]) / lr
                let err = abs(numeric - used) / max(1e-2, abs(numeric))
                worst = max(worst, err)
                XCTAssertEqual(used, numeric, accuracy: 2e-3 * max(1e-1, abs(numeric)), "threads \(threads), parameter \(i)\(isBias.contains(i) ? " (bias)" : "")")
            }
            XCTAssertLessThan(worst, 1e-2, "threads \(threads)")
        }
    }

    /// The penalty's share is really there: without l2 the same step differs from the l2 step by lr·2L·w on the
    /// weights and not at all on the biases.
    func testL2AddsTwoLWToWeightGradientsOnly() {
        let sizes = [6, 5, 4, 3], rows = 6, L = 0.1, lr = 0.1
        var results: [[Float]] = []
        for l2 in [0.0, L] {
            let (net, set) = setUp(sizes: sizes, rows: rows)
            let t = Trainer(network: net, optimizer: .sgd(lr: lr, momentum: 0), seed: 1)
            t.optimizer.l2 = l2
            t.threads = 1
            t.trainEpoch(set, test: nil, batch: rows, epsilon: 1e-12)
            results.append(net.parameterArray)
        }
        let (net, _) = setUp(sizes: sizes, rows: rows)
        let w0 = net.parameterArray
        for (l, r) in net.ranges.enumerated() {
            for i in r.weights { XCTAssertEqual(results[0][i] - results[1][i], Float(lr * 2 * L) * w0[i], accuracy: 1e-6, "layer \(l) weight \(i)") }
            for i in r.bias { XCTAssertEqual(results[0][i], results[1][i], "layer \(l) bias \(i)") }
        }
    }

    /// AdamW = Adam plus w·(−lr·s·wd) on every parameter (biases too), s the schedule's factor: one step from
    /// the same weights and batch, on 1 and 2 threads.
    func testAdamWIsAdamPlusDecoupledDecayOnOneAndTwoThreads() {
        let sizes = [12, 8, 6, 3], rows = 8, lr = 0.01, wd = 0.5
        for threads in [1, 2] {
            for schedule in [Schedule.none, .step(every: 1, factor: 0.5)] {
                var out: [[Float]] = []
                var w0: [Float] = []
                for kind in [OptimizerKind.adam(lr: lr), .adamw(lr: lr, weightDecay: wd)] {
                    let (net, set) = setUp(sizes: sizes, rows: rows)
                    w0 = net.parameterArray
                    let t = Trainer(network: net, optimizer: kind, seed: 1)
                    t.threads = threads
                    t.optimizer.schedule = schedule
                    t.optimizer.plannedEpochs = 1
                    t.trainEpoch(set, test: nil, batch: rows, epsilon: 1e-12)
                    out.append(net.parameterArray)
                }
                let s = schedule.factor(epoch: 0, planned: 1)
                for i in w0.indices {
                    XCTAssertEqual(out[1][i] - out[0][i], Float(-lr * s * wd) * w0[i], accuracy: 2e-6, "threads \(threads), \(schedule), parameter \(i)")
                }
            }
        }
    }

    func testScheduleFactors() {
        let step = Schedule.step(every: 2, factor: 0.5)
        XCTAssertEqual((0..<6).map { step.factor(epoch: $0, planned: 6) }, [1, 1, 0.5, 0.5, 0.25, 0.25])
        XCTAssertEqual(Schedule.none.factor(epoch: 7, planned: 3), 1)
        // Cosine over 4 epochs: (1 + cos(π e / 4)) / 2; later epochs keep the last planned epoch's factor.
        let c = (0..<6).map { Schedule.cosine.factor(epoch: $0, planned: 4) }
        let want = [1, (1 + 0.5.squareRoot()) / 2, 0.5, (1 - 0.5.squareRoot()) / 2]
        for (a, b) in zip(c, want) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        XCTAssertEqual(c[4], c[3]); XCTAssertEqual(c[5], c[3])
        XCTAssertEqual(Schedule.cosine.factor(epoch: 0, planned: 0), 1, "an unplanned schedule starts at the full rate")
    }

    /// A step schedule scales each epoch's SGD step: the second epoch's update (one batch per epoch) is
    /// −lr·factor·g, g the gradient at the weights after the first epoch, on 1 and 2 threads.
    func testStepScheduleScalesTheSecondEpochsUpdate() {
        let sizes = [12, 8, 6, 3], rows = 8, lr = 0.2
        for threads in [1, 2] {
            let (net, set) = setUp(sizes: sizes, rows: rows)
            let t = Trainer(network: net, optimizer: .sgd(lr: lr, momentum: 0), seed: 1)
            t.threads = threads
            t.optimizer.schedule = .step(every: 1, factor: 0.25)
            t.optimizer.plannedEpochs = 2
            t.trainEpoch(set, test: nil, batch: rows, epsilon: 1e-12)
            let p1 = net.parameterArray
            // The gradient at p1: the probe's forward and backward passes on a copy (no update).
            let copy = Network(sizes: sizes, activation: net.activation)
            copy.setParameters(p1)
            _ = Trainer(network: copy, optimizer: .sgd(lr: lr, momentum: 0), seed: 9).probe(set, batch: rows, epsilon: 1e-12)
            let g = Array(UnsafeBufferPointer(start: copy.grads, count: copy.paramCount))
            t.trainEpoch(set, test: nil, batch: rows, epsilon: 1e-12)
            let p2 = net.parameterArray
            for i in p1.indices {
                XCTAssertEqual(p2[i] - p1[i], Float(-lr * 0.25) * g[i], accuracy: 1e-5, "threads \(threads), parameter \(i)")
            }
        }
    }

    /// Each remedy trains alike on one thread and on two (to float tolerance), including a thread change
    /// between epochs.
    func testRemediesTrainAlikeOnOneAndTwoThreads() {
        let train = blobSet(count: 300, seed: 3)
        let setups: [(String, OptimizerKind, Double, Schedule)] = [
            ("l2 adam", .adam(lr: 0.003), 1e-3, .none),
            ("l2 sgd momentum", .sgd(lr: 0.05, momentum: 0.9), 1e-3, .none),
            ("adamw", .adamw(lr: 0.003, weightDecay: 0.1), 0, .none),
            ("step schedule", .adam(lr: 0.003), 0, .step(every: 1, factor: 0.5)),
            ("cosine rmsprop", .rmsprop(lr: 0.002), 0, .cosine),
        ]
        for (name, kind, l2, schedule) in setups {
            var params: [[Float]] = [], losses: [[Double]] = []
            for pattern in [[1, 1, 1], [2, 1, 2]] {
                let net = Network(sizes: [32, 40, 24, 4], activation: .relu)
                net.initialize([.glorot, .glorot, .glorot], seed: 8)
                let t = Trainer(network: net, optimizer: kind, seed: 8)
                t.optimizer.l2 = l2; t.optimizer.schedule = schedule; t.optimizer.plannedEpochs = 3
                for threads in pattern {
                    t.threads = threads
                    t.trainEpoch(train, test: nil, batch: 30, epsilon: 1e-7)
                }
                params.append(net.parameterArray); losses.append(t.epochs.map(\.trainLoss))
            }
            let diff = zip(params[0], params[1]).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(diff, 1e-3, "\(name): max parameter difference \(diff)")
            for (a, b) in zip(losses[0], losses[1]) { XCTAssertEqual(a, b, accuracy: 1e-4, name) }
            XCTAssertLessThan(losses[1].last!, losses[1].first!, "\(name) learns")
        }
    }

    /// With l2 and AdamW the weights end smaller than without (what the penalty is for).
    func testDecayShrinksTheWeights() {
        let train = blobSet(count: 300, seed: 3)
        func norm(_ kind: OptimizerKind, l2: Double) -> Double {
            let net = Network(sizes: [32, 40, 4], activation: .relu)
            net.initialize([.glorot, .glorot], seed: 8)
            let t = Trainer(network: net, optimizer: kind, seed: 8)
            t.optimizer.l2 = l2
            t.threads = 1
            for _ in 0..<3 { t.trainEpoch(train, test: nil, batch: 30, epsilon: 1e-7) }
            return net.ranges.reduce(0.0) { s, r in s + r.weights.reduce(0.0) { $0 + Double(net.parameterArray[$1] * net.parameterArray[$1]) } }
        }
        XCTAssertLessThan(norm(.adam(lr: 0.003), l2: 0.01), norm(.adam(lr: 0.003), l2: 0))
        XCTAssertLessThan(norm(.adamw(lr: 0.003, weightDecay: 1), l2: 0), norm(.adam(lr: 0.003), l2: 0))
    }

    /// The measured step (a scalar loop) and the unmeasured one (16 lanes for Adam and AdamW) do the same
    /// arithmetic with l2 and decoupled decay; biases (40..<45 here) get no l2.
    func testMeasuredAndUnmeasuredRegularizedStepsAgree() {
        for kind in [OptimizerKind.adam(lr: 0.01), .adamw(lr: 0.01, weightDecay: 0.3), .sgd(lr: 0.1, momentum: 0.9), .rmsprop(lr: 0.01)] {
            let a = Optimizer(kind: kind, count: 45, biasRanges: [40..<45]), b = Optimizer(kind: kind, count: 45, biasRanges: [40..<45])
            a.l2 = 0.05; b.l2 = 0.05
            var pa = (0..<45).map { Float($0) * 0.01 - 0.2 }, pb = pa
            let g = (0..<45).map { Float($0 % 7) - 3 }
            for _ in 0..<3 {
                var measures = [StepMeasure()]
                pa.withUnsafeMutableBufferPointer { p in g.withUnsafeBufferPointer { gg in
                    a.step(params: p.baseAddress!, grads: gg.baseAddress!, layerRanges: [(0..<40, 40..<45)], measures: &measures) } }
                pb.withUnsafeMutableBufferPointer { p in g.withUnsafeBufferPointer { gg in
                    b.step(params: p.baseAddress!, grads: gg.baseAddress!, layerRanges: [(0..<40, 40..<45)], measures: nil) } }
            }
            XCTAssertEqual(pa, pb, "\(kind)")
            XCTAssertEqual(a.mArray, b.mArray, "\(kind)")
        }
    }
}
