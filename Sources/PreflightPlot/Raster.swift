import Foundation

/// An RGB8 canvas with the few drawing operations the charts need.
struct Canvas {
    let width: Int, height: Int
    var pixels: [UInt8]

    init(width: Int, height: Int, background: RGB) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[3 * i] = background.r; pixels[3 * i + 1] = background.g; pixels[3 * i + 2] = background.b
        }
    }

    @inline(__always) mutating func blend(_ x: Int, _ y: Int, _ c: RGB, _ alpha: Float) {
        guard x >= 0, y >= 0, x < width, y < height, alpha > 0 else { return }
        let i = 3 * (y * width + x)
        if alpha >= 1 {
            pixels[i] = c.r; pixels[i + 1] = c.g; pixels[i + 2] = c.b
            return
        }
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8((Float(a) * (1 - alpha) + Float(b) * alpha).rounded())
        }
        pixels[i] = mix(pixels[i], c.r)
        pixels[i + 1] = mix(pixels[i + 1], c.g)
        pixels[i + 2] = mix(pixels[i + 2], c.b)
    }

    mutating func fill(x: Int, y: Int, w: Int, h: Int, _ c: RGB) {
        for yy in Swift.max(0, y)..<Swift.max(Swift.max(0, y), Swift.min(height, y + h)) {
            for xx in Swift.max(0, x)..<Swift.max(Swift.max(0, x), Swift.min(width, x + w)) {
                blend(xx, yy, c, 1)
            }
        }
    }

    mutating func hline(_ x0: Int, _ x1: Int, _ y: Int, _ c: RGB) {
        fill(x: Swift.min(x0, x1), y: y, w: abs(x1 - x0) + 1, h: 1, c)
    }

    mutating func vline(_ x: Int, _ y0: Int, _ y1: Int, _ c: RGB) {
        fill(x: x, y: Swift.min(y0, y1), w: 1, h: abs(y1 - y0) + 1, c)
    }

    /// Draw `s` with its top-left corner at (x, y).
    mutating func text(_ s: String, x: Int, y: Int, scale: Int, _ c: RGB) {
        let font = BitmapFont.shared
        var pen = x
        for ch in s {
            let g = font.glyph(ch)
            for p in g.pixels {
                fill(x: pen + p.x * scale, y: y + p.y * scale, w: scale, h: scale, c)
            }
            pen += (g.width + 1) * scale
        }
    }

    /// Draw `s` rotated a quarter turn anticlockwise (reading bottom to top);
    /// (x, y) is the bottom-left corner of the first glyph's cell.
    mutating func textUp(_ s: String, x: Int, y: Int, scale: Int, _ c: RGB) {
        let font = BitmapFont.shared
        var pen = y
        for ch in s {
            let g = font.glyph(ch)
            for p in g.pixels {
                fill(x: x + p.y * scale, y: pen - (p.x + 1) * scale, w: scale, h: scale, c)
            }
            pen -= (g.width + 1) * scale
        }
    }
}

/// Anti-aliased coverage of thick lines and dots inside a clip rectangle,
/// composited onto a canvas in one colour (so joints are not darkened).
struct CoverageMask {
    let x0: Int, y0: Int, w: Int, h: Int
    var a: [Float]

    init(x0: Int, y0: Int, w: Int, h: Int) {
        self.x0 = x0; self.y0 = y0
        self.w = Swift.max(0, w); self.h = Swift.max(0, h)
        a = [Float](repeating: 0, count: self.w * self.h)
    }

    /// A polyline of width 2·`halfWidth`; with `dash` = (on, off) lengths the
    /// line is dashed along its length.
    mutating func polyline(_ pts: [(x: Double, y: Double)], halfWidth: Double, dash: (Double, Double)?) {
        guard pts.count > 1 else { return }
        var along = 0.0
        let m = halfWidth + 1
        for k in 1..<pts.count {
            let (ax, ay) = pts[k - 1], (bx, by) = pts[k]
            let len = ((bx - ax) * (bx - ax) + (by - ay) * (by - ay)).squareRoot()
            defer { along += len }
            guard let (cx, cy, dx, dy) = clipSegment(
                ax, ay, bx, by, minX: Double(x0) - m, minY: Double(y0) - m,
                maxX: Double(x0 + w) + m, maxY: Double(y0 + h) + m) else { continue }
            let minX = Swift.max(x0, Int((Swift.min(cx, dx) - m).rounded(.down)))
            let maxX = Swift.min(x0 + w - 1, Int((Swift.max(cx, dx) + m).rounded(.up)))
            let minY = Swift.max(y0, Int((Swift.min(cy, dy) - m).rounded(.down)))
            let maxY = Swift.min(y0 + h - 1, Int((Swift.max(cy, dy) + m).rounded(.up)))
            if minX > maxX || minY > maxY { continue }
            let ex = bx - ax, ey = by - ay
            let len2 = ex * ex + ey * ey
            for py in minY...maxY {
                for px in minX...maxX {
                    let qx = Double(px) + 0.5, qy = Double(py) + 0.5
                    var t = len2 > 0 ? ((qx - ax) * ex + (qy - ay) * ey) / len2 : 0
                    t = Swift.max(0, Swift.min(1, t))
                    if let (on, off) = dash {
                        let s = (along + t * len).truncatingRemainder(dividingBy: on + off)
                        if s > on { continue }
                    }
                    let fx = ax + t * ex - qx, fy = ay + t * ey - qy
                    let d = (fx * fx + fy * fy).squareRoot()
                    let cov = Float(Swift.max(0, Swift.min(1, halfWidth + 0.5 - d)))
                    if cov > 0 {
                        let i = (py - y0) * w + (px - x0)
                        if cov > a[i] { a[i] = cov }
                    }
                }
            }
        }
    }

    mutating func disc(x: Double, y: Double, radius r: Double) {
        let minX = Swift.max(x0, Int((x - r - 1).rounded(.down))), maxX = Swift.min(x0 + w - 1, Int((x + r + 1).rounded(.up)))
        let minY = Swift.max(y0, Int((y - r - 1).rounded(.down))), maxY = Swift.min(y0 + h - 1, Int((y + r + 1).rounded(.up)))
        if minX > maxX || minY > maxY { return }
        for py in minY...maxY {
            for px in minX...maxX {
                let dx = Double(px) + 0.5 - x, dy = Double(py) + 0.5 - y
                let cov = Float(Swift.max(0, Swift.min(1, r + 0.5 - (dx * dx + dy * dy).squareRoot())))
                let i = (py - y0) * w + (px - x0)
                if cov > a[i] { a[i] = cov }
            }
        }
    }

    func composite(onto canvas: inout Canvas, _ c: RGB) {
        for yy in 0..<h {
            for xx in 0..<w where a[yy * w + xx] > 0 {
                canvas.blend(x0 + xx, y0 + yy, c, a[yy * w + xx])
            }
        }
    }
}

extension Chart {
    /// A PNG file (RGB, 8 bits per channel) drawn by the built-in rasteriser:
    /// white background, grid, axes, anti-aliased 2px series lines in the
    /// shared palette, and text in a built-in bitmap font.
    public func renderPNG(width: Int = 640, height: Int = 400) -> [UInt8] {
        let canvas = rasterize(width: Swift.max(width, 80), height: Swift.max(height, 60))
        return encodePNG(width: canvas.width, height: canvas.height, rgb: canvas.pixels)
    }

    func rasterize(width: Int, height: Int) -> Canvas {
        // Text scale: 1 for small images, 2 from about 1000px wide.
        let small = width < 1000 ? 1 : 2
        let big = small + 1
        let font = BitmapFont.shared
        func scale(_ role: FrameLayout.Role) -> Int { role == .title ? big : small }
        let L = FrameLayout(
            chart: self, width: width, height: height,
            textWidth: { s, role in Double(font.width(s, scale: scale(role))) },
            lineHeight: { role in Double((BitmapFont.ascent + BitmapFont.descent) * scale(role)) })
        let geo = L.geo
        var cv = Canvas(width: width, height: height, background: RGB(255, 255, 255))
        let grid = RGB(0xE6, 0xE6, 0xE6), frame = RGB(0xC8, 0xC8, 0xC8), axis = RGB(0x33, 0x33, 0x33)
        let tickText = RGB(0x44, 0x44, 0x44), ink = RGB(0x22, 0x22, 0x22)

        let left = Int(L.plotLeft.rounded(.down)), top = Int(L.plotTop.rounded(.down))
        let right = Int(L.plotRight.rounded(.down)), bottom = Int(L.plotBottom.rounded(.down))
        func X(_ v: Double) -> Int { Int(L.px(v).rounded(.down)) }
        func Y(_ v: Double) -> Int { Int(L.py(geo.transform(v)).rounded(.down)) }

        // Grid and frame.
        for v in geo.yTicks { cv.hline(left, right, Y(v), grid) }
        if !geo.empty { for v in geo.xTicks { cv.vline(X(v), top, bottom, grid) } }
        cv.hline(left, right, top, frame)
        cv.vline(right, top, bottom, frame)
        cv.vline(left, top, bottom, axis)
        cv.hline(left, right, bottom, axis)

        // Ticks and their labels.
        let ts = small, th = BitmapFont.ascent * ts
        let tl = Int(L.tickLength)
        for (v, label) in zip(geo.yTicks, L.yLabels) {
            let y = Y(v)
            cv.hline(left - tl, left, y, axis)
            let w = font.width(label, scale: ts)
            cv.text(label, x: left - tl - 4 - w, y: y - th / 2, scale: ts, tickText)
        }
        var lastEnd = Int.min
        for (v, label) in zip(geo.xTicks, L.xLabels) {
            let x = X(v)
            cv.vline(x, bottom, bottom + tl, axis)
            let w = font.width(label, scale: ts)
            let x0 = x - w / 2
            if x0 <= lastEnd + 4 { continue }  // would overlap the previous label
            cv.text(label, x: x0, y: bottom + tl + 4, scale: ts, tickText)
            lastEnd = x0 + w
        }

        // Title and axis labels.
        if !title.isEmpty {
            cv.text(title, x: left, y: Int(L.titleY), scale: big, RGB(0x11, 0x11, 0x11))
        }
        if !xLabel.isEmpty {
            let w = font.width(xLabel, scale: small)
            let y = bottom + tl + 4 + (BitmapFont.ascent + BitmapFont.descent) * ts + 8
            cv.text(xLabel, x: (left + right) / 2 - w / 2, y: y, scale: small, ink)
        }
        if !yLabel.isEmpty {
            let w = font.width(yLabel, scale: small)
            cv.textUp(yLabel, x: 10, y: (top + bottom) / 2 + w / 2, scale: small, ink)
        }
        if geo.empty {
            let msg = "no data"
            let w = font.width(msg, scale: big)
            cv.text(msg, x: (left + right) / 2 - w / 2, y: (top + bottom) / 2 - BitmapFont.ascent * big / 2,
                    scale: big, RGB(0x88, 0x88, 0x88))
        }

        // Series: clipped to the plot area (plus a little, so lines on the
        // border are not cut in half).
        let looks = self.looks
        for (i, runs) in geo.runs.enumerated() {
            var mask = CoverageMask(x0: left - 1, y0: top - 1, w: right - left + 3, h: bottom - top + 3)
            let dash: (Double, Double)? = looks[i].dashed ? (7, 5) : nil
            let markers = L.wantsMarkers(series: i)
            for run in runs {
                let pts = run.map { (x: L.px($0.x), y: L.py($0.t)) }
                mask.polyline(pts, halfWidth: 1.0, dash: dash)
                if markers || run.count == 1 {
                    for p in pts { mask.disc(x: p.x, y: p.y, radius: 2.8) }
                }
            }
            mask.composite(onto: &cv, Palette.color(looks[i].slot))
        }

        // Legend.
        for e in L.legend {
            var mask = CoverageMask(x0: 0, y0: 0, w: width, h: height)
            let dash: (Double, Double)? = looks[e.series].dashed ? (7, 5) : nil
            let y = e.y.rounded(.down) + 0.5
            mask.polyline([(e.x, y), (e.x + L.legendSampleWidth, y)], halfWidth: 1.25, dash: dash)
            mask.composite(onto: &cv, Palette.color(looks[e.series].slot))
            let lh = BitmapFont.ascent * small
            cv.text(e.name, x: Int(e.x + L.legendSampleWidth + 6), y: Int(y) - lh / 2, scale: small, ink)
        }
        return cv
    }
}
