#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import PreflightData

/// The program around the session: flags, where commands come from, exit status.
public enum Program {
    public static let version = "0.1.0"

    public struct Options {
        public var files: [String] = []
        public var commands: String?
        public var stayInteractive = false
        public var seed: UInt64?
        public var dataDir: String?
        public var echo = false, quiet = false, noColor = false, strict = false, keepGoing = false, noDownload = false
        public init() {}
    }

    static func env(_ k: String) -> String? { getenv(k).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } }

    public static var home: String { env("HOME") ?? "/tmp" }
    public static var cacheDir: String { (env("XDG_CACHE_HOME") ?? home + "/.cache") + "/preflight" }
    public static var stateDir: String { (env("XDG_STATE_HOME") ?? home + "/.local/state") + "/preflight" }

    /// Runs the program; returns the exit status (0 ok, 1 a command failed, 2 a check failed under --strict).
    public static func main(_ o: Options, console: Console? = nil, reader: LineReader? = nil) -> Int32 {
        let console = console ?? Console.standard(noColor: o.noColor)
        console.quiet = o.quiet
        var so = SessionOptions(dataDir: o.dataDir ?? env("PREFLIGHT_DATA"), cacheDir: cacheDir)
        so.echo = o.echo
        so.allowDownload = !o.noDownload
        let session = Session(console: console, options: so)
        if let s = o.seed { session.config.seed = s }
        session.strict = o.strict
        Interrupt.install()
        Downloader.shouldCancel = { Interrupt.requested }

        // The scripts stop at their first failing command (unless --keep-going) and at ^C. With -i the session
        // then goes on at the prompt (the error was printed); otherwise the program ends: 1 for an error, 130
        // (128 + SIGINT, as shells do) for ^C, after everything recorded so far was kept.
        var failed = false
        var stopped = false
        for f in o.files where !stopped {
            let text: String
            do { text = try readScript(f) } catch let e as CommandError {
                console.error("error: \(e.message)"); failed = true; stopped = true; break
            } catch { failed = true; stopped = true; break }
            session.sourceStack = [absolutePath(f)]
            let ok = ScriptRunner(session: session).run(text: text, name: f, keepGoing: o.keepGoing)
            session.sourceStack = []
            if !ok { failed = true; if !o.keepGoing || Interrupt.requested { stopped = true } }
            if session.quitRequested { break }
        }
        if let c = o.commands, !session.quitRequested, !stopped {
            let ok = ScriptRunner(session: session).run(text: c, name: "-c", keepGoing: o.keepGoing)
            if !ok { failed = true; stopped = true }
        }
        if stopped && !o.stayInteractive { return Interrupt.requested ? 130 : 1 }
        Interrupt.clear()
        let scripted = !o.files.isEmpty || o.commands != nil
        let tty = isatty(0) != 0 && isatty(1) != 0
        if !session.quitRequested && (!scripted || o.stayInteractive) {
            if tty || reader != nil {
                let r = reader ?? EditLineReader(session: session)
                if !o.quiet && !scripted { console.line("preflight \(version): type `help` for the commands, ^D to leave") }
                session.repl(reader: r)
            } else {
                // Standard input is a script.
                var text = ""
                while let l = readLine(strippingNewline: false) { text += l }
                let ok = ScriptRunner(session: session).run(text: text, name: "<stdin>", keepGoing: o.keepGoing)
                if !ok { failed = true }
                if Interrupt.requested { return 130 }
            }
        }
        if failed { return 1 }
        if session.strictFailure { return 2 }
        return 0
    }
}
