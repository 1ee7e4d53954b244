#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PreflightEngine
import PreflightChecks

/// Tab completion that knows the shell's grammar. Pure: no terminal needed.
///
/// `cursor` and the returned `replaceFrom` count Characters from the start of `line`. The candidates are the
/// full replacements for `line[replaceFrom..<cursor]` (the word being typed), sorted and without duplicates.
/// A path candidate naming a folder ends with `/`.
public func completions(line: String, cursor: Int, session: Session) -> (replaceFrom: Int, candidates: [String]) {
    let chars = Array(line)
    let cur = max(0, min(cursor, chars.count))
    let before = Array(chars[..<cur])

    // Only the command after the last `;` (outside quotes) matters; a `#` outside quotes starts a comment.
    var start = 0
    var quote: Character? = nil
    for (i, ch) in before.enumerated() {
        if let q = quote { if ch == q { quote = nil } }
        else if ch == "\"" || ch == "'" { quote = ch }
        else if ch == ";" { start = i + 1 }
        else if ch == "#" { return (cur, []) }
    }

    // Words before the cursor; the last one (possibly empty) is the one being completed.
    var words: [String] = []
    var word = "", wordStart = cur, inWord = false
    quote = nil
    var openQuote: Character? = nil
    for i in start..<cur {
        let ch = before[i]
        if let q = quote {
            if ch == q { quote = nil } else { word.append(ch) }
        } else if ch == "\"" || ch == "'" {
            if !inWord { inWord = true; wordStart = i; openQuote = ch }
            quote = ch
        } else if ch.isWhitespace {
            if inWord { words.append(word); word = ""; inWord = false; openQuote = nil }
        } else {
            if !inWord { inWord = true; wordStart = i; openQuote = nil }
            word.append(ch)
        }
    }
    if !inWord { wordStart = cur; word = ""; openQuote = nil }
    let prefix = word
    let position = words.count   // 0: the command word

    var pool: [String] = []
    var paths = false

    if position == 0 {
        for c in Session.commands { pool.append(c.name); pool += c.aliases.filter { $0.first?.isLetter == true } }
    } else if let cmd = Session.command(named: words[0]) {
        let args = Array(words.dropFirst())
        let prev = args.last?.lowercased()
        let runNames = session.runs.map(\.name)
        switch cmd.name {
        case "init":
            if position == 1 { pool = Initializer.names + Initializer.kerasNames }
            else if prev != "layer" {
                let head = args[0].lowercased()
                let needsNumber = ["truncnormal", "normal", "uniform"].contains(head)   // Keras' names have a default
                if (!needsNumber || args.count >= 2) && !args.contains(where: { $0.lowercased() == "layer" }) { pool = ["layer"] }
            }
        case "activation":
            if position == 1 { pool = Activation.allCases.map(\.rawValue) }
        case "optimizer":
            if position == 1 { pool = OptimizerKind.names }
            else if position == 3, args[0].lowercased() == "sgd" { pool = ["momentum"] }
        case "data":
            if prev == "--scale" { pool = ["unit", "standard", "none"] }
            else if prev == "--delimiter" { pool = [",", ";", "tab", "|"] }
            else if ["--limit", "--test", "--label", "--x", "--y", "--x-test", "--y-test"].contains(prev) { pool = [] }
            else if prefix.hasPrefix("-") {
                pool = ["--limit", "--scale", "--test", "--label", "--no-header", "--delimiter", "--drop-missing",
                        "--x", "--y", "--x-test", "--y-test"]
            }
            else if position == 1 { pool = ["mnist", "fashion", "synthetic"]; paths = true }
            else if position == 2, args[0].lowercased().hasSuffix(".npy") { paths = true }
        case "use":
            if position == 1 { pool = runNames }
        case "compare":
            pool = runNames.filter { !args.contains($0) }
        case "plot":
            if position == 1 { pool = ["loss", "accuracy", "hidden", "saturation", "grads"] }
            else if prev == "--out" { paths = true }
            else if prefix.hasPrefix("-") { pool = ["--out", "--log"].filter { !args.contains($0) } }
            else { pool = runNames.filter { !args.contains($0) } }
        case "set":
            if position == 1 { pool = session.settingsList().map(\.0) }
            else if position == 2, args[0].lowercased() == "strict" { pool = ["on", "off"] }
            else if position == 2, args[0].lowercased() == "schedule" { pool = ["none", "step", "cosine"] }
            else if position == 2, args[0].lowercased() == "clip" { pool = ["off"] }
        case "check":
            pool = Rules.all.map(\.id).filter { !args.contains($0) }
        case "explain":
            pool = Rules.all.map(\.id).filter { !args.contains($0) }
        case "help":
            if position == 1 { pool = Session.commands.map(\.name) }
        case "show":
            if position == 1 { pool = ["init"] }
        case "history":
            if position == 1 { pool = ["save"] }
            else if position == 2, args[0].lowercased() == "save" { paths = true }
        case "export":
            if position == 1 { paths = true }
            else if prefix.hasPrefix("-") { pool = ["--no-timings"] }
        case "source", "save", "load", "report":
            if position == 1 { paths = true }
        case "import":
            paths = true
        case "fix":
            if position == 1 { pool = ["apply"] + Rules.all.map(\.id) }
            else if args[0].lowercased() != "apply" { pool = Rules.all.map(\.id).filter { !args.contains($0) } }
        case "diff":
            if position <= 2 { pool = runNames.filter { !args.contains($0) } }
        case "schedule":
            if position == 1 { pool = ["none", "step", "cosine"] }
        case "clip":
            if position == 1 { pool = ["off"] }
        case "sweep":
            let keywords = ["init", "depth", "epochs", "seeds"]
            let lastKeyword = args.last { keywords.contains($0.lowercased()) }?.lowercased()
            pool = lastKeyword == "init" ? Initializer.names + Initializer.kerasNames + keywords : keywords
        default:
            break
        }
    }

    var out = Set(pool.filter { $0.hasPrefix(prefix) })
    if paths { out.formUnion(Completion.paths(prefix)) }
    var candidates = out.sorted()
    // Re-open the quote the user typed, or quote a path with spaces.
    if let q = openQuote { candidates = candidates.map { String(q) + $0 } }
    else { candidates = candidates.map { $0.contains(where: { $0 == " " || $0 == "\t" }) ? "\"" + $0 : $0 } }
    return (wordStart, candidates)
}

/// The pieces of completion, public for tests.
public enum Completion {
    /// File names starting with `prefix` (a path as typed: `~/` is expanded for the lookup, kept in the result).
    /// Folders end with `/`; hidden names only when the typed name starts with `.`.
    public static func paths(_ prefix: String) -> [String] {
        let dirPart: String, base: String
        if let slash = prefix.lastIndex(of: "/") {
            dirPart = String(prefix[...slash]); base = String(prefix[prefix.index(after: slash)...])
        } else { dirPart = ""; base = prefix }
        if prefix == "~" { return ["~/"] }
        var lookup = dirPart.isEmpty ? "." : dirPart
        if lookup.hasPrefix("~/") { lookup = Program.home + lookup.dropFirst() }
        guard let dir = opendir(lookup) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw -> String in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name == "." || name == ".." { continue }
            if name.hasPrefix(".") && !base.hasPrefix(".") { continue }
            guard name.hasPrefix(base) else { continue }
            var full = (lookup.hasSuffix("/") ? lookup : lookup + "/") + name
            if lookup == "." { full = name }
            var st = stat()
            let isDir = stat(full, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
            out.append(dirPart + name + (isDir ? "/" : ""))
        }
        return out
    }

    /// The longest common prefix of `strings` (by Character).
    public static func commonPrefix(_ strings: [String]) -> String {
        guard var p = strings.first.map(Array.init) else { return "" }
        for s in strings.dropFirst() {
            let a = Array(s)
            var n = 0
            while n < p.count && n < a.count && p[n] == a[n] { n += 1 }
            p.removeLast(p.count - n)
        }
        return String(p)
    }

    /// Lays out `items` in columns for a terminal `width` wide (like `ls`), one string with newlines.
    public static func columnize(_ items: [String], width: Int) -> String {
        guard !items.isEmpty else { return "" }
        let colWidth = (items.map(\.count).max() ?? 0) + 2
        let cols = max(1, min(items.count, max(1, width) / max(1, colWidth)))
        let rows = (items.count + cols - 1) / cols
        var out = ""
        for r in 0..<rows {
            var line = ""
            for c in 0..<cols {
                let i = c * rows + r
                guard i < items.count else { continue }
                let item = items[i]
                let last = c == cols - 1 || (c + 1) * rows + r >= items.count
                line += last ? item : item + String(repeating: " ", count: colWidth - item.count)
            }
            out += line + "\n"
        }
        return out
    }
}
