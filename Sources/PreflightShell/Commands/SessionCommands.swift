import Foundation

extension Commands {
    static let history = Command(
        "history", group: .session, forms: [[.optional([.value(.count())])], [.keyword("save"), .value(.path("FILE.pf"))]],
        usage: "history [N] | history save FILE.pf [--force]", brief: "history [N] | save FILE",
        summary: "the commands so far; `history save` writes them as a replayable script",
        details: "history save keeps the commands that change the session or produce results (not help, runs, history…),\nas they happened: a train or sweep stopped by ^C as what it trained, a source that ran to its end as one line",
        example: "history save session.pf", replayable: false, writesFiles: true) { s, inv in
            let a = inv.words
            if a.first == "save" {
                guard a.count == 2 else { throw CommandError("history save: give a file name", usage: "history save FILE.pf") }
                try saveHistory(s, to: a[1])
                return
            }
            guard a.count <= 1 else { throw inv.usageError("history: unexpected `\(a[1].prefix(30))`") }
            let n = try a.first.map { try parseCount($0, "N", in: "history") } ?? s.history.count
            guard !s.history.isEmpty else {
                s.console.line("no commands yet in this session (the prompt's earlier lines are under Up and ^R)")
                return
            }
            let start = max(0, s.history.count - n)
            for (i, h) in s.history.enumerated() where i >= start {
                s.console.line("\(String(i + 1).leftPad(5))  \(h.line)" + (h.note.map { "  # \($0)" } ?? ""))
            }
        }

    static let source = Command(
        "source", group: .session, forms: [[.value(.path("FILE.pf"))]], summary: "run a script inside this session",
        details: """
        a relative FILE inside a script is found from that script's folder (at the prompt, from the current one)
        the script stops at its first error or at ^C (then the prompt comes back)
        history save keeps `source FILE` (with its full path) when the script ran to its end, else the commands that ran
        """,
        example: "source examples/quickstart.pf") { s, inv in
            guard inv.words.count == 1 else { throw inv.usageError("source: give one file") }
            try source(s, inv.words[0])
        }

    static let help = Command(
        "help", aliases: ["?"], group: .session,
        forms: [[.optional([.value(.text("COMMAND", what: "a command", completer: Completer { _ in Commands.all.map(\.name) }))])]],
        summary: "the commands, or one command's usage, arguments and an example", replayable: false) { s, inv in
            try help(s, inv.words)
        }

    static let quit = Command("quit", aliases: ["exit", "q"], group: .session, summary: "leave (^D too)",
                              replayable: false) { s, _ in s.quitRequested = true }
}

extension Commands {
    static func help(_ s: Session, _ a: [String]) throws {
        if let w = a.first {
            guard let c = Commands.named(w) else {
                throw CommandError("help: no command `\(w.prefix(30))`" + (Commands.suggest(w).map { ": did you mean `\($0)`?" } ?? ""))
            }
            let width = s.console.wrapWidth
            s.console.line(s.console.style(c.usage, .bold))
            for l in wrapWords(c.summary, width: width, first: "  ", rest: "  ") { s.console.line(l) }
            if !c.details.isEmpty {
                for d in c.details.split(separator: "\n") { for l in wrapWords(String(d), width: width, first: "  ", rest: "    ") { s.console.line(l) } }
            }
            if c.writesFiles { s.console.line("  --force: overwrite an existing file that Preflight did not write") }
            if !c.aliases.isEmpty { s.console.line("  aliases: " + c.aliases.joined(separator: ", ")) }
            if !c.example.isEmpty { s.console.line("  example: " + c.example) }
            return
        }
        // Commands whose usage is too long for one column show their short form (`help CMD` gives the full one).
        func short(_ c: Command) -> String { c.usage.count <= 30 ? c.usage : (c.brief ?? c.name) }
        let w = Commands.all.map { short($0).count }.max() ?? 20
        for g in Command.Group.allCases {
            let cs = Commands.all.filter { $0.group == g }
            guard !cs.isEmpty else { continue }
            s.console.line(s.console.style(g.rawValue, .bold))
            for c in cs {
                // On a terminal, summaries wrap at spaces under their own column (or below the usage when the
                // terminal is too narrow for a column); elsewhere each stays on one line.
                let lead = "  " + short(c).rightPad(w) + "  "
                if let width = s.console.wrapWidth, width - lead.count < 24 {
                    s.console.line("  " + short(c))
                    for l in wrapWords(c.summary, width: width, first: "      ", rest: "      ") { s.console.line(l) }
                } else {
                    let hang = String(repeating: " ", count: lead.count)
                    for l in wrapWords(c.summary, width: s.console.wrapWidth, first: lead, rest: hang) { s.console.line(l) }
                }
            }
        }
        s.console.line("`help COMMAND` for details.")
    }

    static func saveHistory(_ s: Session, to path: String) throws {
        try s.writeOutput(path, Array(s.replayScript().utf8))
        s.console.info("saved \(s.history.filter(\.replayable).count) commands to \(path)")
    }

    /// `source FILE`. History: `source /full/path` when the script ran to its end; when it stopped (an error, ^C),
    /// the commands that ran, since replaying the whole script would do more than happened. (Keeping `source`
    /// rather than its lines keeps a saved session short and its structure visible; the full path lets it replay
    /// from anywhere.)
    static func source(_ s: Session, _ path: String) throws {
        // A relative path inside a script is the script's neighbour, as its author meant it.
        var resolved = path
        if !path.hasPrefix("/"), let current = s.sourceStack.last {
            resolved = URL(fileURLWithPath: current).deletingLastPathComponent().appendingPathComponent(path).path
        }
        let full = absolutePath(resolved)
        if let i = s.sourceStack.firstIndex(of: full) {
            let chain = (s.sourceStack[i...] + [full]).map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: " → ")
            let by = s.sourceStack.last.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "the prompt"
            throw CommandError(s.sourceStack.last == full
                ? "source: \(path) sources itself (a script cannot source itself)"
                : "source: \(by) sources \(path), which is already running (\(chain)): scripts cannot source each other in a loop")
        }
        guard s.sourceStack.count < 16 else { throw CommandError("source: scripts nested more than 16 deep") }
        let text = try readScript(resolved)
        s.sourceStack.append(full)
        defer { s.sourceStack.removeLast() }
        let before = s.history.count
        let ok = ScriptRunner(session: s).run(text: text, name: resolved, keepGoing: false)
        if ok && !Interrupt.requested {
            s.history.removeSubrange(before...)
            s.historyOverride = [HistoryEntry(line: "source " + Tokenizer.quoteIfNeeded(full), replayable: true)]
            return
        }
        // Stopped: the commands that ran stay in the history, under a note.
        if s.history.count > before {
            s.history[before].note = (s.history[before].note.map { $0 + "; " } ?? "") + "from \(path), which stopped before its end"
        }
        s.historyOverride = []
        if !ok && !Interrupt.requested { throw CommandError("source: \(path) stopped at its first error", usage: nil) }
    }
}

/// `path` made absolute (from the current folder) and tidied (`.`, `..`).
func absolutePath(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
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
    /// The replayable commands, as a script.
    public func replayScript() -> String {
        var s = "# preflight session, saved by `history save`\n"
        for h in history where h.replayable {
            if let n = h.note { s += "# \(n)\n" }
            s += h.line + "\n"
        }
        return s
    }
}
