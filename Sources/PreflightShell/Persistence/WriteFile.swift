import Foundation

extension Session {
    /// Writes an output file atomically, creating missing folders. An existing file that Preflight did not
    /// write (no Preflight signature) is kept unless the command was given `--force`.
    func writeOutput(_ path: String, _ bytes: [UInt8]) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue, !forceOverwrite,
           !isPreflightFile(path) {
            throw CommandError("\(path) exists and was not written by Preflight: add --force to overwrite it")
        }
        try writeFileAtomically(path, bytes, created: { self.console.info("created folder \($0)") })
    }
}

/// Whether a file carries the signature of one of Preflight's outputs (so overwriting it loses nothing of the user's).
func isPreflightFile(_ path: String) -> Bool {
    guard let h = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? h.close() }
    let size = (try? h.seekToEnd()) ?? 0
    if size == 0 { return true }
    try? h.seek(toOffset: 0)
    let head = h.readData(ofLength: 4096)
    var tail = Data()
    if size > 4096 { try? h.seek(toOffset: max(0, size - 4096)); tail = h.readData(ofLength: 4096) }
    let text = String(decoding: head, as: UTF8.self)
    if text.hasPrefix("{") && text.contains("\"version\"") && text.contains("\"runs\"") { return true }          // export .json
    if text.hasPrefix("run,phase,epoch,layer,metric,value") { return true }                                // export .csv
    if text.hasPrefix("# preflight session") { return true }                                                // history save
    if text.contains("<meta name=\"generator\" content=\"preflight\">") { return true }                    // report
    if text.hasPrefix("<svg") && text.contains("<!-- preflight -->") { return true }                         // plot .svg
    if head.starts(with: [0x89, 0x50, 0x4E, 0x47]) && (head + tail).range(of: Data("Software".utf8) + Data([0]) + Data("preflight".utf8)) != nil { return true }  // plot .png
    if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) && (head + tail).range(of: Data("session.json".utf8)) != nil { return true }         // save
    return false
}

/// Writes through a temporary file in the same folder and renames it into place. Missing parent folders are
/// created and `created` is told each one (so the user learns of a folder made by a typo, `/nonexist/x.png`).
func writeFileAtomically(_ path: String, _ bytes: [UInt8], created: (String) -> Void = { _ in }) throws {
    let url = URL(fileURLWithPath: path)
    let dir = url.deletingLastPathComponent()
    // The missing folders, named as the user wrote the path (`docs`, not the absolute form).
    var missing: [String] = []
    var parts = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
    while !parts.isEmpty {
        let p = parts.joined(separator: "/")
        if p.isEmpty || p == "." || p == ".." || FileManager.default.fileExists(atPath: p) { break }
        missing.insert(p, at: 0)
        parts = parts.dropLast()
    }
    do {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    } catch { throw CommandError("\(path): cannot create the folder \(dir.path)") }
    for m in missing { created(m) }
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
        throw CommandError("\(path): is a directory")
    }
    let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    guard FileManager.default.createFile(atPath: tmp.path, contents: Data(bytes)) else {
        throw CommandError("\(path): cannot write (permission or disk space?)")
    }
    if rename(tmp.path, path) != 0 {
        try? FileManager.default.removeItem(at: tmp)
        throw CommandError("\(path): cannot write (\(String(cString: strerror(errno))))")
    }
}
