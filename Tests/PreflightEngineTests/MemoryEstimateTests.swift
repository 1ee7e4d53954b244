import XCTest
import PreflightEngine

/// `TrainingMemory.bytes`, the estimate `set memory` judges a network by, against the float buffers training
/// really allocates (counted where every one of them is made, `alignedFloats`).
final class MemoryEstimateTests: XCTestCase {
    /// Floats allocated while building a trainer, probing, training an epoch and evaluating, on `count` samples.
    private func allocated(sizes: [Int], batch: Int, count: Int, density: Double, dropout: Bool, clip: Bool = false,
                           batchNorm: Bool = false) -> Int {
        var rng = Xoshiro(seed: 11)
        let f = sizes[0]
        let pixels = (0..<(count * f)).map { _ in Double(rng.below(1000)) / 1000 < density ? UInt8(1 + rng.below(255)) : 0 }
        let labels = (0..<count).map { UInt8($0 % sizes.last!) }
        let set = SampleSet(pixels: pixels, labels: labels, count: count, features: f, scale: 1 / 255)
        let before = TrainingMemory.floatsAllocated
        let net = Network(sizes: sizes, activation: .relu, batchNorm: batchNorm)
        net.initialize(Array(repeating: .glorot, count: net.layerCount), seed: 1)
        let trainer = Trainer(network: net, optimizer: .adam(lr: 0.001), seed: 1)
        if dropout { trainer.dropout = 0.3 }
        if clip { trainer.clipNorm = 1 }
        _ = trainer.probe(set, batch: batch, epsilon: 1e-7)
        _ = trainer.trainEpoch(set, test: set, batch: batch, epsilon: 1e-7)
        _ = trainer.evaluate(set, epsilon: 1e-7)
        XCTAssertEqual(trainer.lastInputPath, InputPath.choose(density: set.density))
        return TrainingMemory.floatsAllocated - before
    }

    /// The old estimate, 4 × the parameters plus 2 × the widths × max(batch, 500), missed the training step's
    /// copies of layer 0's weights and optimiser state: a network whose first layer holds most of its weights
    /// (4000 inputs × 256) allocated 9.47 M floats against an estimate of 8.37 M. The estimate must cover every
    /// float buffer (and, since it also counts the Int32 lists and labels, may exceed them, but not double them).
    func testTheEstimateCoversWhatTrainingAllocates() {
        for (sizes, batch, density, dropout) in [([4000, 256, 10], 16, 0.8, false), ([4000, 256, 10], 16, 0.1, false),
                                                 ([784, 128, 128, 10], 100, 0.2, true), ([784, 64, 32, 16, 10], 550, 0.6, false),
                                                 ([30, 10], 32, 0.9, false)] {
            let floats = allocated(sizes: sizes, batch: batch, count: 600, density: density, dropout: dropout)
            let estimate = TrainingMemory.bytes(sizes: sizes, batch: batch, dropout: dropout,
                                                sparse: InputPath.choose(density: density) == .sparse)
            let what = "\(sizes) batch \(batch) density \(density)\(dropout ? " dropout" : "")"
            XCTAssertGreaterThanOrEqual(estimate, Double(floats * 4), what)
            XCTAssertLessThan(estimate, Double(floats * 4) * 2, what)
        }
    }

    /// Clipping keeps layer 0's whole gradient and batch normalisation adds γ, β, running statistics and the
    /// step's normalised pre-activations: on a wide first layer (4000 × 256, 2.05 M floats of gradient) the
    /// estimate without them falls below what training allocates.
    func testClipAndBatchNormAreCounted() {
        for (sizes, batch, clip, bn) in [([4000, 256, 10], 16, true, false), ([784, 512, 512, 10], 550, false, true),
                                         ([784, 128, 128, 10], 100, true, true)] {
            let floats = allocated(sizes: sizes, batch: batch, count: 600, density: 0.5, dropout: false, clip: clip, batchNorm: bn)
            let estimate = TrainingMemory.bytes(sizes: sizes, batch: batch, clip: clip, batchNorm: bn, sparse: false)
            let what = "\(sizes) batch \(batch)\(clip ? " clip" : "")\(bn ? " batchnorm" : "")"
            XCTAssertGreaterThanOrEqual(estimate, Double(floats * 4), what)
            XCTAssertLessThan(estimate, Double(floats * 4) * 2, what)
        }
    }

    /// The worst case the shell assumes (sparse lists counted whatever the data) is never below the dense one.
    func testSparseListsOnlyAdd() {
        for sizes in [[784, 128, 10], [30, 10], [5000, 512, 512, 10]] {
            XCTAssertGreaterThan(TrainingMemory.bytes(sizes: sizes, batch: 100, sparse: true),
                                 TrainingMemory.bytes(sizes: sizes, batch: 100, sparse: false))
        }
    }
}
