// libFuzzer target: the npz reader. The input is written to a file and read with NPZ.readMNIST (ZIP through
// ZIPFoundation, then the four .npy arrays); the bytes also go straight to NPY.parse.
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
    _ = try? NPY.parse(Array(bytes), name: "input.npy")
    return 0
}
