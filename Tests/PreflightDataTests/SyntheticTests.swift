import XCTest
import PreflightData

final class SyntheticTests: XCTestCase {
    func load(_ n: Int?, seed: UInt64, spec: String = "synthetic") throws -> Dataset {
        try DatasetLoader.load(spec, dataDir: nil, cacheDir: "/nonexistent", syntheticCount: n, seed: seed,
                               allowDownload: false, progress: nil)
    }

    func testDeterministicAndShaped() throws {
        let a = try load(nil, seed: 42)
        let b = try load(nil, seed: 42)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.name, "synthetic")
        XCTAssertEqual(a.source, "generated")
        XCTAssertEqual(a.train.count, 2000)
        XCTAssertEqual(a.test.count, 400)
        XCTAssertEqual(a.train.images.count, 2000 * 784)
        XCTAssertEqual(a.classes, 10)
        XCTAssertTrue(a.train.labels.allSatisfy { $0 < 10 })
        XCTAssertEqual(a.train.images.max(), 255)
        XCTAssertEqual(a.train.images.min(), 0)
        XCTAssertTrue(a.train.labelCounts(classes: 10).allSatisfy { $0 > 150 })
        let c = try load(nil, seed: 43)
        XCTAssertNotEqual(a.train.images, c.train.images)
        let small = try load(50, seed: 1)
        XCTAssertEqual(small.train.count, 50)
        XCTAssertEqual(small.test.count, 100)
        XCTAssertEqual(try load(nil, seed: 1, spec: "synthetic 300").train.count, 300)
        XCTAssertThrowsError(try load(0, seed: 1))
    }

    /// A nearest-class-mean classifier must do well: the classes are separable, so an MLP can learn them.
    func testLearnable() throws {
        let d = try load(1000, seed: 7)
        let f = d.features
        var means = [[Double]](repeating: [Double](repeating: 0, count: f), count: 10)
        let counts = d.train.labelCounts(classes: 10)
        for i in 0..<d.train.count {
            let l = Int(d.train.labels[i])
            for k in 0..<f { means[l][k] += Double(d.train.images[i * f + k]) / Double(counts[l]) }
        }
        var correct = 0
        for i in 0..<d.test.count {
            var best = 0, bestDist = Double.infinity
            for c in 0..<10 {
                var dist = 0.0
                for k in 0..<f { let e = Double(d.test.images[i * f + k]) - means[c][k]; dist += e * e }
                if dist < bestDist { bestDist = dist; best = c }
            }
            if best == Int(d.test.labels[i]) { correct += 1 }
        }
        let accuracy = Double(correct) / Double(d.test.count)
        print("synthetic nearest-mean test accuracy: \(accuracy)")
        XCTAssertGreaterThan(accuracy, 0.8)
    }
}
