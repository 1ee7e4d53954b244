import XCTest
import PreflightEngine

final class InitializerTests: XCTestCase {
    func stats(_ i: Initializer, fanIn: Int = 400, fanOut: Int = 300) -> (min: Double, max: Double, std: Double, mean: Double) {
        var w = [Float](repeating: 0, count: fanIn * fanOut)
        var rng = Xoshiro(seed: 11)
        w.withUnsafeMutableBufferPointer { i.fill($0, fanIn: fanIn, fanOut: fanOut, rng: &rng) }
        let d = w.map(Double.init)
        let mean = d.reduce(0, +) / Double(d.count)
        let std = (d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d.count)).squareRoot()
        return (d.min()!, d.max()!, std, mean)
    }

    func testGlorotUniformMatchesItsLimit() {
        let limit = (6.0 / 700).squareRoot()
        let s = stats(.glorot)
        XCTAssertLessThanOrEqual(s.max, limit); XCTAssertGreaterThanOrEqual(s.min, -limit)
        XCTAssertGreaterThan(s.max, limit * 0.99); XCTAssertLessThan(s.min, -limit * 0.99)
        XCTAssertEqual(s.std, limit / 3.0.squareRoot(), accuracy: limit * 0.01)   // uniform std = limit/√3
        XCTAssertEqual(s.mean, 0, accuracy: limit * 0.01)
        XCTAssertEqual(Initializer.glorot.scale(fanIn: 400, fanOut: 300).value, limit, accuracy: 1e-12)
    }

    func testHeUniformLimit() {
        let limit = (6.0 / 400).squareRoot()
        let s = stats(.heUniform)
        XCTAssertLessThanOrEqual(s.max, limit)
        XCTAssertEqual(s.std, limit / 3.0.squareRoot(), accuracy: limit * 0.01)
    }

    func testTruncatedNormalRedrawsBeyondTwoStd() {
        let s = stats(.truncnormal(0.5))
        XCTAssertLessThanOrEqual(s.max, 1.0); XCTAssertGreaterThanOrEqual(s.min, -1.0)
        XCTAssertGreaterThan(s.max, 0.98)
        // A unit normal truncated at ±2 has std 0.8796.
        XCTAssertEqual(s.std, 0.5 * Initializer.truncationCorrection, accuracy: 0.005)
    }

    func testVarianceScalingNormalsHitTheirIntendedStd() {
        // Keras divides by 0.8796 so that, after truncation, the std is the formula's.
        XCTAssertEqual(stats(.he).std, (2.0 / 400).squareRoot(), accuracy: 0.002)
        XCTAssertEqual(stats(.glorotNormal).std, (2.0 / 700).squareRoot(), accuracy: 0.001)
        XCTAssertEqual(stats(.lecun).std, (1.0 / 400).squareRoot(), accuracy: 0.001)
    }

    func testPlainNormalAndUniformAndZeros() {
        let n = stats(.normal(2))
        XCTAssertEqual(n.std, 2, accuracy: 0.02)
        XCTAssertGreaterThan(n.max, 4)   // not truncated
        let u = stats(.uniform(0.3))
        XCTAssertLessThanOrEqual(u.max, 0.3); XCTAssertEqual(u.std, 0.3 / 3.0.squareRoot(), accuracy: 0.003)
        let z = stats(.zeros)
        XCTAssertEqual(z.min, 0); XCTAssertEqual(z.max, 0)
    }

    func testParse() {
        XCTAssertEqual(Initializer.parse(["glorot"]), .glorot)
        XCTAssertEqual(Initializer.parse(["truncnormal", "0.5"]), .truncnormal(0.5))
        XCTAssertEqual(Initializer.parse(["uniform", "0.05"]), .uniform(0.05))
        XCTAssertNil(Initializer.parse(["truncnormal"]))
        XCTAssertNil(Initializer.parse(["normal", "nan"]))
        XCTAssertNil(Initializer.parse(["normal", "-1"]))
        XCTAssertNil(Initializer.parse(["glorot", "2"]))
        XCTAssertNil(Initializer.parse(["bogus"]))
    }

    func testSameSeedSameWeightsAndOverrideLeavesOtherLayers() {
        let a = Network(sizes: [10, 8, 6, 4], activation: .relu)
        let b = Network(sizes: [10, 8, 6, 4], activation: .relu)
        a.initialize([.glorot, .glorot, .glorot], seed: 5)
        b.initialize([.glorot, .truncnormal(0.5), .glorot], seed: 5)
        XCTAssertEqual(Array(a.weights(0)), Array(b.weights(0)))
        XCTAssertEqual(Array(a.weights(2)), Array(b.weights(2)))
        XCTAssertNotEqual(Array(a.weights(1)), Array(b.weights(1)))
        XCTAssertTrue(a.bias(0).allSatisfy { $0 == 0 })
    }
}
