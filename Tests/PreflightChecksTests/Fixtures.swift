import PreflightEngine
import PreflightChecks

/// Hand-made records: a healthy Glorot relu 784-128-128-10 MNIST run (Adam 0.001, batch 100) and variations.
enum Fixture {
    static func layer(mean: Double, dead: Double = 0, saturated: Double = 0) -> LayerStats {
        LayerStats(mean: mean, std: mean * 1.3, max: mean * 8, zeroFraction: 0.5, aboveOneFraction: 0.1,
                   deadFraction: dead, saturatedFraction: saturated, samples: 100)
    }

    static func firstBatch(loss: Double = 2.41, saturated: Double = 0, means: [Double] = [0.18, 0.12],
                           dead: [Double]? = nil, actSaturated: [Double]? = nil,
                           grads: [Double] = [0.88, 0.46, 0.30], batch: Int = 100) -> FirstBatchRecord {
        let hidden = means.indices.map { i in
            layer(mean: means[i], dead: dead?[i] ?? 0, saturated: actSaturated?[i] ?? 0)
        }
        return FirstBatchRecord(loss: loss, saturatedFraction: saturated, lowFraction: saturated * 0.9,
                                highFraction: saturated * 0.1, accuracy: 0.1, hidden: hidden, gradNorms: grads,
                                inputMin: 0, inputMax: 1, batchSize: batch)
    }

    static func epoch(_ n: Int, loss: Double, acc: Double = 0.97, testLoss: Double? = nil, testAcc: Double? = nil,
                      means: [Double] = [0.6, 1.0], dead: [Double]? = nil, grads: [Double] = [0.42, 0.26, 0.27],
                      ratios: [Double] = [2.2e-3, 1.5e-3, 1e-3]) -> EpochRecord {
        let hidden = means.indices.map { layer(mean: means[$0], dead: dead?[$0] ?? 0) }
        let layers = grads.indices.map { LayerGradRecord(gradNorm: grads[$0], updateRatio: ratios[$0]) }
        return EpochRecord(epoch: n, trainLoss: loss, trainAccuracy: acc, testLoss: testLoss, testAccuracy: testAcc,
                           seconds: 0.5, samplesPerSecond: 120_000, hidden: hidden, layers: layers,
                           batches: 600, totalBatches: 600)
    }

    /// The healthy reference: train loss 0.25 → 0.04, test loss ≈ 0.10 → 0.08 with a slight uptick at epoch 5.
    static var healthyEpochs: [EpochRecord] {
        let train = [0.25, 0.10, 0.07, 0.05, 0.04]
        let test = [0.10, 0.09, 0.08, 0.078, 0.081]
        let trainAcc = [0.93, 0.97, 0.978, 0.985, 0.988]
        let testAcc = [0.965, 0.972, 0.976, 0.978, 0.977]
        let means: [[Double]] = [[0.63, 0.90], [0.58, 0.95], [0.57, 1.0], [0.55, 1.02], [0.54, 1.3]]
        return (0..<5).map { i in
            epoch(i + 1, loss: train[i], acc: trainAcc[i], testLoss: test[i], testAcc: testAcc[i], means: means[i])
        }
    }

    /// Epochs from train losses alone (test metrics absent).
    static func epochs(_ losses: [Double], acc: Double = 0.97) -> [EpochRecord] {
        losses.enumerated().map { epoch($0.offset + 1, loss: $0.element, acc: acc) }
    }

    static func input(layers: [Int] = [784, 128, 128, 10], classes: Int = 10, activation: Activation = .relu,
                      initializers: [Initializer] = [.glorot], optimizer: OptimizerKind = .adam(lr: 0.001),
                      inputMin: Double = 0, inputMax: Double = 1,
                      firstBatch: FirstBatchRecord? = Fixture.firstBatch(), epochs: [EpochRecord] = Fixture.healthyEpochs,
                      nonFinite: NonFiniteEvent? = nil, scale: String = "unit",
                      trainCounts: [Int]? = Fixture.mnistTrainCounts, testCounts: [Int]? = Fixture.mnistTestCounts) -> CheckInput {
        var c = CheckInput(layers: layers, classes: classes, activation: activation, initializers: initializers,
                           optimizer: optimizer, epsilon: 1e-7, dataInputMin: inputMin, dataInputMax: inputMax,
                           firstBatch: firstBatch, epochs: epochs, nonFinite: nonFinite)
        c.dataScale = scale
        c.trainClassCounts = trainCounts
        c.testClassCounts = testCounts
        return c
    }

    /// MNIST's samples per class (the well-known counts of its training and test sets).
    static let mnistTrainCounts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    static let mnistTestCounts = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
}

/// The single finding of one rule under the default thresholds (or the given ones).
func check(_ rule: String, _ input: CheckInput, _ t: Thresholds = .defaults) -> Finding {
    let fs = Rules.evaluate(input, thresholds: t, only: [rule])
    precondition(fs.count == 1, "expected one finding for \(rule), got \(fs.count)")
    return fs[0]
}
