#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEdit

/// The signal (SIGTERM, SIGHUP) that asked the program to end; 0 while none. Written only by the handler.
/// (nonisolated(unsafe): the pointer itself never changes; what it points at is a sig_atomic_t, the one type a
/// signal handler may write and the program read without a lock.)
nonisolated(unsafe) private let terminationSignal: UnsafeMutablePointer<sig_atomic_t> = {
    let p = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: 1)
    p.initialize(to: 0)
    return p
}()

/// The line editor at the prompt: libedit with emacs bindings, `~/.editrc`, persistent history, grammar-aware Tab.
///
/// Signals: ^C (SIGINT, handled by `Interrupt` without SA_RESTART) cancels the line being typed. SIGTERM and SIGHUP
/// only set a flag (and the ^C flag, so training stops at the next batch boundary); at the prompt the reader then
/// saves the history, restores the terminal and ends the program with that signal. A second one ends it at once.
/// Whichever thread the kernel hands them to, they are handled on the thread that reads the prompt
/// (`Interrupt.onSignalThread`): only there does a signal interrupt libedit's read.
public final class EditLineReader: LineReader {
    public let session: Session
    /// The history file (`$XDG_STATE_HOME/preflight/history`).
    public let historyPath: String
    /// Entries kept in memory and on disk.
    public static let historySize: Int32 = 1000

    private var el: OpaquePointer?
    private var hist: OpaquePointer?
    /// The prompt as libedit sees it (styling bracketed by \u{1}); alive as long as the editor.
    fileprivate var promptBuffer: UnsafeMutablePointer<CChar>?
    private var promptSource = ""
    /// Line and cursor at which candidates were last listed (a second Tab there lists nothing new).
    fileprivate var lastListing: (line: String, cursor: Int)?

    public init(session: Session, historyPath: String = HistoryFile.defaultPath) {
        self.session = session
        self.historyPath = historyPath
        setlocale(LC_CTYPE, "")   // UTF-8 input and width of non-ASCII characters

        hist = history_init()
        if let h = hist {
            _ = pf_hist_setsize(h, EditLineReader.historySize)
            _ = pf_hist_setunique(h, 1)
            if access(historyPath, R_OK) == 0 { _ = pf_hist_load(h, historyPath) }
        }

        el = pf_el_init("preflight")   // `preflight:` lines of ~/.editrc apply to us
        guard let e = el else { return }
        _ = pf_el_set_clientdata(e, Unmanaged.passUnretained(self).toOpaque())
        _ = pf_el_set_editor(e, "emacs")
        if let h = hist { _ = pf_el_set_hist(e, h) }
        _ = pf_el_set_prompt(e, { e in
            guard let e, let data = pf_el_get_clientdata(e) else { return nil }
            return Unmanaged<EditLineReader>.fromOpaque(data).takeUnretainedValue().promptBuffer
        }, 1)
        _ = pf_el_addfn(e, "preflight-complete", "complete the word at the cursor", { e, _ in
            guard let e, let data = pf_el_get_clientdata(e) else { return UInt8(CC_ERROR) }
            return Unmanaged<EditLineReader>.fromOpaque(data).takeUnretainedValue().complete(e)
        })
        _ = pf_el_bind(e, "^I", "preflight-complete")
        _ = pf_el_bind(e, "^W", "ed-delete-prev-word")
        _ = el_source(e, nil)   // the user's ~/.editrc (or $EDITRC) has the last word
        EditLineReader.installTerminationHandlers()
    }

    deinit {
        if let e = el { el_end(e) }
        if let h = hist { history_end(h) }
        free(promptBuffer)
    }

    // MARK: LineReader

    public func readLine(prompt: String) -> ReadResult {
        checkTermination()
        guard let e = el else { return .end }
        setPrompt(prompt)
        el_resize(e)   // the terminal may have changed size while a command ran
        lastListing = nil
        errno = 0
        var count: Int32 = 0
        let p = el_gets(e, &count)
        let err = errno
        checkTermination()
        if let p, count > 0 {
            var line = String(cString: p)
            while let last = line.last, last == "\n" || last == "\r\n" { line.removeLast() }
            return .line(line)
        }
        if Interrupt.requested || (count < 0 && err == EINTR) {
            // ^C: drop the line, leave it visible, prompt again on a fresh line.
            Interrupt.clear()
            fputs("\n", pf_stdout()); fflush(pf_stdout())
            return .cancelled
        }
        // ^D on an empty line (count 0), or the terminal went away.
        fputs("\n", pf_stdout()); fflush(pf_stdout())
        return .end
    }

    /// Remembers the line for Up and ^R, and appends it to the history file at once (`HistoryFile.append`), so
    /// that sessions running side by side all keep their lines. A line equal to the one before is kept once.
    public func addHistory(_ line: String) {
        guard let h = hist, !line.isEmpty else { return }
        _ = pf_hist_enter(h, line)
        guard line != lastEntered else { return }
        lastEntered = line
        HistoryFile.append(line, to: historyPath, cap: Int(EditLineReader.historySize))
    }
    private var lastEntered: String?

    /// The lines are in the file already (appended as entered): only cap it at `historySize` entries.
    public func saveHistory() {
        HistoryFile.trim(historyPath, cap: Int(EditLineReader.historySize))
    }

    // MARK: Prompt

    private func setPrompt(_ prompt: String) {
        guard prompt != promptSource || promptBuffer == nil else { return }
        promptSource = prompt
        free(promptBuffer)
        promptBuffer = strdup(EditLineReader.bracketEscapes(prompt, marker: "\u{1}"))
    }

    /// Surrounds each ANSI escape sequence with `marker` so libedit does not count it as visible width.
    public static func bracketEscapes(_ s: String, marker: Character) -> String {
        var out = "", inEscape = false, sawBracket = false
        for ch in s {
            if inEscape {
                out.append(ch)
                if ch == "[" && !sawBracket { sawBracket = true; continue }
                if !sawBracket || ch.isLetter { out.append(marker); inEscape = false }
            } else if ch == "\u{1B}" {
                out.append(marker); out.append(ch); inEscape = true; sawBracket = false
            } else {
                out.append(ch)
            }
        }
        if inEscape { out.append(marker) }
        return out
    }

    // MARK: Completion

    /// The Tab key: insert the candidates' common prefix; when that adds nothing, list them below the line.
    fileprivate func complete(_ e: OpaquePointer) -> UInt8 {
        guard let info = el_line(e)?.pointee, let buffer = info.buffer else { return UInt8(CC_ERROR) }
        let cursorBytes = info.cursor.map { $0 - buffer } ?? 0
        let endBytes = info.lastchar.map { $0 - buffer } ?? cursorBytes
        let bytes = UnsafeRawBufferPointer(start: buffer, count: max(endBytes, cursorBytes))
        let line = String(decoding: bytes, as: UTF8.self)
        let before = String(decoding: bytes.prefix(cursorBytes), as: UTF8.self)
        let cursor = before.count

        let (from, candidates) = completions(line: line, cursor: cursor, session: session)
        guard !candidates.isEmpty else { return UInt8(CC_REFRESH_BEEP) }
        let typed = String(Array(before)[min(from, cursor)...])
        let common = Completion.commonPrefix(candidates)

        if candidates.count == 1 {
            let c = candidates[0]
            let closed = c.hasSuffix("/") ? c : (c.first == "\"" || c.first == "'" ? c + String(c.first!) : c) + " "
            replace(e, typed, with: closed)
            lastListing = nil
            return UInt8(CC_REFRESH)
        }
        if common != typed && common.count >= typed.count {
            replace(e, typed, with: common)
            lastListing = nil
            return UInt8(CC_REFRESH)
        }
        if let l = lastListing, l.line == line, l.cursor == cursor { return UInt8(CC_NORM) }
        lastListing = (line, cursor)
        let shown = candidates.map(EditLineReader.displayName)
        var width = 80
        var ws = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { width = Int(ws.ws_col) }
        let text = Completion.columnize(shown, width: width - 1).split(separator: "\n", omittingEmptySubsequences: false)
            .joined(separator: "\r\n")
        fputs("\r\n" + text, pf_stdout())
        fflush(pf_stdout())
        return UInt8(CC_REDISPLAY)
    }

    /// What the list shows for a candidate: a path's last component (folders keep their `/`), without quotes.
    public static func displayName(_ c: String) -> String {
        var s = Substring(c)
        if s.first == "\"" || s.first == "'" { s = s.dropFirst() }
        let folder = s.hasSuffix("/")
        if folder { s = s.dropLast() }
        if let slash = s.lastIndex(of: "/") { s = s[s.index(after: slash)...] }
        return String(s) + (folder ? "/" : "")
    }

    private func replace(_ e: OpaquePointer, _ typed: String, with text: String) {
        let n = typed.unicodeScalars.count   // libedit counts wide characters
        if n > 0 { el_deletestr(e, Int32(n)) }
        _ = el_insertstr(e, text)
    }

    // MARK: Signals

    /// Whether SIGTERM and SIGHUP are handled (the prompt's reader exists): only then may a command turn the
    /// terminal's echo off, since a signal that ends the program at once would leave it off.
    /// (nonisolated(unsafe): set once, by the thread that reads the prompt, before it runs any command; only that
    /// thread reads it, so no two threads ever touch it.)
    nonisolated(unsafe) static private(set) var handlersInstalled = false

    /// SIGTERM / SIGHUP: the first asks the session to stop as ^C does (and remembers the signal), a second ends
    /// the program at once.
    private static let onTerminationSignal: @convention(c) (Int32) -> Void = { sig in
        guard Interrupt.onSignalThread(sig) else { return }
        if terminationSignal.pointee != 0 { _exit(128 + sig) }
        terminationSignal.pointee = sig
        Interrupt.request()
    }

    private static func installTerminationHandlers() {
        guard !handlersInstalled else { return }
        handlersInstalled = true
        _ = terminationSignal
        Interrupt.install()   // the ^C flag exists before any handler can touch it
        var sa = sigaction()
        #if canImport(Glibc)
        sa.__sigaction_handler.sa_handler = onTerminationSignal
        #else
        sa.__sigaction_u.__sa_handler = onTerminationSignal
        #endif
        sigemptyset(&sa.sa_mask)
        sa.sa_flags = 0   // no SA_RESTART: a blocked read at the prompt returns
        sigaction(SIGTERM, &sa, nil)
        sigaction(SIGHUP, &sa, nil)
    }

    /// After SIGTERM/SIGHUP: save the history, give the terminal back, end with the signal's default action.
    private func checkTermination() {
        let sig = terminationSignal.pointee
        guard sig != 0 else { return }
        saveHistory()
        if let e = el { el_end(e); el = nil }
        fflush(pf_stdout())
        signal(sig, SIG_DFL)
        raise(sig)
        _exit(128 + sig)
    }
}
