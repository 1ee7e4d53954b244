import XCTest
import PreflightEngine
import PreflightChecks

/// Real networks from PreflightEngine on a small synthetic dataset.
final class IntegrationTests: XCTestCase {
    private func dataset() -> SampleSet {
        var rng = Xoshiro(seed: 7, stream: 3)
        let count = 200, features = 16
        var pixels = [UInt8](repeating: 0, count: count * features)
        var labels = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            let c = i % 4
            labels[i] = UInt8(c)
            for j in 0..<features {
                // Each class lights up its own quarter of the features.
                let base = j / 4 == c ? 180.0 : 30.0
                pixels[i * features + j] = UInt8(min(255, max(0, base + rng.uniform() * 60)))
            }
        }
        return SampleSet(pixels: pixels, labels: labels, count: count, features: features, scale: 1 / 255)
    }

    private func run(_ initializer: Initializer, activation: Activation = .relu, epochs: Int = 0) -> [Finding] {
        let set = dataset()
        let layers = [16, 32, 32, 4]
        let net = Network(sizes: layers, activation: activation)
        net.initialize(Array(repeating: initializer, count: layers.count - 1), seed: 1)
        let trainer = Trainer(network: net, optimizer: .adam(lr: 0.001), seed: 1)
        let probe = trainer.probe(set, batch: 100, epsilon: 1e-7)
        for _ in 0..<epochs { trainer.trainEpoch(set, test: set, batch: 20, epsilon: 1e-7) }
        let input = CheckInput(layers: layers, classes: 4, activation: activation, initializers: [initializer],
                               optimizer: .adam(lr: 0.001), epsilon: 1e-7, dataInputMin: 0, dataInputMax: 1,
                               firstBatch: trainer.firstBatch ?? probe, epochs: trainer.epochs, nonFinite: trainer.nonFinite)
        return Rules.evaluate(input, thresholds: .defaults)
    }

    private func verdict(_ fs: [Finding], _ rule: String) -> Verdict? { fs.first { $0.rule == rule }?.verdict }

    func testGlorotPassesSaturation() {
        let fs = run(.glorot)
        XCTAssertEqual(verdict(fs, "saturation"), .ok)
        XCTAssertEqual(verdict(fs, "init-loss"), .ok)
        XCTAssertEqual(verdict(fs, "hidden-scale"), .ok)
        XCTAssertEqual(verdict(fs, "loss-trend"), .notRun)
    }

    func testNormal5FailsSaturation() {
        let fs = run(.normal(5.0))
        XCTAssertEqual(verdict(fs, "saturation"), .fail)
        XCTAssertEqual(verdict(fs, "init-loss"), .fail)
        XCTAssertEqual(fs.first?.verdict, .fail)
    }

    func testSigmoidNormal5FailsActSaturation() {
        XCTAssertEqual(verdict(run(.normal(5.0), activation: .sigmoid), "act-saturation"), .fail)
        XCTAssertEqual(verdict(run(.glorot, activation: .sigmoid), "act-saturation"), .ok)
    }

    func testZerosInitFailsDeadUnitsAndSymmetry() {
        let fs = run(.zeros)
        XCTAssertEqual(verdict(fs, "dead-units"), .fail)
        XCTAssertEqual(verdict(fs, "symmetry"), .fail)
    }

    func testTrainedGlorotNetworkIsHealthy() {
        let fs = run(.glorot, epochs: 5)
        for f in fs where ["saturation", "init-loss", "nonfinite", "loss-trend", "divergence", "input-range", "output-units"].contains(f.rule) {
            XCTAssertEqual(f.verdict, .ok, "\(f.rule): \(f.measured)")
        }
    }
}
