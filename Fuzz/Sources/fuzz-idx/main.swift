// libFuzzer target: the IDX reader. The input is written to a file and read raw, then wrapped in a valid gzip
// member (stored blocks) and read again; the bytes also go to the in-memory gzip/zlib decompressor.
// Any thrown DataError is fine; a crash, trap or sanitizer report is a bug.
import FuzzSupport
import PreflightData

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    FuzzSupport.isolate()
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let raw = FuzzSupport.file("input-idx3-ubyte", bytes)
    _ = try? IDX.read(path: raw)
    let gz = FuzzSupport.file("input-idx3-ubyte.gz", FuzzSupport.gzipStored(bytes))
    _ = try? IDX.read(path: gz)
    _ = try? Gzip.decompress(Array(bytes), path: "input")
    return 0
}
