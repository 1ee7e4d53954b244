import PreflightEngine
import PreflightData
import Foundation
import Synchronization

// Training speed of Preflight's engine on MNIST, against the sgemm ceiling measured in the same run.
// Usage: preflight-bench [--epochs N] [--depths 2,3,4] [--data-dir DIR] [--threads N]

var epochs = 4
var depths = [2, 3, 4]
var dataDir = ProcessInfo.processInfo.environment["PREFLIGHT_DATA"]
var threadsArg: Int? = nil
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let a = args.removeFirst()
    switch a {
    case "--epochs": epochs = Int(args.removeFirst())!
    case "--depths": depths = args.removeFirst().split(separator: ",").map { Int($0)! }
    case "--data-dir": dataDir = args.removeFirst()
    case "--threads": threadsArg = Int(args.removeFirst())!
    default: print("unknown argument \(a)"); exit(2)
    }
}

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
func f1(_ x: Double) -> String { String(format: "%.1f", x) }
func f0(_ x: Double) -> String { String(format: "%.0f", x) }

/// Matrix-product FLOPs of one training sample: forward, weight gradients, and input gradients of every layer but the first.
func flopsPerSample(_ sizes: [Int]) -> Double {
    var f = 0.0
    for l in 0..<(sizes.count - 1) {
        let p = 2.0 * Double(sizes[l] * sizes[l + 1])
        f += p * 2 + (l > 0 ? p : 0)
    }
    return f
}

/// The same sgemm calls as one training step of `sizes` at batch `b`, alone, single-threaded: GFLOP/s.
func gemmCeiling(_ sizes: [Int], batch b: Int, seconds: Double = 1.0) -> Double {
    let maxN = sizes.max()!
    let A = UnsafeMutablePointer<Float>.allocate(capacity: b * maxN); A.initialize(repeating: 0.5, count: b * maxN)
    let D = UnsafeMutablePointer<Float>.allocate(capacity: b * maxN); D.initialize(repeating: 0.25, count: b * maxN)
    var Ws: [UnsafeMutablePointer<Float>] = []
    for l in 0..<(sizes.count - 1) {
        let w = UnsafeMutablePointer<Float>.allocate(capacity: sizes[l] * sizes[l + 1]); w.initialize(repeating: 0.01, count: sizes[l] * sizes[l + 1])
        Ws.append(w)
    }
    let G = UnsafeMutablePointer<Float>.allocate(capacity: maxN * maxN); G.initialize(repeating: 0, count: maxN * maxN)
    let C = UnsafeMutablePointer<Float>.allocate(capacity: b * maxN); C.initialize(repeating: 0, count: b * maxN)
    func step() {
        for l in 0..<(sizes.count - 1) {
            BLAS.gemm(m: b, n: sizes[l + 1], k: sizes[l], a: A, lda: sizes[l], b: Ws[l], ldb: sizes[l + 1], c: C, ldc: sizes[l + 1])
        }
        for l in stride(from: sizes.count - 2, through: 0, by: -1) {
            BLAS.gemm(transA: true, m: sizes[l], n: sizes[l + 1], k: b, a: A, lda: sizes[l], b: D, ldb: sizes[l + 1], c: G, ldc: sizes[l + 1])
            if l > 0 { BLAS.gemm(transB: true, m: b, n: sizes[l], k: sizes[l + 1], a: D, lda: sizes[l + 1], b: Ws[l], ldb: sizes[l + 1], c: C, ldc: sizes[l]) }
        }
    }
    for _ in 0..<50 { step() }
    var n = 0
    let t0 = monotonicSeconds()
    while monotonicSeconds() - t0 < seconds { for _ in 0..<20 { step() }; n += 20 }
    let dt = monotonicSeconds() - t0
    return flopsPerSample(sizes) * Double(b) * Double(n) / dt / 1e9
}

/// A large square sgemm on one thread: the machine's matrix peak as OpenBLAS reaches it.
func gemmPeak() -> Double {
    let n = 1024
    let a = [Float](repeating: 0.5, count: n * n), b = a
    var c = [Float](repeating: 0, count: n * n)
    var best = 0.0
    for _ in 0..<4 {
        let t0 = monotonicSeconds()
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            BLAS.gemm(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
        } } }
        best = max(best, 2.0 * Double(n * n * n) / (monotonicSeconds() - t0) / 1e9)
    }
    return best
}

/// Round trip of a cache line between two threads: ~70 ns when the two vCPUs share a cache ("near"),
/// several hundred when they do not ("far").
final class PingPong: @unchecked Sendable {
    let flag = Atomic<Int>(0)
    func measure(rounds: Int = 200_000) -> Double {
        let done = Atomic<Int>(0)
        let t = Thread { [self] in
            for i in 0..<rounds {
                while flag.load(ordering: .acquiring) != 2 * i + 1 {}
                flag.store(2 * i + 2, ordering: .releasing)
            }
            done.store(1, ordering: .releasing)
        }
        t.start()
        let t0 = monotonicSeconds()
        for i in 0..<rounds {
            flag.store(2 * i + 1, ordering: .releasing)
            while flag.load(ordering: .acquiring) != 2 * i + 2 {}
        }
        let dt = monotonicSeconds() - t0
        while done.load(ordering: .acquiring) == 0 {}
        return dt / Double(rounds) * 1e9
    }
}

BLAS.setThreads(1)
print("preflight-bench: MNIST, batch 100, Adam 0.001, relu, Float32, OpenBLAS single-threaded per product, training threads \(threadsArg ?? Trainer.defaultThreads)")
let cores = ProcessInfo.processInfo.activeProcessorCount
let rt = PingPong().measure()
print("machine: \(cores) cores; cache-line round trip between two threads \(f0(rt)) ns (\(rt < 150 ? "near: the vCPUs share a cache" : "far: the vCPUs do not share a cache"))")
let peak = gemmPeak()
print("sgemm 1024x1024x1024, one thread: \(f1(peak)) GFLOP/s")

let ds: Dataset
do {
    ds = try DatasetLoader.load("mnist", dataDir: dataDir, cacheDir: NSHomeDirectory() + "/.cache/preflight", syntheticCount: nil,
                                seed: 0, allowDownload: false, progress: nil)
} catch {
    print("bench: cannot load MNIST: \(error)")
    exit(1)
}
let train = SampleSet(pixels: ds.train.images, labels: ds.train.labels, count: ds.train.count, features: 784, scale: 1 / 255)
let test = SampleSet(pixels: ds.test.images, labels: ds.test.labels, count: ds.test.count, features: 784, scale: 1 / 255)

print("")
print("layers                  samples/s (median, range)     s/epoch   GFLOP/s   ceiling GFLOP/s   of ceiling   test acc")
for depth in depths {
    let sizes = [784] + Array(repeating: 128, count: depth) + [10]
    let net = Network(sizes: sizes, activation: .relu)
    net.initialize(Array(repeating: .glorot, count: sizes.count - 1), seed: 1)
    let t = Trainer(network: net, optimizer: .adam(lr: 0.001), seed: 1)
    if let n = threadsArg { t.threads = n }
    var rates: [Double] = [], secs: [Double] = []
    for _ in 0..<epochs {
        let r = t.trainEpoch(train, test: test, batch: 100, epsilon: 1e-7)!
        rates.append(r.samplesPerSecond); secs.append(r.seconds)
    }
    let ceiling = gemmCeiling(sizes, batch: 100)
    let med = median(rates)
    let gflops = med * flopsPerSample(sizes) / 1e9
    let name = sizes.map(String.init).joined(separator: "-")
    func col(_ t: String, _ w: Int) -> String { t.padding(toLength: max(w, t.count + 1), withPad: " ", startingAt: 0) }
    print(col(name, 24) + col("\(f0(med)) (\(f0(rates.min()!))-\(f0(rates.max()!)))", 30)
          + col(String(format: "%.3f", median(secs)), 10) + col(f1(gflops), 10) + col(f1(ceiling), 18)
          + col(String(format: "%.0f%%", gflops / ceiling * 100), 13) + String(format: "%.2f%%", (t.epochs.last!.testAccuracy ?? 0) * 100))
}
