#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the prompt's history lives on disk and how it is written without ever leaving a torn file.
public enum HistoryFile {
    /// `$XDG_STATE_HOME/preflight/history` (default `~/.local/state/preflight/history`).
    public static var defaultPath: String { Program.stateDir + "/history" }

    /// Creates `dir` and its missing parents (the last one private to the user). True when it exists afterwards.
    @discardableResult
    static func makeFolder(_ dir: String) -> Bool {
        var st = stat()
        if stat(dir, &st) == 0 { return (st.st_mode & S_IFMT) == S_IFDIR }
        var path = dir.hasPrefix("/") ? "" : "."
        let parts = dir.split(separator: "/", omittingEmptySubsequences: true)
        for (i, part) in parts.enumerated() {
            path += "/" + part
            if stat(path, &st) == 0 { continue }
            if mkdir(path, i == parts.count - 1 ? 0o700 : 0o755) != 0 && errno != EEXIST { return false }
        }
        return stat(dir, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Writes `path` atomically: `write` fills a temporary file in the same folder, which then replaces `path`
    /// by rename. On failure the old file is left as it was.
    @discardableResult
    static func atomicWrite(_ path: String, _ write: (String) -> Bool) -> Bool {
        let dir: String
        if let slash = path.lastIndex(of: "/") { dir = slash == path.startIndex ? "/" : String(path[..<slash]) } else { dir = "." }
        guard makeFolder(dir) else { return false }
        let tmp = "\(path).tmp-\(getpid())"
        guard write(tmp) else { unlink(tmp); return false }
        chmod(tmp, 0o600)
        guard rename(tmp, path) == 0 else { unlink(tmp); return false }
        return true
    }
}

/// The shared history: every session appends each line as it is entered, under a lock, so that sessions running
/// at the same time all keep their lines (interleaved in the order they were entered), as shells with a shared
/// history do. The file keeps the last `cap` entries.
///
/// The format is libedit's (which loads it): a first line `_HiStOrY_V2_`, then one entry a line, with whitespace,
/// backslashes and control characters written as `\ooo` octal escapes (strunvis reads them back).
extension HistoryFile {
    static let header = "_HiStOrY_V2_"

    /// An entry as one line of the file.
    static func encode(_ line: String) -> [UInt8] {
        var out: [UInt8] = []
        for b in line.utf8 {
            if b == UInt8(ascii: "\\") { out += [b, b]; continue }
            if b <= 0x20 || b == 0x7F {
                out.append(UInt8(ascii: "\\"))
                for shift in [6, 3, 0] { out.append(UInt8(ascii: "0") + (b >> UInt8(shift)) & 7) }
                continue
            }
            out.append(b)
        }
        return out
    }

    /// Runs `body` on `path` opened for reading and appending, holding an exclusive lock on the file that is at
    /// `path` now (a lock taken on a file another session has since replaced is dropped and taken again).
    @discardableResult
    static func withLock(_ path: String, _ body: (Int32) -> Void) -> Bool {
        let dir: String
        if let slash = path.lastIndex(of: "/") { dir = slash == path.startIndex ? "/" : String(path[..<slash]) } else { dir = "." }
        guard makeFolder(dir) else { return false }
        for _ in 0..<100 {
            let fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0o600)
            guard fd >= 0 else { return false }
            while flock(fd, LOCK_EX) != 0 {
                if errno != EINTR { close(fd); return false }
            }
            var held = stat(), now = stat()
            if fstat(fd, &held) == 0, stat(path, &now) == 0, held.st_ino == now.st_ino, held.st_dev == now.st_dev {
                body(fd)
                close(fd)   // releases the lock
                return true
            }
            close(fd)
        }
        return false
    }

    /// The file's bytes, read from `fd`.
    private static func contents(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        lseek(fd, 0, SEEK_SET)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { out += buf[0..<n]; continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
        return out
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else { return false }
        }
        return true
    }

    /// Appends one entry; when the file then holds more than `cap` entries, it is rewritten (atomically, still
    /// under the lock) with the last `cap`.
    @discardableResult
    public static func append(_ line: String, to path: String, cap: Int) -> Bool {
        var ok = false
        withLock(path) { fd in
            let old = contents(fd)
            var bytes: [UInt8] = []
            if old.isEmpty { bytes += Array((header + "\n").utf8) } else if old.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
            bytes += encode(line) + [UInt8(ascii: "\n")]
            ok = writeAll(fd, bytes)
            trimLocked(path, old + bytes, cap: cap)
        }
        return ok
    }

    /// Keeps the last `cap` entries (under the lock).
    public static func trim(_ path: String, cap: Int) {
        guard access(path, F_OK) == 0 else { return }
        withLock(path) { fd in trimLocked(path, contents(fd), cap: cap) }
    }

    private static func trimLocked(_ path: String, _ bytes: [UInt8], cap: Int) {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        if let first = lines.first, Array(first) == Array(header.utf8) { lines.removeFirst() }
        guard lines.count > cap else { return }
        var out = Array((header + "\n").utf8)
        for l in lines.suffix(cap) { out += l + [UInt8(ascii: "\n")] }
        atomicWrite(path) { tmp in
            let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            return writeAll(fd, out)
        }
    }
}
