import XCTest
import PreflightEngine

/// A small learnable problem: the class is which quarter of the features is brightest.
func blobSet(count: Int, seed: UInt64, features: Int = 32, classes: Int = 4) -> SampleSet {
    var rng = Xoshiro(seed: seed)
    var px = [UInt8](), labels = [UInt8]()
    for _ in 0..<count {
        let c = rng.below(classes)
        labels.append(UInt8(c))
        for f in 0..<features {
            let hot = f * classes / features == c
            px.append(UInt8(min(255, rng.below(100) + (hot ? 120 : 0))))
        }
    }
    return SampleSet(pixels: px, labels: labels, count: count, features: features, scale: 1 / 255)
}

final class TrainingTests: XCTestCase {
    func makeTrainer(seed: UInt64 = 1, initializer: Initializer = .glorot, lr: Double = 0.01) -> Trainer {
        let net = Network(sizes: [32, 16, 16, 4], activation: .relu)
        net.initialize(Array(repeating: initializer, count: 3), seed: seed)
        return Trainer(network: net, optimizer: .adam(lr: lr), seed: seed)
    }

    /// Float features (tables, standardised data) go through the same passes as bytes: the same inputs as floats
    /// train to bit-identical weights and records.
    func testFloatFeaturesTrainLikeTheSameBytes() {
        let bytes = blobSet(count: 300, seed: 5), test = blobSet(count: 60, seed: 6)
        func floats(_ s: SampleSet) -> SampleSet {
            SampleSet(values: s.pixels.map { Float($0) * s.scale }, labels: s.labels, count: s.count, features: s.features)
        }
        for threads in [1, 2] {
            let a = makeTrainer(), b = makeTrainer()
            a.threads = threads; b.threads = threads
            for _ in 0..<2 {
                a.trainEpoch(bytes, test: test, batch: 50, epsilon: 1e-7)
                b.trainEpoch(floats(bytes), test: floats(test), batch: 50, epsilon: 1e-7)
            }
            XCTAssertEqual(a.network.parameterArray, b.network.parameterArray, "threads \(threads)")
            XCTAssertEqual(a.epochs.map(\.trainLoss), b.epochs.map(\.trainLoss))
            XCTAssertEqual(a.epochs.map(\.testAccuracy), b.epochs.map(\.testAccuracy))
            XCTAssertTrue(floats(bytes).isFloat)
            XCTAssertEqual(floats(bytes).prefix(7).count, 7)
        }
    }

    func testLearnsAndRecordsEverything() {
        let train = blobSet(count: 1000, seed: 1), test = blobSet(count: 200, seed: 2)
        let t = makeTrainer()
        for _ in 0..<5 { t.trainEpoch(train, test: test, batch: 50, epsilon: 1e-7) }
        XCTAssertEqual(t.epochs.count, 5)
        let first = t.epochs[0], last = t.epochs[4]
        XCTAssertLessThan(last.trainLoss, first.trainLoss)
        XCTAssertGreaterThan(last.testAccuracy!, 0.9)
        XCTAssertEqual(last.hidden.count, 2); XCTAssertEqual(last.layers.count, 3)
        XCTAssertEqual(last.batches, 20); XCTAssertTrue(last.complete)
        XCTAssertTrue(last.layers.allSatisfy { $0.gradNorm > 0 && $0.updateRatio > 0 && $0.updateRatio < 1 })
        let fb = try! XCTUnwrap(t.firstBatch)
        XCTAssertEqual(fb.batchSize, 50)
        XCTAssertEqual(fb.loss, log(4.0), accuracy: 0.5)
        XCTAssertEqual(fb.saturatedFraction, 0)
        XCTAssertEqual(fb.hidden.count, 2)
        XCTAssertEqual(fb.hidden[0].samples, 50)
        XCTAssertGreaterThanOrEqual(fb.inputMin, 0); XCTAssertLessThanOrEqual(fb.inputMax, 1)
    }

    /// Before training, the probe (what `check` shows) is exactly the record the first epoch makes, on one
    /// thread and on two: the same step's passes.
    func testFirstBatchRecordEqualsProbeBeforeTraining() {
        let train = blobSet(count: 300, seed: 1)
        for threads in [1, 2] {
            let t = makeTrainer()
            t.threads = threads
            let probe = t.probe(train, batch: 50, epsilon: 1e-7)
            XCTAssertEqual(probe.batchSize, 50)
            t.trainEpoch(train, test: nil, batch: 50, epsilon: 1e-7)
            XCTAssertEqual(t.firstBatch, probe, "threads \(threads)")
        }
    }

    func testSameSeedIsBitIdenticalAndSplitTrainingEqualsStraight() {
      for threads in [1, 2] {
        let train = blobSet(count: 500, seed: 1), test = blobSet(count: 100, seed: 2)
        let a = makeTrainer(), b = makeTrainer()
        a.threads = threads; b.threads = threads
        for _ in 0..<3 { a.trainEpoch(train, test: test, batch: 32, epsilon: 1e-7) }
        b.trainEpoch(train, test: test, batch: 32, epsilon: 1e-7)
        b.trainEpoch(train, test: test, batch: 32, epsilon: 1e-7)
        b.trainEpoch(train, test: test, batch: 32, epsilon: 1e-7)
        XCTAssertEqual(a.network.parameterArray, b.network.parameterArray)
        XCTAssertEqual(a.epochs.map(\.trainLoss), b.epochs.map(\.trainLoss))
        let c = makeTrainer(seed: 2)
        c.trainEpoch(train, test: test, batch: 32, epsilon: 1e-7)
        XCTAssertNotEqual(a.epochs[0].trainLoss, c.epochs[0].trainLoss)
      }
    }

    /// Repeated two-thread training is bit-identical for every depth (one hidden layer included).
    func testTwoThreadTrainingIsRepeatable() {
        let train = blobSet(count: 600, seed: 1)
        for sizes in [[32, 48, 4], [32, 32, 16, 4], [32, 4]] {
            var params: [[Float]] = []
            for _ in 0..<3 {
                let net = Network(sizes: sizes, activation: .relu)
                net.initialize(Array(repeating: .glorot, count: sizes.count - 1), seed: 9)
                let t = Trainer(network: net, optimizer: .adam(lr: 0.01), seed: 9)
                t.threads = 2
                for _ in 0..<3 { t.trainEpoch(train, test: nil, batch: 20, epsilon: 1e-7) }
                params.append(net.parameterArray)
            }
            XCTAssertEqual(params[0], params[1], "\(sizes)")
            XCTAssertEqual(params[0], params[2], "\(sizes)")
        }
    }

    func testBadInitSaturatesTheFirstBatch() {
        let train = blobSet(count: 200, seed: 1)
        let t = makeTrainer(initializer: .normal(5))
        let fb = t.probe(train, batch: 100, epsilon: 1e-7)
        XCTAssertGreaterThan(fb.saturatedFraction, 0.5)
        XCTAssertGreaterThan(fb.loss, 5)
    }

    func testStopBetweenBatchesKeepsAPartialEpoch() {
        let train = blobSet(count: 1000, seed: 1)
        let t = makeTrainer()
        var calls = 0
        let rec = t.trainEpoch(train, test: train, batch: 10, epsilon: 1e-7, shouldStop: { calls += 1; return calls > 4 })
        XCTAssertEqual(rec?.batches, 5)
        XCTAssertEqual(rec?.complete, false)
        XCTAssertNil(rec?.testLoss)
    }

    func testHugeLearningRateStopsAtTheFirstNonFiniteValue() {
        let train = blobSet(count: 1000, seed: 1)
        let net = Network(sizes: [32, 16, 16, 4], activation: .relu)
        net.initialize([.glorot, .glorot, .glorot], seed: 1)
        let t = Trainer(network: net, optimizer: .sgd(lr: 1e9, momentum: 0), seed: 1)
        for _ in 0..<3 { t.trainEpoch(train, test: nil, batch: 10, epsilon: 1e-7) }
        XCTAssertEqual(t.threads, Trainer.defaultThreads)
        let ev = try! XCTUnwrap(t.nonFinite)
        XCTAssertEqual(ev.epoch, 1)
        XCTAssertFalse(ev.stage.isEmpty); XCTAssertFalse(ev.layer.isEmpty)
        XCTAssertLessThanOrEqual(t.epochs.count, 1)   // training stopped
    }

    func testEvaluateIsIndependentOfEvalBatch() {
        let set = blobSet(count: 333, seed: 4)
        let t = makeTrainer()
        t.evalBatch = 500
        let a = t.evaluate(set, epsilon: 1e-7)
        let t2 = makeTrainer(); t2.evalBatch = 7
        let b = t2.evaluate(set, epsilon: 1e-7)
        XCTAssertEqual(a.accuracy, b.accuracy)
        XCTAssertEqual(a.loss, b.loss, accuracy: 1e-6)
    }

    /// The partitions train layer 0 in their own copies during an epoch; after it, the network and the
    /// optimiser hold the result (what evaluation and `save` read), the same on one thread as on two.
    func testEpochLeavesLayerZeroInTheNetworkAndOptimizer() {
        let train = blobSet(count: 400, seed: 1)
        var trainers: [Trainer] = []
        for threads in [1, 2] {
            let net = Network(sizes: [32, 48, 4], activation: .relu)
            net.initialize([.glorot, .glorot], seed: 6)
            let t = Trainer(network: net, optimizer: .adam(lr: 0.01), seed: 6)
            t.threads = threads
            t.trainEpoch(train, test: nil, batch: 40, epsilon: 1e-7)
            trainers.append(t)
        }
        let one = trainers[0], two = trainers[1]
        let w = two.network.ranges[0].weights
        let initial: [Float] = { let n = Network(sizes: [32, 48, 4], activation: .relu); n.initialize([.glorot, .glorot], seed: 6); return n.parameterArray }()
        let p1 = one.network.parameterArray, p2 = two.network.parameterArray
        let m1 = one.optimizer.mArray, m2 = two.optimizer.mArray, v2 = two.optimizer.vArray
        XCTAssertGreaterThan(w.filter { p2[$0] != initial[$0] }.count, w.count * 99 / 100, "layer 0 weights moved")
        XCTAssertGreaterThan(w.filter { m2[$0] != 0 && v2[$0] > 0 }.count, w.count * 99 / 100, "layer 0 moments kept")
        XCTAssertEqual(p2, p1, "weights against one thread's")
        XCTAssertEqual(m2, m1, "first moments against one thread's")
        XCTAssertEqual(v2, one.optimizer.vArray, "second moments against one thread's")
        XCTAssertEqual(two.evaluate(train, epsilon: 1e-7).loss, one.evaluate(train, epsilon: 1e-7).loss)
    }
}
