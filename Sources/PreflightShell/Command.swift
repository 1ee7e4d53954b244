/// One command of the shell: its words, help text and handler.
public struct Command {
    public enum Group: String, CaseIterable {
        case data = "Data", model = "Model", training = "Training", runs = "Runs", checks = "Checks",
             pictures = "Pictures and records", session = "Session"
    }
    public var name: String
    public var aliases: [String] = []
    public var group: Group
    /// One line: `train N`.
    public var usage: String
    /// One line for `help`.
    public var summary: String
    /// Longer text for `help CMD`: arguments, defaults.
    public var details: String = ""
    public var example: String = ""
    /// Whether a replayed script needs it (`history save` keeps only these).
    public var replayable: Bool = true
    public var handler: (Session, [String]) throws -> Void

    /// An error that prints this command's usage line.
    func usageError(_ message: String) -> CommandError { CommandError(message, usage: usage) }
}

extension Session {
    /// Every command, in help order.
    public static let commands: [Command] = dataCommands + modelCommands + remedyCommands + trainingCommands + runCommands + importCommands + sweepCommands
        + checkCommands + fixCommands + pictureCommands + sessionCommands

    public static func command(named word: String) -> Command? {
        let w = word.lowercased()
        return commands.first { $0.name == w || $0.aliases.contains(w) }
    }

    /// Runs one command (already split at `;`). Throws CommandError for anything wrong; nothing recorded is lost.
    public func execute(_ text: String) throws {
        // --echo shows every command, the failing ones too (an unknown word, a bad quote).
        if options.echo, !text.trimmingWhitespace().isEmpty { console.line(console.style("preflight> ", .dim) + text) }
        let words = try Tokenizer.words(text)
        guard let head = words.first else { return }
        if text.utf8.count > 10_000 { throw CommandError("line too long (\(text.utf8.count) bytes; the limit is 10000)") }
        guard let cmd = Session.command(named: head) else {
            var msg = "unknown command `\(head.prefix(40))`"
            if let s = Session.suggest(head) { msg += ": did you mean `\(s)`?" } else { msg += " (type `help` for the list)" }
            throw CommandError(msg)
        }
        // `~` and `~/…` name the home folder in every argument (paths: export, save, --out, source, data…).
        var args = Array(words.dropFirst()).map(expandHome)
        forceOverwrite = false
        if Session.writingCommands.contains(cmd.name), args.contains("--force") {
            args.removeAll { $0 == "--force" }
            forceOverwrite = true
        }
        defer { forceOverwrite = false }
        historyOverride = nil
        try cmd.handler(self, args)
        if let o = historyOverride {
            history += o
            historyOverride = nil
        } else {
            history.append(HistoryEntry(line: text, replayable: cmd.replayable))
        }
    }

    /// The nearest command name by edit distance, if close enough.
    static func suggest(_ word: String) -> String? {
        let w = word.lowercased()
        var best: (String, Int)? = nil
        for c in commands { for n in [c.name] + c.aliases {
            let d = editDistance(w, n)
            if best == nil || d < best!.1 { best = (n, d) }
        } }
        guard let b = best, b.1 <= max(1, min(2, w.count / 2)) || (w.count >= 3 && b.0.hasPrefix(w)) else { return nil }
        return b.0
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }; if b.isEmpty { return a.count }
    var prev = Array(0...b.count), cur = prev
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return cur[b.count]
}

// MARK: - Argument parsing helpers

/// Parses a positive integer argument with a clear error.
func parseCount(_ s: String, _ what: String, in cmd: String, min lo: Int = 1, max hi: Int = 1_000_000_000) throws -> Int {
    let head = subject(what, cmd)
    guard let v = Int(s) else { throw CommandError("\(head) must be a whole number, got `\(s.prefix(30))`") }
    guard v >= lo else { throw CommandError("\(head) must be at least \(lo), got \(v)") }
    guard v <= hi else { throw CommandError("\(head) must be at most \(hi), got \(v)") }
    return v
}

/// "train: the number of epochs", or just "epsilon:" when the value is named like its command (not "epsilon: epsilon").
private func subject(_ what: String, _ cmd: String) -> String {
    what.lowercased() == cmd.lowercased() ? "\(cmd):" : "\(cmd): \(what)"
}

/// Parses a finite number with a clear error.
func parseNumber(_ s: String, _ what: String, in cmd: String, positive: Bool = false, nonNegative: Bool = false) throws -> Double {
    let head = subject(what, cmd)
    guard let v = Double(s) else {
        throw CommandError("\(head) must be a number, got `\(s.prefix(30))`")
    }
    guard v.isFinite else { throw CommandError("\(head) must be finite, got `\(s.prefix(30))`") }
    if positive && !(v > 0) { throw CommandError("\(head) must be greater than 0, got \(s)") }
    if nonNegative && v < 0 { throw CommandError("\(head) must not be negative, got \(s)") }
    return v
}

/// `~` or `~/rest` with the home folder ($HOME) in place of `~`; any other word unchanged (`~user` is not expanded).
func expandHome(_ word: String) -> String {
    if word == "~" { return Program.home }
    if word.hasPrefix("~/") { return Program.home + word.dropFirst() }
    return word
}
