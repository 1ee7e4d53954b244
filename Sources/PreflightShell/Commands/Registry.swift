import PreflightChecks   // String.trimmingWhitespace

/// The registry: every command of the shell, in help order, each declared once in its own file under Commands/.
///
/// To add a command: in a file under Commands/, declare `static let NAME = Command("NAME", group:, forms:, options:,
/// summary:, details:, example:, replayable:, writesFiles:) { session, invocation in … }` in an `extension Commands`;
/// put its work in `static func`s there taking the session; list it here. `forms` is its positional grammar
/// (`.keyword`, `.value(.count() / .number / .choice / .path / .run() / .rule / .text)`, `.optional`, `.repeated`,
/// `.any`, `.oneOf`): the usage line, `help` and Tab completion come from it, and DeclaredGrammarTests checks that
/// every keyword and option is offered and documented. The handler gets the positional words (`invocation.words`)
/// and the options (`value(_:)`, `flag(_:)`) already parsed; `invocation.usageError` adds the usage line to an error.
public enum Commands {
    public static let all: [Command] = [
        data,
        layers, activation, initializer, optimizer, batch, seed, epsilon, set, show, l2, schedule, dropout, clip, batchnorm,
        train, overfit, sweep,
        run, runs, use, compare, importRecords, diff,
        check, explain, fix,
        export, plot, report, save, load,
        history, source, help, quit,
    ]

    /// The command called `word` (by its name or an alias, without regard to case).
    public static func named(_ word: String) -> Command? {
        let w = word.lowercased()
        return all.first { $0.name == w || $0.aliases.contains(w) }
    }

    /// The nearest command name by edit distance, if close enough.
    static func suggest(_ word: String) -> String? {
        let w = word.lowercased()
        var best: (String, Int)? = nil
        for c in all { for n in [c.name] + c.aliases {
            let d = editDistance(w, n)
            if best == nil || d < best!.1 { best = (n, d) }
        } }
        guard let b = best, b.1 <= max(1, min(2, w.count / 2)) || (w.count >= 3 && b.0.hasPrefix(w)) else { return nil }
        return b.0
    }
}

extension Session {
    /// Runs one command (already split at `;`). Throws CommandError for anything wrong; nothing recorded is lost.
    public func execute(_ text: String) throws {
        // --echo shows every command, the failing ones too (an unknown word, a bad quote).
        if options.echo, !text.trimmingWhitespace().isEmpty { console.line(console.style("preflight> ", .dim) + text) }
        let words = try Tokenizer.words(text)
        guard let head = words.first else { return }
        if text.utf8.count > 10_000 { throw CommandError("line too long (\(text.utf8.count) bytes; the limit is 10000)") }
        guard let cmd = Commands.named(head) else {
            var msg = "unknown command `\(head.prefix(40))`"
            if let s = Commands.suggest(head) { msg += ": did you mean `\(s)`?" } else { msg += " (type `help` for the list)" }
            throw CommandError(msg)
        }
        // `~` and `~/…` name the home folder in every argument (paths: export, save, --out, source, data…).
        let invocation = try cmd.parse(Array(words.dropFirst()).map(expandHome))
        forceOverwrite = invocation.flag("--force")
        defer { forceOverwrite = false }
        historyOverride = nil
        try cmd.run(self, invocation)
        if let o = historyOverride {
            history += o
            historyOverride = nil
        } else {
            history.append(HistoryEntry(line: text, replayable: cmd.replayable))
        }
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
