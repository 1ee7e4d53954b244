import Foundation

/// Liang–Barsky: clip the segment (ax, ay)–(bx, by) to the rectangle
/// [minX, maxX] × [minY, maxY]. Nil when nothing is left.
func clipSegment(_ ax: Double, _ ay: Double, _ bx: Double, _ by: Double,
                 minX: Double, minY: Double, maxX: Double, maxY: Double)
    -> (Double, Double, Double, Double)? {
    var t0 = 0.0, t1 = 1.0
    let dx = bx - ax, dy = by - ay
    let p = [-dx, dx, -dy, dy]
    let q = [ax - minX, maxX - ax, ay - minY, maxY - ay]
    for i in 0..<4 {
        if p[i] == 0 {
            if q[i] < 0 { return nil }
        } else {
            let r = q[i] / p[i]
            if p[i] < 0 {
                if r > t1 { return nil }
                if r > t0 { t0 = r }
            } else {
                if r < t0 { return nil }
                if r < t1 { t1 = r }
            }
        }
    }
    return (ax + t0 * dx, ay + t0 * dy, ax + t1 * dx, ay + t1 * dy)
}

/// Clamp a coordinate to a range a renderer can handle (keeps huge values
/// from overflowing integer conversions before clipping).
@inline(__always) func tame(_ v: Double) -> Double {
    Swift.max(-1e7, Swift.min(1e7, v))
}
