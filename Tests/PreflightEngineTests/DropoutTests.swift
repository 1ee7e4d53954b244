import XCTest
import PreflightEngine

/// Inverted dropout after every hidden activation (`Trainer.dropout`).
final class DropoutTests: XCTestCase {
    /// The step's gradients with dropout are those of the loss with the same masks (a fixed step's), checked
    /// against finite differences of a Float64 reference that applies `DropoutMask.kept` itself.
    func check(_ activation: Activation, sizes: [Int], rows: Int, rate: Float) {
        let net = Network(sizes: sizes, activation: activation)
        net.initialize(Array(repeating: .glorot, count: net.layerCount), seed: 7)
        for l in 0..<net.layerCount { let b = net.bias(l); for i in b.indices { b[i] = Float(i % 3) * 0.05 - 0.02 } }
        var rng = Xoshiro(seed: 3)
        let features = sizes[0]
        let pixels = (0..<(rows * features)).map { _ in UInt8(rng.below(256)) }
        let labels = (0..<rows).map { UInt8($0 % sizes.last!) }
        let set = SampleSet(pixels: pixels, labels: labels, count: rows, features: features, scale: 1 / 255)
        let seed: UInt64 = 5, step: UInt64 = 17
        let trainer = Trainer(network: net, optimizer: .sgd(lr: 0.1, momentum: 0), seed: seed)
        trainer.dropout = rate
        // The probe's batch row i is sample order[i]: the reference's sample r takes the mask of its row.
        let order = trainer.peekOrder(count: rows).map(Int.init)
        var rowOf = [Int](repeating: 0, count: rows)
        for (i, r) in order.enumerated() { rowOf[r] = i }
        let probe = trainer.probe(set, batch: rows, epsilon: 1e-7, dropoutStep: step)
        let analytic = Array(UnsafeBufferPointer(start: net.grads, count: net.paramCount))
        let scale: (Int, Int, Int) -> Double = { l, r, u in
            DropoutMask.kept(seed: seed, step: step, layer: l, row: rowOf[r], unit: u, rate: rate) ? 1 / Double(1 - rate) : 0
        }
        let ref = ReferenceMLP(sizes: sizes, activation: activation, params: net.parameterArray.map(Double.init), ranges: net.ranges)
        let x = pixels.map { Double(Float($0) * (1 / 255 as Float)) }
        let y = labels.map(Int.init)
        let refLoss = ref.loss(x: x, labels: y, rows: rows, scale: scale)
        XCTAssertEqual(probe.loss, refLoss, accuracy: 1e-5, "the step's loss is the masked network's")
        XCTAssertGreaterThan(abs(refLoss - ref.loss(x: x, labels: y, rows: rows)), 1e-4, "the masks change the loss")
        let h = 1e-6
        var worst = 0.0
        for p in 0..<net.paramCount {
            var plus = ref, minus = ref
            plus.params[p] += h; minus.params[p] -= h
            let numeric = (plus.loss(x: x, labels: y, rows: rows, scale: scale) - minus.loss(x: x, labels: y, rows: rows, scale: scale)) / (2 * h)
            let err = abs(numeric - Double(analytic[p])) / max(1e-3, abs(numeric) + abs(Double(analytic[p])))
            worst = max(worst, err)
        }
        XCTAssertLessThan(worst, 2e-3, "\(activation) \(sizes): worst relative gradient error \(worst)")
        // Without a step the probe never drops: its loss is the plain network's.
        XCTAssertEqual(trainer.probe(set, batch: rows, epsilon: 1e-7).loss, ref.loss(x: x, labels: y, rows: rows), accuracy: 1e-5)
    }

    func testReluGradientsWithDropout() { check(.relu, sizes: [6, 5, 4, 3], rows: 6, rate: 0.3) }
    func testTanhGradientsWithDropout() { check(.tanh, sizes: [9, 7, 5, 3, 4], rows: 6, rate: 0.5) }
    func testSigmoidGradientsWithDropout() { check(.sigmoid, sizes: [20, 16, 32, 5], rows: 7, rate: 0.2) }

    /// About `rate` of the units are dropped, independently of position.
    func testMasksDropTheirShare() {
        for rate: Float in [0.1, 0.3, 0.5] {
            var dropped = 0, total = 0
            for step in 1...20 { for row in 0..<50 { for unit in 0..<100 {
                if !DropoutMask.kept(seed: 9, step: UInt64(step), layer: 1, row: row, unit: unit, rate: rate) { dropped += 1 }
                total += 1
            } } }
            XCTAssertEqual(Double(dropped) / Double(total), Double(rate), accuracy: 0.01, "rate \(rate)")
        }
        XCTAssertTrue((0..<1000).allSatisfy { DropoutMask.kept(seed: 1, step: 1, layer: 0, row: $0, unit: 3, rate: 0) }, "rate 0 keeps all")
    }

    /// Training with dropout changes the weights, but not the first-batch record (that step does not drop) nor
    /// the evaluation of given weights.
    func testDropoutChangesTrainingNotTheFirstBatchRecord() {
        let train = blobSet(count: 250, seed: 11), test = blobSet(count: 70, seed: 12)
        var trainers: [Trainer] = []
        for rate: Float? in [nil, 0.4] {
            let net = Network(sizes: [32, 35, 17, 4], activation: .relu)
            net.initialize(Array(repeating: .glorot, count: 3), seed: 13)
            let t = Trainer(network: net, optimizer: .adam(lr: 0.01), seed: 13)
            t.dropout = rate
            t.trainEpoch(train, test: test, batch: 32, epsilon: 1e-7)
            trainers.append(t)
        }
        XCTAssertEqual(trainers[0].firstBatch, trainers[1].firstBatch)
        XCTAssertNotEqual(trainers[0].network.parameterArray, trainers[1].network.parameterArray)
        // Evaluation never drops: the same weights evaluate the same with and without dropout set.
        trainers[0].network.setParameters(trainers[1].network.parameterArray)
        let a = trainers[0].evaluate(test, epsilon: 1e-7), b = trainers[1].evaluate(test, epsilon: 1e-7)
        XCTAssertEqual(a.loss, b.loss); XCTAssertEqual(a.accuracy, b.accuracy)
    }
}
