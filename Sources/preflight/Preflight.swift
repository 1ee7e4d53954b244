import ArgumentParser
import PreflightShell
#if canImport(Glibc)
import Glibc
#endif

@main
struct Preflight: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preflight",
        abstract: "Check a neural network before you trust its training run.",
        discussion: """
        With no arguments on a terminal: the interactive shell. Otherwise the commands come from FILE.pf \
        scripts, -c, or standard input. `preflight -c help` lists the commands. \
        `preflight check FILE.json…` judges record files without a session (`preflight check --help`).
        """,
        version: Program.version)

    /// `preflight check …` is its own command; anything else is the shell's.
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        if args.first == "check" { CheckRecords.main(Array(args.dropFirst())) } else { main(args) }
    }

    @Argument(help: "Scripts (.pf) to replay in order.") var files: [String] = []
    @Option(name: .customShort("c"), help: "Commands separated by ';' or newlines.") var commands: String?
    @Flag(name: .customShort("i"), help: "After the scripts, stay at the prompt with the session.") var interactive = false
    @Option(help: "Seed for weights, shuffling and synthetic data.") var seed: UInt64?
    @Option(name: .customLong("data-dir"), help: "Folder holding mnist/ and fashion/ (else $PREFLIGHT_DATA).") var dataDir: String?
    @Flag(help: "Print each command before its output.") var echo = false
    @Flag(help: "Only results: no data summaries, notes or per-epoch lines.") var quiet = false
    @Flag(name: .customLong("no-color"), help: "No colour (NO_COLOR is honoured too).") var noColor = false
    @Flag(help: "A failing check fails the script (exit status 2).") var strict = false
    @Flag(name: .customLong("keep-going"), help: "Continue after a failing command (exit status 1 at the end).") var keepGoing = false
    @Flag(name: .customLong("no-download"), help: "Never download datasets.") var noDownload = false

    func run() throws {
        var p = Program.Options()
        p.files = files; p.commands = commands; p.stayInteractive = interactive; p.seed = seed
        p.dataDir = dataDir; p.echo = echo; p.quiet = quiet; p.noColor = noColor; p.strict = strict
        p.keepGoing = keepGoing; p.noDownload = noDownload
        let status = Program.main(p)
        if status != 0 { throw ExitCode(status) }
    }
}

/// `preflight check FILE.json… [--strict] [--json]`: the CI gate.
struct CheckRecords: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preflight check",
        abstract: "Judge record files (Preflight's export or the Python probe's) without a session.",
        discussion: """
        Each run of each file is judged by the same rules and thresholds as `check` in the shell (the defaults, \
        changed by --set). Exit status: 0 when every file was read (and, with --strict, no check failed); 1 when \
        a file could not be read (the error names the file and the field) or a --set is wrong; 2 with --strict \
        when a check failed; 64 for a wrong command line.
        """)

    @Argument(help: "Record files (.json), schema version 1 or 2; - reads one from standard input.") var files: [String]
    @Flag(help: "Exit with status 2 when a check fails.") var strict = false
    @Flag(help: "Print the findings as JSON instead of tables.") var json = false
    @Option(name: .customLong("set"), help: ArgumentHelp("Change a check setting, as `set` does in the shell (repeatable).",
                                                          valueName: "check.RULE.NAME=VALUE")) var settings: [String] = []
    @Flag(name: .customLong("no-color"), help: "No colour (NO_COLOR is honoured too).") var noColor = false

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one record file (.json)") }
    }

    func run() throws {
        let status = Program.checkRecords(files, strict: strict, json: json, settings: settings,
                                          console: Console.standard(noColor: noColor || json))
        if status != 0 { throw ExitCode(status) }
    }
}
