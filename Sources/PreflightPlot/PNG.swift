import CRsvg
import CZlibShim
import Foundation

/// librsvg or cairo could not turn a chart's SVG into a PNG.
public struct PNGRenderError: Error, CustomStringConvertible {
    public var description: String
}

extension Chart {
    /// The chart as a PNG file: exactly the SVG of `renderSVG(width:height:)`, drawn by librsvg at the SVG's own
    /// size (anti-aliased lines, the system's fonts) and encoded by cairo as 8-bit RGB, with a `tEXt` chunk
    /// `Software` = `preflight` after the header (the signature that lets Preflight overwrite its own files).
    public func renderPNG(width: Int = 640, height: Int = 400) throws -> [UInt8] {
        let svg = SVGRenderer(chart: self, width: width, height: height)
        let w = svg.pixelWidth, h = svg.pixelHeight
        guard w <= 16384, h <= 16384 else {
            throw PNGRenderError(description: "cannot draw a PNG of \(w)x\(h) pixels: at most 16384 a side")
        }
        let text = svg.render()
        var buffer = preflight_png_buffer(bytes: nil, length: 0, capacity: 0)
        var message: UnsafeMutablePointer<CChar>? = nil
        defer {
            free(buffer.bytes)
            free(message)
        }
        let rc = text.withCString { preflight_svg_to_png($0, strlen($0), Int32(w), Int32(h), &buffer, &message) }
        guard rc == 0, let bytes = buffer.bytes else {
            throw PNGRenderError(description: "cannot draw the chart as PNG: " + (message.map { String(cString: $0) } ?? "librsvg failed"))
        }
        return pngWithSignature(Array(UnsafeBufferPointer(start: bytes, count: buffer.length)))
    }
}

/// `png` with a `tEXt` chunk `Software\0preflight` right after its IHDR chunk (8 + 25 bytes in).
func pngWithSignature(_ png: [UInt8]) -> [UInt8] {
    let afterHeader = 8 + 12 + 13
    guard png.count > afterHeader else { return png }
    let body = Array("tEXt".utf8) + Array("Software".utf8) + [0] + Array("preflight".utf8)
    let crc = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
    func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    let chunk = be32(UInt32(body.count - 4)) + body + be32(crc)
    return Array(png[..<afterHeader]) + chunk + Array(png[afterHeader...])
}
