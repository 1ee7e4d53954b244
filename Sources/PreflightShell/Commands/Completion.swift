#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        for c in Commands.all { pool.append(c.name); pool += c.aliases.filter { $0.first?.isLetter == true } }
    } else if let cmd = Commands.named(words[0]) {
        let offer = cmd.completions(after: Array(words.dropFirst()), prefix: prefix, session: session)
        pool = offer.words
        paths = offer.paths
    }

    var out = Set(pool.filter { $0.hasPrefix(prefix) })
    if paths { out.formUnion(Completion.paths(prefix)) }
    var candidates = out.sorted()
    // Re-open the quote the user typed, or quote a path with spaces.
    if let q = openQuote { candidates = candidates.map { String(q) + $0 } }
    else { candidates = candidates.map { $0.contains(where: { $0 == " " || $0 == "\t" }) ? "\"" + $0 : $0 } }
    return (wordStart, candidates)
}

extension Command {
    /// What Tab offers after `typed` (the words after the command word) for a word starting with `prefix`: the
    /// value of an option just named; the options not yet given when the word starts with `-`; else whatever the
    /// grammar lets come next.
    func completions(after typed: [String], prefix: String, session: Session) -> (words: [String], paths: Bool) {
        var positionals: [String] = [], given = Set<String>()
        var pending: CommandOption? = nil
        for w in typed {
            if pending != nil { pending = nil; continue }
            if let o = option(named: w) {
                given.insert(o.name)
                if o.value != nil { pending = o }
                continue
            }
            if !options.isEmpty && Command.looksLikeOption(w) { continue }
            positionals.append(w)
        }
        let context = CompletionContext(session: session, positionals: positionals)
        if let v = pending?.value { return (v.completer.words(context), v.completer.paths) }
        if !options.isEmpty && prefix.hasPrefix("-") { return (options.map(\.name).filter { !given.contains($0) }, false) }
        var words: [String] = [], paths = false
        for t in Term.next(forms, after: positionals) {
            switch t {
            case .keyword(let k): words.append(k)
            case .value(let v): words += v.completer.words(context); paths = paths || v.completer.paths
            default: break
            }
        }
        return (words, paths)
    }
}

extension Term {
    /// The keywords and values that may come after `words` in one of `forms`.
    static func next(_ forms: [[Term]], after words: [String]) -> [Term] {
        var states = forms.flatMap { expand($0) }
        for w in words {
            states = states.flatMap { s -> [[Term]] in
                guard let head = s.first, head.matches(w) else { return [] }
                return expand(Array(s.dropFirst()))
            }
        }
        return states.compactMap(\.first)
    }

    /// The ways a sequence of terms can start with a keyword or a value (or be over: an empty sequence).
    static func expand(_ terms: [Term], depth: Int = 0) -> [[Term]] {
        guard let head = terms.first, depth < 32 else { return [terms] }
        let rest = Array(terms.dropFirst())
        switch head {
        case .keyword, .value: return [terms]
        case .optional(let ts): return expand(ts + rest, depth: depth + 1) + expand(rest, depth: depth + 1)
        case .repeated(let t): return expand([t, .any(t)] + rest, depth: depth + 1)
        case .any(let t): return expand([t, .any(t)] + rest, depth: depth + 1) + expand(rest, depth: depth + 1)
        case .oneOf(let alts): return alts.flatMap { expand($0 + rest, depth: depth + 1) }
        }
    }

    /// Whether a typed word fits this keyword or value.
    func matches(_ word: String) -> Bool {
        switch self {
        case .keyword(let k): return k == word.lowercased()
        case .value(let v): return v.accepts(word)
        default: return false
        }
    }
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
