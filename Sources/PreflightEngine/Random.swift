/// Preflight's own seeded generator (xoshiro256**, seeded through SplitMix64), so that the same seed
/// gives the same numbers on every machine and Swift version.
public struct Xoshiro: Sendable, Equatable, Codable {
    public var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// `seed` selects the experiment, `stream` one independent sequence within it (init, shuffle, …).
    public init(seed: UInt64, stream: UInt64 = 0) {
        var sm = seed &+ stream &* 0xD1B5_4A32_D192_ED03
        func next() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = next(); s1 = next(); s2 = next(); s3 = next()
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform integer in 0..<n (Lemire's method without bias).
    @inline(__always)
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// Standard normal (Box–Muller, both values drawn fresh each call for simplicity).
    public mutating func normal() -> Double {
        var u1 = uniform()
        while u1 <= 0 { u1 = uniform() }
        let u2 = uniform()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// Fisher–Yates shuffle of `0..<n` into `order`.
    public mutating func shuffle(_ order: inout [Int32]) {
        var i = order.count - 1
        while i > 0 {
            let j = below(i + 1)
            order.swapAt(i, j)
            i -= 1
        }
    }
}
