import Foundation

extension Session {
    static let sessionCommands: [Command] = [
        Command(name: "history", group: .session, usage: "history [N] | history save FILE.pf",
                summary: "the commands so far; `history save` writes them as a replayable script",
                details: "history save keeps the commands that change the session or produce results (not help, runs, history…)",
                example: "history save session.pf", replayable: false, handler: { s, a in
                    if a.first == "save" {
                        guard a.count == 2 else { throw CommandError("history save: give a file name", usage: "history save FILE.pf") }
                        try s.saveHistory(to: a[1])
                        return
                    }
                    guard a.count <= 1 else { throw CommandError("history: unexpected `\(a[1].prefix(30))`", usage: "history [N] | history save FILE.pf") }
                    let n = try a.first.map { try parseCount($0, "N", in: "history") } ?? s.history.count
                    let start = max(0, s.history.count - n)
                    for (i, h) in s.history.enumerated() where i >= start { s.console.line("\(String(i + 1).leftPad(5))  \(h.line)") }
                }),
        Command(name: "source", group: .session, usage: "source FILE.pf", summary: "run a script inside this session",
                example: "source examples/quickstart.pf", replayable: true, handler: { s, a in
                    guard a.count == 1 else { throw CommandError("source: give one file", usage: "source FILE.pf") }
                    try s.source(a[0])
                }),
        Command(name: "help", aliases: ["?"], group: .session, usage: "help [COMMAND]",
                summary: "the commands, or one command's usage, arguments and an example", replayable: false,
                handler: { s, a in try s.help(a) }),
        Command(name: "quit", aliases: ["exit", "q"], group: .session, usage: "quit", summary: "leave (^D too)",
                replayable: false, handler: { s, _ in s.quitRequested = true }),
    ]

    func help(_ a: [String]) throws {
        if let w = a.first {
            guard let c = Session.command(named: w) else {
                throw CommandError("help: no command `\(w.prefix(30))`" + (Session.suggest(w).map { ": did you mean `\($0)`?" } ?? ""))
            }
            let width = console.wrapWidth
            console.line(console.style(c.usage, .bold))
            for l in wrapWords(c.summary, width: width, first: "  ", rest: "  ") { console.line(l) }
            if !c.details.isEmpty {
                for d in c.details.split(separator: "\n") { for l in wrapWords(String(d), width: width, first: "  ", rest: "    ") { console.line(l) } }
            }
            if !c.aliases.isEmpty { console.line("  aliases: " + c.aliases.joined(separator: ", ")) }
            if !c.example.isEmpty { console.line("  example: " + c.example) }
            return
        }
        // Short forms of the usages too long for one column (`help CMD` gives the full one).
        let brief = ["data": "data NAME|PATH [options]", "activation": "activation NAME", "init": "init NAME [P] [layer K]",
                     "optimizer": "optimizer NAME LR [momentum M]", "plot": "plot KIND [RUN…] [--out F]",
                     "sweep": "sweep init I… depth D… […]", "export": "export FILE.json|.csv",
                     "history": "history [N] | save FILE"]
        func short(_ c: Command) -> String { c.usage.count <= 30 ? c.usage : (brief[c.name] ?? c.name) }
        let w = Session.commands.map { short($0).count }.max() ?? 20
        for g in Command.Group.allCases {
            let cs = Session.commands.filter { $0.group == g }
            guard !cs.isEmpty else { continue }
            console.line(console.style(g.rawValue, .bold))
            for c in cs {
                // On a terminal, summaries wrap at spaces under their own column (or below the usage when the
                // terminal is too narrow for a column); elsewhere each stays on one line.
                let lead = "  " + short(c).rightPad(w) + "  "
                if let width = console.wrapWidth, width - lead.count < 24 {
                    console.line("  " + short(c))
                    for l in wrapWords(c.summary, width: width, first: "      ", rest: "      ") { console.line(l) }
                } else {
                    let hang = String(repeating: " ", count: lead.count)
                    for l in wrapWords(c.summary, width: console.wrapWidth, first: lead, rest: hang) { console.line(l) }
                }
            }
        }
        console.line("`help COMMAND` for details.")
    }

    /// The replayable commands, as a script.
    public func replayScript() -> String {
        var s = "# preflight session, saved by `history save`\n"
        for h in history where h.replayable { s += h.line + "\n" }
        return s
    }

    func saveHistory(to path: String) throws {
        try writeOutput(path, Array(replayScript().utf8))
        console.info("saved \(history.filter(\.replayable).count) commands to \(path)")
    }

    func source(_ path: String) throws {
        let full = URL(fileURLWithPath: path).standardizedFileURL.path
        guard !sourceStack.contains(full) else { throw CommandError("source: \(path) is already being run (a script cannot source itself)") }
        guard sourceStack.count < 16 else { throw CommandError("source: scripts nested more than 16 deep") }
        let text = try readScript(path)
        sourceStack.append(full)
        defer { sourceStack.removeLast() }
        let ok = ScriptRunner(session: self).run(text: text, name: path, keepGoing: false)
        if !ok { throw CommandError("source: \(path) stopped at its first error", usage: nil) }
    }
}

/// Reads a script file with clear errors: missing, a directory, unreadable, binary.
func readScript(_ path: String) throws -> String {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw CommandError("\(path): no such file") }
    guard !isDir.boolValue else { throw CommandError("\(path): is a directory, not a script") }
    guard let data = FileManager.default.contents(atPath: path) else { throw CommandError("\(path): cannot be read (permission?)") }
    guard data.count <= 10 << 20 else { throw CommandError("\(path): too large for a script (\(data.count) bytes)") }
    if data.contains(0) { throw CommandError("\(path): is a binary file, not a script") }
    guard let text = String(data: data, encoding: .utf8) else { throw CommandError("\(path): is not UTF-8 text") }
    return text
}

extension Session {
    /// Commands that write files; they accept `--force` to overwrite a file Preflight did not write.
    static let writingCommands: Set<String> = ["export", "plot", "report", "save", "history"]

    /// Writes an output file atomically, creating missing folders. An existing file that Preflight did not
    /// write (no Preflight signature) is kept unless the command was given `--force`.
    func writeOutput(_ path: String, _ bytes: [UInt8]) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue, !forceOverwrite,
           !isPreflightFile(path) {
            throw CommandError("\(path) exists and was not written by Preflight: add --force to overwrite it")
        }
        try writeFileAtomically(path, bytes)
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

/// Writes through a temporary file in the same folder and renames it into place; creates missing parent folders.
func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws {
    let url = URL(fileURLWithPath: path)
    let dir = url.deletingLastPathComponent()
    do {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    } catch { throw CommandError("\(path): cannot create the folder \(dir.path)") }
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
