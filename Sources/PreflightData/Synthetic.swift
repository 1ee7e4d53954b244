/// SplitMix64: a small, fast, seedable generator. Same seed, same sequence, on every platform.
public struct SplitMix64: Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// Uniform in 0..<n (n > 0).
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// A deterministic 28x28, 10-class toy dataset: each class is a distinct stroke pattern, randomly shifted,
/// thickened and dimmed per sample, with noise. A small MLP learns it in an epoch or two.
public enum Synthetic {
    public static let rows = 28, cols = 28, classes = 10
    public static let defaultCount = 2000

    /// Test samples for `trainCount` training samples: a fifth, at least 100.
    public static func testCount(for trainCount: Int) -> Int { max(100, trainCount / 5) }

    public static func make(count: Int, seed: UInt64) throws -> Dataset {
        guard count > 0 else { throw DataError("synthetic: the sample count must be positive, got \(count)") }
        guard count <= 1_000_000 else { throw DataError("synthetic: at most 1000000 samples, got \(count)") }
        let train = try split(count: count, seed: seed ^ 0x7472_6169_6E00_0000)          // "train"
        let test = try split(count: testCount(for: count), seed: seed ^ 0x7465_7374_0000_0000)  // "test"
        return Dataset(name: "synthetic", source: "generated", rows: rows, cols: cols, classes: classes, train: train, test: test)
    }

    /// Throws `DataCancelled` when `LoadCancellation` asks to stop (checked every 256 samples, about 10 ms).
    static func split(count: Int, seed: UInt64) throws -> DataSplit {
        var rng = SplitMix64(seed: seed)
        let f = rows * cols
        var labels = [UInt8](repeating: 0, count: count)
        var canvas = [Double](repeating: 0, count: f)
        // Not zero-filled first: every byte is written below, and zeroing 784 MB alone takes a second.
        let images = try [UInt8](unsafeUninitializedCapacity: count * f) { images, initialized in
            initialized = 0
            for i in 0..<count {
                if i % 256 == 0 { try LoadCancellation.check() }
                let label = rng.below(classes)
                labels[i] = UInt8(label)
                for k in 0..<f { canvas[k] = 0 }
                let dx = Double(rng.below(5) - 2), dy = Double(rng.below(5) - 2)
                let width = 1.2 + 1.0 * rng.unit()
                let brightness = 0.75 + 0.25 * rng.unit()
                draw(label, into: &canvas, dx: dx, dy: dy, width: width)
                let base = i * f
                for k in 0..<f {
                    // Roughly Gaussian noise from three uniforms, mostly small.
                    let noise = (rng.unit() + rng.unit() + rng.unit() - 1.5) * 40
                    let v = canvas[k] * 255 * brightness + noise
                    images[base + k] = UInt8(max(0, min(255, v.rounded())))
                }
                initialized = base + f
            }
        }
        return DataSplit(images: images, labels: labels, count: count)
    }

    /// Adds strokes (line segments from a to b, in a 28x28 frame centred at 13.5) with soft edges.
    private static func draw(_ label: Int, into canvas: inout [Double], dx: Double, dy: Double, width: Double) {
        typealias Seg = (Double, Double, Double, Double)
        var segs: [Seg] = []
        switch label {
        case 0: segs = [(6, 8, 21, 8), (6, 19, 21, 19)]                          // two horizontal bars
        case 1: segs = [(14, 4, 14, 23)]                                           // vertical bar
        case 2: segs = [(5, 5, 22, 22)]                                            // diagonal
        case 3: segs = [(22, 5, 5, 22)]                                            // anti-diagonal
        case 4: segs = [(5, 14, 22, 14), (14, 5, 14, 22)]                          // plus
        case 5: segs = [(6, 6, 21, 6), (21, 6, 21, 21), (21, 21, 6, 21), (6, 21, 6, 6)]   // square outline
        case 6: segs = [(5, 22, 14, 5), (14, 5, 22, 22)]                           // caret
        case 7: segs = [(6, 6, 21, 6), (21, 6, 10, 22)]                            // seven
        case 8: segs = [(8, 4, 8, 23), (19, 4, 19, 23)]                            // two vertical bars
        default: segs = [(5, 5, 22, 22), (22, 5, 5, 22)]                           // cross
        }
        for (ax0, ay0, bx0, by0) in segs {
            let ax = ax0 + dx, ay = ay0 + dy, bx = bx0 + dx, by = by0 + dy
            let vx = bx - ax, vy = by - ay
            let len2 = vx * vx + vy * vy
            for y in 0..<rows {
                for x in 0..<cols {
                    let px = Double(x), py = Double(y)
                    var t = len2 > 0 ? ((px - ax) * vx + (py - ay) * vy) / len2 : 0
                    t = max(0, min(1, t))
                    let ex = px - (ax + t * vx), ey = py - (ay + t * vy)
                    let d = (ex * ex + ey * ey).squareRoot()
                    let v = max(0, min(1, width + 0.5 - d))
                    let k = y * cols + x
                    if v > canvas[k] { canvas[k] = v }
                }
            }
        }
    }
}
