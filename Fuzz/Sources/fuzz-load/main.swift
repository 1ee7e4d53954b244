// libFuzzer target: the session loader. The input is written to a file and `load PATH` runs in a fresh session.
// Errors are fine; crashes, traps, sanitizer reports and huge allocations are bugs.
import FuzzSupport
import PreflightShell

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    FuzzSupport.isolate()
    return 0
}

/// `load` legitimately regenerates saved synthetic data: a session that asks for many samples would make each
/// input slow without exercising anything new, so such inputs are rejected (kept out of the corpus).
private func asksForLargeSyntheticData(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    let key = Array("\"syntheticCount\"".utf8)
    guard bytes.count > key.count else { return false }
    var i = 0
    while i + key.count <= bytes.count {
        if bytes[i] == key[0], Array(bytes[i..<(i + key.count)]) == key {
            var j = i + key.count
            while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x3a || bytes[j] == 0x0a || bytes[j] == 0x09 || bytes[j] == 0x0d { j += 1 }
            var text = ""
            while j < bytes.count, let s = Unicode.Scalar(UInt32(bytes[j])) as Unicode.Scalar?, "0123456789eE+-.".unicodeScalars.contains(s) {
                text.unicodeScalars.append(s); j += 1
                if text.count > 40 { return true }
            }
            if let v = Double(text), !(v <= 3000) { return true }
        }
        i += 1
    }
    return false
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    if asksForLargeSyntheticData(bytes) { return -1 }
    let path = FuzzSupport.file("session.npz", bytes)
    let fresh = FuzzSupport.silentSession()
    try? fresh.execute("load \(path)")
    return 0
}
