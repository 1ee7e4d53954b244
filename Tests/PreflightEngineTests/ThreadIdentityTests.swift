import XCTest
import PreflightEngine

/// One training step for any thread count: one and two threads perform the same floating-point operations
/// in the same order, so every recorded number and every weight is bit-identical.
final class ThreadIdentityTests: XCTestCase {
    static let optimizers: [OptimizerKind] = [.sgd(lr: 0.1, momentum: 0), .sgd(lr: 0.05, momentum: 0.9), .adam(lr: 0.01), .rmsprop(lr: 0.003)]

    /// A trainer of `sizes` trained for one epoch per entry of `threads`, on that many threads.
    func trained(_ sizes: [Int], _ kind: OptimizerKind, activation: Activation = .relu, threads: [Int],
                 train: SampleSet, test: SampleSet, batch: Int, dropout: Float? = nil) -> Trainer {
        let net = Network(sizes: sizes, activation: activation)
        net.initialize(Array(repeating: .glorot, count: sizes.count - 1), seed: 13)
        let t = Trainer(network: net, optimizer: kind, seed: 13)
        t.dropout = dropout
        t.measureEvery = 2   // several measured steps an epoch, the last (short) batch among them
        for n in threads {
            t.threads = n
            XCTAssertNotNil(t.trainEpoch(train, test: test, batch: batch, epsilon: 1e-7))
        }
        return t
    }

    /// Everything two trainers recorded and hold, bit for bit (timings aside).
    func assertIdentical(_ a: Trainer, _ b: Trainer, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.epochs.count, b.epochs.count, what, file: file, line: line)
        for (ea, eb) in zip(a.epochs, b.epochs) {
            XCTAssertEqual(ea.trainLoss.bitPattern, eb.trainLoss.bitPattern, "\(what): train loss, epoch \(ea.epoch)", file: file, line: line)
            XCTAssertEqual(ea.trainAccuracy, eb.trainAccuracy, "\(what): train accuracy", file: file, line: line)
            XCTAssertEqual(ea.testLoss, eb.testLoss, "\(what): test loss", file: file, line: line)
            XCTAssertEqual(ea.testAccuracy, eb.testAccuracy, "\(what): test accuracy", file: file, line: line)
            XCTAssertEqual(ea.hidden, eb.hidden, "\(what): hidden statistics, epoch \(ea.epoch)", file: file, line: line)
            XCTAssertEqual(ea.layers, eb.layers, "\(what): gradient norms and update ratios, epoch \(ea.epoch)", file: file, line: line)
            XCTAssertEqual(ea.batches, eb.batches, what, file: file, line: line)
        }
        XCTAssertEqual(a.firstBatch, b.firstBatch, "\(what): first-batch record", file: file, line: line)
        XCTAssertNotNil(a.firstBatch, what, file: file, line: line)
        XCTAssertEqual(a.network.parameterArray.map(\.bitPattern), b.network.parameterArray.map(\.bitPattern), "\(what): weights", file: file, line: line)
        XCTAssertEqual(a.optimizer.mArray.map(\.bitPattern), b.optimizer.mArray.map(\.bitPattern), "\(what): optimiser state m", file: file, line: line)
        XCTAssertEqual(a.optimizer.vArray.map(\.bitPattern), b.optimizer.vArray.map(\.bitPattern), "\(what): optimiser state v", file: file, line: line)
        XCTAssertEqual(a.optimizer.steps, b.optimizer.steps, what, file: file, line: line)
    }

    /// Two epochs of every optimiser on networks with two and three hidden layers of odd widths (partitions
    /// of unequal size; 48 splits 16 + 32 on the vectorised relu path), one hidden layer, one of a single
    /// unit (an empty partition), and none; 250 samples in batches of 32 leave a short last batch of 26.
    func testOneAndTwoThreadsAreBitIdenticalForEveryOptimizer() {
        let train = blobSet(count: 250, seed: 11), test = blobSet(count: 70, seed: 12)
        for sizes in [[32, 35, 17, 4], [32, 48, 35, 19, 4], [32, 21, 4], [32, 1, 5, 4], [32, 4]] {
            for kind in Self.optimizers {
                let one = trained(sizes, kind, threads: [1, 1], train: train, test: test, batch: 32)
                let two = trained(sizes, kind, threads: [2, 2], train: train, test: test, batch: 32)
                assertIdentical(one, two, "\(sizes) \(kind)")
                XCTAssertLessThan(two.epochs[1].trainLoss, two.epochs[0].trainLoss * 1.5, "\(sizes) \(kind) trains")
            }
        }
    }

    /// Dropout: each partition draws its own units' masks from the counter-based generator, so one and two
    /// threads (and a switch between them) drop the same units; dropout changes training.
    func testDropoutIsBitIdenticalOnOneAndTwoThreads() {
        let train = blobSet(count: 250, seed: 11), test = blobSet(count: 70, seed: 12)
        for sizes in [[32, 35, 17, 4], [32, 48, 35, 19, 4], [32, 1, 5, 4], [32, 4]] {
            for kind in Self.optimizers {
                let one = trained(sizes, kind, activation: .tanh, threads: [1, 1], train: train, test: test, batch: 32, dropout: 0.3)
                let two = trained(sizes, kind, activation: .tanh, threads: [2, 2], train: train, test: test, batch: 32, dropout: 0.3)
                let mixed = trained(sizes, kind, activation: .tanh, threads: [2, 1], train: train, test: test, batch: 32, dropout: 0.3)
                assertIdentical(one, two, "\(sizes) \(kind) dropout")
                assertIdentical(one, mixed, "\(sizes) \(kind) dropout, switching")
                if sizes.count > 2 {
                    let plain = trained(sizes, kind, activation: .tanh, threads: [1, 1], train: train, test: test, batch: 32)
                    XCTAssertNotEqual(plain.network.parameterArray, one.network.parameterArray, "\(sizes) \(kind): dropout changes training")
                }
            }
        }
    }

    /// The other activations' passes (no vectorised relu path), and a change of thread count between epochs
    /// (the partitions' copies of layer 0 are taken afresh each epoch and handed back after it).
    func testOtherActivationsAndSwitchingThreadCountsBetweenEpochs() {
        let train = blobSet(count: 200, seed: 3), test = blobSet(count: 50, seed: 4)
        for activation in [Activation.tanh, .sigmoid, .elu, .leakyRelu] {
            let one = trained([32, 33, 15, 4], .adam(lr: 0.005), activation: activation, threads: [1, 1, 1], train: train, test: test, batch: 30)
            let mixed = trained([32, 33, 15, 4], .adam(lr: 0.005), activation: activation, threads: [2, 1, 2], train: train, test: test, batch: 30)
            assertIdentical(one, mixed, "\(activation)")
        }
        let one = trained([32, 40, 24, 4], .sgd(lr: 0.05, momentum: 0.9), threads: [1, 1, 1], train: train, test: test, batch: 30)
        let mixed = trained([32, 40, 24, 4], .sgd(lr: 0.05, momentum: 0.9), threads: [1, 2, 1], train: train, test: test, batch: 30)
        assertIdentical(one, mixed, "momentum, 1-2-1 threads")
    }

    /// The sparse path of layer 0 (data mostly zeros, chosen by its density): every optimiser on odd widths
    /// (partitions of unequal size, 64-column blocks in one partition of 150 and not the other of 35), depth 1
    /// and 3, a short last batch, and a switch of thread count between epochs.
    func testSparsePathOneAndTwoThreadsAreBitIdentical() {
        let train = sparseBlobSet(count: 250, seed: 21, features: 48), test = sparseBlobSet(count: 60, seed: 22, features: 48)
        for sizes in [[48, 150, 17, 4], [48, 35, 4], [48, 128, 33, 19, 4], [48, 1, 5, 4]] {
            for kind in Self.optimizers {
                let one = trained(sizes, kind, threads: [1, 1], train: train, test: test, batch: 32)
                let two = trained(sizes, kind, threads: [2, 2], train: train, test: test, batch: 32)
                XCTAssertEqual(one.lastInputPath, .sparse, "\(sizes)")
                XCTAssertEqual(two.lastInputPath, .sparse, "\(sizes)")
                assertIdentical(one, two, "sparse \(sizes) \(kind)")
            }
        }
        let one = trained([48, 40, 24, 4], .adam(lr: 0.005), threads: [1, 1, 1], train: train, test: test, batch: 30)
        let mixed = trained([48, 40, 24, 4], .adam(lr: 0.005), threads: [2, 1, 2], train: train, test: test, batch: 30)
        assertIdentical(one, mixed, "sparse, 2-1-2 threads")
    }

    /// A batch larger than the data set (one batch an epoch) and a batch of one sample.
    func testExtremeBatchSizes() {
        let train = blobSet(count: 45, seed: 7), test = blobSet(count: 20, seed: 8)
        for batch in [100, 1] {
            let one = trained([32, 19, 9, 4], .adam(lr: 0.003), threads: [1, 1], train: train, test: test, batch: batch)
            let two = trained([32, 19, 9, 4], .adam(lr: 0.003), threads: [2, 2], train: train, test: test, batch: batch)
            assertIdentical(one, two, "batch \(batch)")
        }
    }
}
