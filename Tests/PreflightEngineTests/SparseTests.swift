import XCTest
@testable import PreflightEngine

/// `blobSet`'s classes with most inputs zero: each sample keeps a random `keep` share of its features
/// (the hot ones stand out), like an image's strokes on a blank background.
func sparseBlobSet(count: Int, seed: UInt64, features: Int = 32, classes: Int = 4, keep: Double = 0.2) -> SampleSet {
    var rng = Xoshiro(seed: seed)
    var px = [UInt8](), labels = [UInt8]()
    for _ in 0..<count {
        let c = rng.below(classes)
        labels.append(UInt8(c))
        for f in 0..<features {
            let hot = f * classes / features == c
            let on = Double(rng.below(1000)) < keep * 1000
            px.append(on ? UInt8(min(255, 1 + rng.below(100) + (hot ? 120 : 0))) : 0)
        }
    }
    return SampleSet(pixels: px, labels: labels, count: count, features: features, scale: 1 / 255)
}

final class SparseTests: XCTestCase {
    /// The share of non-zero inputs is counted exactly, for bytes and floats, and decides the path.
    func testDensityIsMeasuredAndChoosesThePath() {
        let bytes: [UInt8] = [0, 3, 0, 0, 255, 0, 0, 0, 1, 0]   // 3 of 10
        let set = SampleSet(pixels: bytes, labels: [0, 1], count: 2, features: 5, scale: 1)
        XCTAssertEqual(set.density, 0.3, accuracy: 1e-12)
        let floats = SampleSet(values: [0, -0.5, 0, 0, 2, 0, 0, 0, 0, 0], labels: [0, 1], count: 2, features: 5)
        XCTAssertEqual(floats.density, 0.2, accuracy: 1e-12)
        // More than one counting block (65,536 bytes): 70,000 bytes, every seventh non-zero.
        let big = SampleSet(pixels: (0..<70_000).map { $0 % 7 == 0 ? 9 : 0 }, labels: Array(repeating: 0, count: 70),
                            count: 70, features: 1000, scale: 1)
        XCTAssertEqual(big.density, 10_000.0 / 70_000.0, accuracy: 1e-12)
        XCTAssertEqual(InputPath.choose(density: 0.19), .sparse)
        XCTAssertEqual(InputPath.choose(density: 0.5), .dense)
        XCTAssertEqual(InputPath.choose(density: 1), .dense)
        XCTAssertEqual(SampleSet(pixels: [], labels: [], count: 0, features: 4, scale: 1).density, 0)

        let t = Trainer(network: Network(sizes: [32, 8, 4], activation: .relu), optimizer: .sgd(lr: 0.1, momentum: 0), seed: 1)
        t.network.initialize([.glorot, .glorot], seed: 1)
        let sparse = sparseBlobSet(count: 40, seed: 1), dense = blobSet(count: 40, seed: 1)
        XCTAssertLessThan(sparse.density, 0.3)
        XCTAssertGreaterThan(dense.density, 0.9)
        t.trainEpoch(sparse, test: nil, batch: 10, epsilon: 1e-7)
        XCTAssertEqual(t.lastInputPath, .sparse)
        t.trainEpoch(dense, test: nil, batch: 10, epsilon: 1e-7)
        XCTAssertEqual(t.lastInputPath, .dense)
        t.inputPath = .sparse
        t.trainEpoch(dense, test: nil, batch: 10, epsilon: 1e-7)
        XCTAssertEqual(t.lastInputPath, .sparse, "a forced path is taken whatever the density")
    }

    /// The lists by row and by feature hold exactly the non-zero inputs, in order, with the dense conversion's
    /// values; for bytes and floats, in a given order and without one, and across a growth of the lists.
    func testSparseBatchListsTheNonZeroInputs() {
        // 30% non-zero: the byte set lists its samples' non-zeros once (the batch copies them); 60%: it does
        // not (the batch finds them byte by byte, as when the sparse path is forced on dense data).
        for keep in [0.3, 0.6] { checkLists(sparseBlobSet(count: 50, seed: 4, features: 37, keep: keep), listed: keep < 0.4) }
    }

    func checkLists(_ set: SampleSet, listed: Bool) {
        XCTAssertEqual(set.sparseRows != nil, listed)
        let floatSet = SampleSet(values: set.pixels.map { Float($0) * set.scale }, labels: set.labels, count: set.count, features: set.features)
        let order: [Int32] = (0..<50).map { Int32(($0 * 17) % 50) }
        let y = UnsafeMutablePointer<Int32>.allocate(capacity: 50); defer { y.deallocate() }
        let sink = UnsafeMutablePointer<UInt8>.allocate(capacity: 64); defer { sink.deallocate() }
        // A capacity whose first allocation (a quarter of the inputs) is too small for 30% non-zeros.
        for s in [set, floatSet] {
            for useOrder in [true, false] {
                let b = SparseBatch(capacity: 40, features: 37)
                order.withUnsafeBufferPointer { o in
                    b.load(s, order: useOrder ? o.baseAddress! : nil, start: 5, rows: 40, y: y, sink: sink, byFeature: true)
                }
                var byRow: [(Int, Int, Float)] = [], expected: [(Int, Int, Float)] = []
                for r in 0..<40 {
                    let idx = useOrder ? Int(order[5 + r]) : 5 + r
                    XCTAssertEqual(Int(y[r]), Int(set.labels[idx]))
                    for k in 0..<37 where set.pixels[idx * 37 + k] != 0 { expected.append((r, k, Float(set.pixels[idx * 37 + k]) * set.scale)) }
                    for e in Int(b.rowStart[r])..<Int(b.rowStart[r + 1]) { byRow.append((r, Int(b.cols[e]), b.vals[e])) }
                }
                XCTAssertEqual(b.nonZeros, expected.count)
                XCTAssertEqual(byRow.map { "\($0)" }, expected.map { "\($0)" })
                var byFeature: [(Int, Int, Float)] = []
                for k in 0..<37 {
                    for e in Int(b.featureStart[k])..<Int(b.featureStart[k + 1]) { byFeature.append((Int(b.featureRows[e]), k, b.featureVals[e])) }
                }
                let sortedByFeature = expected.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
                XCTAssertEqual(byFeature.map { "\($0)" }, sortedByFeature.map { "\($0)" })
            }
        }
    }

    /// Both products equal, bit for bit, the plain loop the kernels promise (one fused multiply-add per
    /// non-zero term, in increasing order of the summed index, from zero), for widths that take every block
    /// (64, 16, single columns) and row strides wider than the columns; and a dense Double product closely.
    func testSparseProductsSumInTheirDocumentedOrder() {
        var rng = Xoshiro(seed: 9)
        let rows = 23, f = 50
        let px = (0..<(rows * f)).map { _ in rng.below(10) < 3 ? UInt8(1 + rng.below(255)) : 0 }
        let set = SampleSet(pixels: px, labels: Array(repeating: 0, count: rows), count: rows, features: f, scale: 1 / 255)
        let x = px.map { Float($0) * (1 / 255 as Float) }
        let b = SparseBatch(capacity: rows, features: f)
        let y = UnsafeMutablePointer<Int32>.allocate(capacity: rows); defer { y.deallocate() }
        let sink = UnsafeMutablePointer<UInt8>.allocate(capacity: 64); defer { sink.deallocate() }
        b.load(set, order: nil, start: 0, rows: rows, y: y, sink: sink, byFeature: true)
        for columns in [1, 15, 16, 17, 64, 80, 97, 130] {
            let ld = columns + 3
            let w = (0..<(f * ld)).map { _ in Float(rng.below(2001)) / 1000 - 1 }
            var out = [Float](repeating: .nan, count: rows * ld)
            w.withUnsafeBufferPointer { wp in out.withUnsafeMutableBufferPointer { op in
                b.timesDense(wp.baseAddress!, ldw: ld, columns: columns, out: op.baseAddress!, ldo: ld)
            } }
            for r in 0..<rows {
                for j in 0..<columns {
                    var a: Float = 0, exact = 0.0
                    for k in 0..<f where x[r * f + k] != 0 {
                        a = a.addingProduct(x[r * f + k], w[k * ld + j])
                        exact += Double(x[r * f + k]) * Double(w[k * ld + j])
                    }
                    XCTAssertEqual(out[r * ld + j].bitPattern, a.bitPattern, "forward [\(r), \(j)] of \(columns) columns")
                    XCTAssertEqual(Double(out[r * ld + j]), exact, accuracy: 1e-4)
                }
                for j in columns..<ld { XCTAssertTrue(out[r * ld + j].isNaN, "nothing written past the columns") }
            }
            // Weight gradient rows 7..<41 of the features.
            let d = (0..<(rows * ld)).map { _ in Float(rng.below(2001)) / 1000 - 1 }
            var g = [Float](repeating: .nan, count: 34 * ld)
            d.withUnsafeBufferPointer { dp in g.withUnsafeMutableBufferPointer { gp in
                b.transposeTimes(dp.baseAddress!, ldd: ld, columns: columns, features: 7..<41, into: gp.baseAddress!, ldg: ld)
            } }
            for k in 7..<41 {
                for j in 0..<columns {
                    var a: Float = 0
                    for r in 0..<rows where x[r * f + k] != 0 { a = a.addingProduct(x[r * f + k], d[r * ld + j]) }
                    XCTAssertEqual(g[(k - 7) * ld + j].bitPattern, a.bitPattern, "gradient [\(k), \(j)] of \(columns) columns")
                }
            }
        }
    }

    /// The sparse path trains to nearly the dense path's numbers (the same sums in another order), and the
    /// evaluation pass follows the same choice.
    func testSparseAndDensePathsAgreeClosely() {
        let train = sparseBlobSet(count: 300, seed: 5), test = sparseBlobSet(count: 80, seed: 6)
        func run(_ path: InputPath) -> Trainer {
            let net = Network(sizes: [32, 24, 16, 4], activation: .relu)
            net.initialize([.glorot, .glorot, .glorot], seed: 3)
            let t = Trainer(network: net, optimizer: .adam(lr: 0.005), seed: 3)
            t.inputPath = path
            for _ in 0..<2 { XCTAssertNotNil(t.trainEpoch(train, test: test, batch: 25, epsilon: 1e-7)) }
            XCTAssertEqual(t.lastInputPath, path)
            return t
        }
        let dense = run(.dense), sparse = run(.sparse)
        for (a, b) in zip(dense.epochs, sparse.epochs) {
            XCTAssertEqual(a.trainLoss, b.trainLoss, accuracy: 1e-4 * a.trainLoss)
            XCTAssertEqual(a.testLoss!, b.testLoss!, accuracy: 1e-4 * a.testLoss!)
            XCTAssertEqual(a.hidden[0].mean, b.hidden[0].mean, accuracy: 1e-4 * abs(a.hidden[0].mean))
        }
        XCTAssertEqual(dense.firstBatch!.loss, sparse.firstBatch!.loss, accuracy: 1e-5)
        XCTAssertEqual(dense.firstBatch!.inputMax, sparse.firstBatch!.inputMax, "the record reads the batch's inputs on either path")
        XCTAssertEqual(dense.firstBatch!.inputMin, 0)
        XCTAssertEqual(sparse.firstBatch!.inputMin, 0)
        let dw = dense.network.parameterArray, sw = sparse.network.parameterArray
        var worst: Float = 0
        for i in dw.indices { worst = max(worst, abs(dw[i] - sw[i])) }
        // The dense product adds the zero terms too, which leaves a sum unchanged, and OpenBLAS also sums
        // in order with fused multiply-adds at these small sizes: the two paths may agree exactly.
        XCTAssertLessThan(worst, 1e-3)
        // Evaluation on the sparse path against the dense forward pass, on the same weights.
        sparse.inputPath = .dense
        let evalDense = sparse.evaluate(test, epsilon: 1e-7)
        sparse.inputPath = nil
        XCTAssertEqual(sparse.path(for: test), .sparse)
        let evalSparse = sparse.evaluate(test, epsilon: 1e-7)
        XCTAssertEqual(evalSparse.loss, evalDense.loss, accuracy: 1e-5)
        XCTAssertEqual(evalSparse.accuracy, evalDense.accuracy)
    }

    /// Float features on the sparse path train like the same bytes, bit for bit.
    func testSparseFloatFeaturesTrainLikeTheSameBytes() {
        let bytes = sparseBlobSet(count: 200, seed: 8), test = sparseBlobSet(count: 40, seed: 9)
        func floats(_ s: SampleSet) -> SampleSet {
            SampleSet(values: s.pixels.map { Float($0) * s.scale }, labels: s.labels, count: s.count, features: s.features)
        }
        func run(_ train: SampleSet, _ test: SampleSet) -> Trainer {
            let net = Network(sizes: [32, 20, 4], activation: .relu)
            net.initialize([.glorot, .glorot], seed: 2)
            let t = Trainer(network: net, optimizer: .adam(lr: 0.01), seed: 2)
            XCTAssertNotNil(t.trainEpoch(train, test: test, batch: 16, epsilon: 1e-7))
            XCTAssertEqual(t.lastInputPath, .sparse)
            return t
        }
        let a = run(bytes, test), b = run(floats(bytes), floats(test))
        XCTAssertEqual(a.network.parameterArray.map(\.bitPattern), b.network.parameterArray.map(\.bitPattern))
        XCTAssertEqual(a.epochs[0].testLoss, b.epochs[0].testLoss)
    }
}
