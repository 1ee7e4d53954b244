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
