// Shared by the fuzz targets: a private scratch folder, input files, a gzip wrapper and a silent session.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PreflightShell

public enum FuzzSupport {
    /// /tmp/preflight-fuzz-PID: inputs are written here, HOME and the current folder point here, and it is
    /// removed when the process exits normally.
    public static let scratch: String = {
        let p = "/tmp/preflight-fuzz-\(getpid())"
        for sub in ["", "/home", "/cache"] { mkdir(p + sub, 0o700) }
        atexit { try? FileManager.default.removeItem(atPath: FuzzSupport.scratchPath()) }
        return p
    }()

    static func scratchPath() -> String { "/tmp/preflight-fuzz-\(getpid())" }

    /// Keeps a run away from the machine's own files: no Keras cache, no $PREFLIGHT_LIMIT or $PREFLIGHT_DATA.
    /// Call once, before the first input. (The current folder stays: libFuzzer resolves its arguments later.)
    public static func isolate() {
        setenv("HOME", scratch + "/home", 1)
        setenv("KERAS_HOME", scratch + "/home/keras", 1)
        unsetenv("PREFLIGHT_LIMIT")
        unsetenv("PREFLIGHT_DATA")
    }

    /// Writes `bytes` to `name` in the scratch folder (replacing it) and returns its path.
    @discardableResult
    public static func file(_ name: String, _ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let path = scratch + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "fuzz: cannot create \(path)")
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            precondition(n > 0, "fuzz: cannot write \(path)")
            done += n
        }
        close(fd)
        return path
    }

    @discardableResult
    public static func file(_ name: String, _ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { file(name, $0) }
    }

    /// A valid one-member gzip file holding `bytes` in stored (uncompressed) deflate blocks, so the fuzzer's bytes
    /// reach the IDX parser through the decompressor unchanged.
    public static func gzipStored(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]
        var i = 0
        repeat {
            let n = min(bytes.count - i, 65535)
            let last = i + n == bytes.count
            out.append(last ? 1 : 0)
            out += [UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)]
            if n > 0 { out += UnsafeBufferPointer(rebasing: bytes[i..<(i + n)]) }
            i += n
        } while i < bytes.count
        let crc = crc32(bytes)
        for v in [crc, UInt32(truncatingIfNeeded: bytes.count)] {
            for s in stride(from: 0, to: 32, by: 8) { out.append(UInt8((v >> UInt32(s)) & 0xff)) }
        }
        return out
    }

    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return ~c
    }

    /// A session that prints nothing, never downloads, and caches under the scratch folder.
    public static func silentSession() -> Session {
        let console = Console(out: { _ in }, err: { _ in }, color: false, interactive: false, unicode: true, width: 80)
        var o = SessionOptions(dataDir: nil, cacheDir: scratch + "/cache")
        o.allowDownload = false
        return Session(console: console, options: o)
    }
}
