// libFuzzer target: the npz and npy readers. The input is written to a file and read with NPZ.readMNIST (ZIP
// through ZIPFoundation, then the four .npy arrays) and NPZ.read; the bytes also go to NPYReader whole (as
// features and as labels) and as the features of an X.npy Y.npy pair.
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
    let path = FuzzSupport.file("input.npz", bytes)
    _ = try? NPZ.readMNIST(path: path)
    _ = try? NPZ.readMNIST(path: path, classes: 10)
    _ = try? NPZ.read(path: path)
    for purpose in [NPYReader.Purpose.values, .labels] {
        let r = NPYReader(name: "input.npy", purpose: purpose, availableBytes: size)
        _ = try? r.feed(UnsafeRawBufferPointer(bytes))
        _ = try? r.finish()
    }
    let npy = FuzzSupport.file("input.npy", bytes)
    _ = try? NPZ.readPair(x: npy, y: npy)
    return 0
}
