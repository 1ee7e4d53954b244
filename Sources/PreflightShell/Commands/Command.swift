import PreflightChecks

/// One command of the shell, declared once: its words, grammar, options, help and handler. Parsing (options and
/// their values, the usage line of an error), `help`, Tab completion, `--force` and `history save` all read this
/// declaration; the handler receives the parsed `Invocation` and acts on the session. The registry is `Commands.all`.
public struct Command: Sendable {
    public enum Group: String, CaseIterable, Sendable {
        case data = "Data", model = "Model", training = "Training", runs = "Runs", checks = "Checks",
             pictures = "Pictures and records", session = "Session"
    }
    public var name: String
    public var aliases: [String]
    public var group: Group
    /// The positional grammar: one or more alternative forms, each a sequence of terms. Completion walks it; the
    /// usage line is drawn from it (forms joined by ` | `, then the options).
    public var forms: [[Term]]
    /// Options (`--limit N`, `--all`), accepted anywhere after the command word. A command that writes files
    /// has `--force` among them.
    public var options: [CommandOption]
    /// One line for `help`.
    public var summary: String
    /// Longer text for `help CMD`: arguments, defaults.
    public var details: String
    public var example: String
    /// Whether a replayed script needs it (`history save` keeps only these).
    public var replayable: Bool
    /// Whether it writes files (then `--force` lets it overwrite a file Preflight did not write).
    public var writesFiles: Bool
    /// A short usage for the `help` list when the full one is too long for its column.
    public var brief: String?
    /// Acts on the session.
    public var run: @Sendable (Session, Invocation) throws -> Void
    private var usageOverride: String?

    /// `usage` replaces the line drawn from the grammar where that would read worse (the declared-grammar test
    /// still checks that `help` names every keyword and option).
    public init(_ name: String, aliases: [String] = [], group: Group, forms: [[Term]] = [[]], options: [CommandOption] = [],
                usage: String? = nil, brief: String? = nil, summary: String, details: String = "", example: String = "",
                replayable: Bool = true, writesFiles: Bool = false,
                run: @escaping @Sendable (Session, Invocation) throws -> Void) {
        self.name = name; self.aliases = aliases; self.group = group; self.forms = forms
        self.options = options + (writesFiles ? [CommandOption("--force")] : [])
        self.usageOverride = usage; self.brief = brief
        self.summary = summary; self.details = details; self.example = example
        self.replayable = replayable; self.writesFiles = writesFiles; self.run = run
    }

    /// One line: `train N`.
    public var usage: String {
        if let u = usageOverride { return u }
        let body = forms.map { Term.render($0) }.filter { !$0.isEmpty }.joined(separator: " | ")
        let opts = options.map { o in "[" + o.name + (o.value.map { " " + $0.placeholder } ?? "") + "]" }
        return ([name] + (body.isEmpty ? [] : [body]) + opts).joined(separator: " ")
    }

    /// An error that prints this command's usage line.
    func usageError(_ message: String) -> CommandError { CommandError(message, usage: usage) }

    /// The option named `word` (by its name or an alias).
    func option(named word: String) -> CommandOption? {
        options.first { $0.name == word || $0.aliases.contains(word) }
    }

    /// Whether `word` is written as an option (`--x`, `-x`; a negative number is not).
    static func looksLikeOption(_ word: String) -> Bool {
        word.count > 1 && word.hasPrefix("-") && Double(word) == nil
    }

    /// Splits the words after the command word into positional words and options, checking the options against
    /// the declaration. A command without options takes every word as positional.
    public func parse(_ args: [String]) throws -> Invocation {
        var inv = Invocation(command: self)
        guard !options.isEmpty else { inv.words = args; return inv }
        var i = 0
        while i < args.count {
            let a = args[i]
            var o = option(named: a)
            var inline: String? = nil
            if o == nil, let eq = a.firstIndex(of: "="), let named = option(named: String(a[..<eq])), named.value != nil {
                o = named; inline = String(a[a.index(after: eq)...])
            }
            guard let opt = o else {
                if Command.looksLikeOption(a) {
                    let names = options.map(\.name)
                    let hint = names.count == 1 ? " (the option is \(names[0]))"
                        : names.count <= 3 ? " (the options are \(names.joined(separator: ", ")))" : ""
                    throw usageError("\(name): unknown option \(a.prefix(30))" + hint)
                }
                inv.words.append(a); i += 1
                continue
            }
            if let v = opt.value {
                guard inv.values[opt.name] == nil else { throw usageError("\(name): \(opt.name) given twice") }
                if let inline { inv.values[opt.name] = inline; i += 1 }
                else {
                    guard i + 1 < args.count else { throw usageError("\(name): \(opt.name) needs \(v.what)") }
                    inv.values[opt.name] = args[i + 1]; i += 2
                }
            } else {
                inv.flags.insert(opt.name); i += 1
            }
            if !inv.given.contains(opt.name) { inv.given.append(opt.name) }
        }
        return inv
    }
}

/// An option of a command: a flag (`--all`) or one taking a value (`--limit N`).
public struct CommandOption: Sendable {
    public var name: String
    public var aliases: [String]
    /// nil: a flag.
    public var value: Value?
    public init(_ name: String, aliases: [String] = [], _ value: Value? = nil) {
        self.name = name; self.aliases = aliases; self.value = value
    }
}

/// One term of a command's positional grammar.
public indirect enum Term: Sendable {
    /// A literal word (`save`, `layer`, `momentum`), matched without regard to case.
    case keyword(String)
    /// A word standing for a value (`N`, `PATH`, a run name).
    case value(Value)
    /// The terms, or nothing.
    case optional([Term])
    /// One or more of the term.
    case repeated(Term)
    /// Zero or more of the term.
    case any(Term)
    /// One of the alternatives.
    case oneOf([[Term]])

    /// The usage text of a sequence of terms: `sgd LR [momentum M]`.
    public static func render(_ terms: [Term]) -> String {
        terms.map { t -> String in
            switch t {
            case .keyword(let k): return k
            case .value(let v): return v.placeholder
            case .optional(let ts): return "[" + render(ts) + "]"
            case .repeated(let t): return render([t]) + "…"
            case .any(let t): return "[" + render([t]) + "…]"
            case .oneOf(let alts): return alts.map { render($0) }.joined(separator: "|")
            }
        }.joined(separator: " ")
    }
}

/// What a positional word or an option's value stands for: how help names it, which words fit, what Tab offers.
public struct Value: Sendable {
    /// The name in the usage line: `N`, `PATH`, `unit|standard|none`.
    public var placeholder: String
    /// What an option wants when its value is missing: `--limit needs a number`.
    public var what: String
    /// The fixed words it takes (offered by Tab, listed by help); nil when any word of the right shape will do.
    public var choices: [String]?
    /// What Tab offers when `choices` is nil.
    public var completer: Completer
    /// A word it accepts (for walks of the grammar, the tests' included).
    public var sample: String
    /// Whether a word fits here (for completion's walk through the grammar; the handler checks it fully).
    public var accepts: @Sendable (String) -> Bool

    public init(_ placeholder: String, what: String, choices: [String]? = nil, completer: Completer = .nothing,
                sample: String, accepts: @escaping @Sendable (String) -> Bool = { _ in true }) {
        self.placeholder = placeholder; self.what = what; self.choices = choices
        self.completer = choices.map { c in Completer.words(c) } ?? completer
        self.sample = sample; self.accepts = accepts
    }

    /// A whole number.
    public static func count(_ placeholder: String = "N", what: String = "a number") -> Value {
        Value(placeholder, what: what, sample: "2", accepts: { Int($0) != nil })
    }
    /// Any number.
    public static func number(_ placeholder: String, what: String = "a number") -> Value {
        Value(placeholder, what: what, sample: "0.5", accepts: { Double($0) != nil })
    }
    /// One of fixed words (matched without regard to case); `placeholder` defaults to them joined by `|`.
    public static func choice(_ words: [String], placeholder: String? = nil, what: String? = nil) -> Value {
        let lower = Set(words.map { $0.lowercased() })
        return Value(placeholder ?? words.joined(separator: "|"), what: what ?? words.joined(separator: ", "),
                     choices: words, sample: words[0], accepts: { lower.contains($0.lowercased()) })
    }
    /// Free text (a name, a key).
    public static func text(_ placeholder: String, what: String, completer: Completer = .nothing) -> Value {
        Value(placeholder, what: what, completer: completer, sample: "x")
    }
    /// A file name; with `suffix`, only names ending in it fit (`X.npy`).
    public static func path(_ placeholder: String, what: String = "a file name", suffix: String? = nil) -> Value {
        Value(placeholder, what: what, completer: .paths, sample: "file" + (suffix ?? ".txt"),
              accepts: { w in suffix.map { w.lowercased().hasSuffix($0) } ?? true })
    }
    /// The name of one of the session's runs.
    public static func run(_ placeholder: String = "NAME") -> Value {
        Value(placeholder, what: "a run name", completer: .runs, sample: "run1")
    }
    /// A check rule's id.
    public static let rule = Value("RULE", what: "a rule", completer: .rules, sample: "saturation")
}

/// What Tab offers for a value: words (from the session and the words typed so far) and, optionally, file names.
public struct Completer: Sendable {
    public var words: @Sendable (CompletionContext) -> [String]
    public var paths: Bool

    public init(paths: Bool = false, words: @escaping @Sendable (CompletionContext) -> [String]) {
        self.words = words; self.paths = paths
    }
    public static let nothing = Completer { _ in [] }
    public static let paths = Completer(paths: true) { _ in [] }
    public static func words(_ w: [String], paths: Bool = false) -> Completer { Completer(paths: paths) { _ in w } }
    /// The session's runs not yet named on the line.
    public static let runs = Completer { c in c.session.runs.map(\.name).filter { !c.positionals.contains($0) } }
    /// The rules not yet named on the line.
    public static let rules = Completer { c in Rules.all.map(\.id).filter { !c.positionals.contains($0) } }
}

/// What a completer sees: the session and the positional words typed so far after the command word.
public struct CompletionContext {
    public let session: Session
    public let positionals: [String]
}

/// A command as typed, parsed against its declaration.
public struct Invocation {
    public let command: Command
    /// The positional words, in order (options and their values taken out).
    public var words: [String] = []
    /// The options given with a value, by name.
    public var values: [String: String] = [:]
    /// The flags given.
    public var flags: Set<String> = []
    /// Every option given, in the order first given.
    public var given: [String] = []

    public init(command: Command) { self.command = command }
    public func flag(_ name: String) -> Bool { flags.contains(name) }
    public func value(_ name: String) -> String? { values[name] }
    public var usage: String { command.usage }
    /// An error followed by the command's usage line.
    public func usageError(_ message: String) -> CommandError { command.usageError(message) }
}
