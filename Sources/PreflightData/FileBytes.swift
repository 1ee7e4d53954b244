#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain POSIX file access with one-line errors that name the file.
enum FileBytes {
    /// Describes errno for a file operation.
    static func reason(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES, EPERM: return "cannot read it: permission denied"
        case EISDIR: return "is a directory, expected a file"
        case ENOTDIR: return "a component of the path is not a directory"
        default:
            if let s = strerror(code) { return String(cString: s) }
            return "error \(code)"
        }
    }

    enum Kind { case missing, file, directory, other }

    static func kind(_ path: String) -> Kind {
        var st = stat()
        guard stat(path, &st) == 0 else { return .missing }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    static func isFile(_ path: String) -> Bool { kind(path) == .file }
    static func isDirectory(_ path: String) -> Bool { kind(path) == .directory }

    static func size(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(st.st_size)
    }

    /// An open, regular, readable file. Closed on deinit.
    final class Handle {
        let fd: Int32
        let path: String
        let size: Int

        init(path: String) throws {
            self.path = path
            var st = stat()
            if stat(path, &st) != 0 { throw DataError(path: path, reason(errno)) }
            let type = st.st_mode & S_IFMT
            if type == S_IFDIR { throw DataError(path: path, "is a directory, expected a file") }
            if type != S_IFREG { throw DataError(path: path, "is not a regular file") }
            let fd = open(path, O_RDONLY)
            if fd < 0 { throw DataError(path: path, reason(errno)) }
            self.fd = fd
            self.size = Int(st.st_size)
        }

        deinit { close(fd) }

        /// Reads up to `count` bytes into `dst`; returns how many were read (fewer only at end of file).
        func read(into dst: UnsafeMutableRawPointer, count: Int) throws -> Int {
            var done = 0
            while done < count {
                let n = posixRead(fd, dst + done, min(count - done, 1 << 30))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DataError(path: path, "read failed: \(reason(errno))")
                }
                if n == 0 { break }
                done += n
            }
            return done
        }
    }

    /// The whole file, in memory.
    static func readAll(path: String) throws -> [UInt8] {
        let h = try Handle(path: path)
        var out = [UInt8]()
        if h.size > 0 {
            var got = 0
            out = try [UInt8](unsafeUninitializedCapacity: h.size) { buf, initialized in
                got = try h.read(into: buf.baseAddress!, count: h.size)
                initialized = got
            }
        }
        // A file that grew while we read it: take the rest too.
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try h.read(into: $0.baseAddress!, count: $0.count) }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Calls `body` with consecutive chunks of the file.
    static func forEachChunk(path: String, chunkSize: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        let h = try Handle(path: path)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try h.read(into: buffer, count: chunkSize)
            if n == 0 { break }
            try body(UnsafeBufferPointer(start: buffer.assumingMemoryBound(to: UInt8.self), count: n))
            if n < chunkSize { break }
        }
    }
}

private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
