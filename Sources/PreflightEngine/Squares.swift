/// Sums of squares for global-norm clipping, in a fixed order (so the same on any thread): 16 Float lanes
/// accumulate a block, whose total is added in Double. A block is small (at most a few thousand terms a lane
/// for the shapes the engine makes), so the Float lanes lose nothing that matters to a norm.

/// Σ g² over `rows` rows of `cols` floats, `stride` floats apart: one block.
@inline(__always)
func sumOfSquares(_ g: UnsafePointer<Float>, rows: Int, cols: Int, stride: Int) -> Double {
    typealias V = SIMD16<Float>
    var acc = V(), tail: Float = 0
    let vectors = cols / 16 * 16
    for r in 0..<rows {
        let row = UnsafeRawPointer(g + r * stride)
        var j = 0
        while j < vectors {
            let v = row.loadUnaligned(fromByteOffset: j * 4, as: V.self)
            acc += v * v
            j += 16
        }
        let s = g + r * stride
        while j < cols { tail += s[j] * s[j]; j += 1 }
    }
    return Double(acc.sum()) + Double(tail)
}

/// Σ g² over `count` contiguous floats, in blocks of 4096.
func sumOfSquares(_ g: UnsafePointer<Float>, count: Int) -> Double {
    var total = 0.0, start = 0
    while start < count {
        let n = min(4096, count - start)
        total += sumOfSquares(g + start, rows: 1, cols: n, stride: n)
        start += n
    }
    return total
}
