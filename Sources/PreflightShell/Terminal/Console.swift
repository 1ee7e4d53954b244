#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEdit

/// Where the shell's text goes. Tests capture it; the program writes to stdout/stderr.
public final class Console: @unchecked Sendable {
    /// Normal output (results, tables, per-epoch lines).
    public var out: (String) -> Void
    /// Errors and warnings.
    public var err: (String) -> Void
    /// ANSI colour and styling allowed (terminal, no NO_COLOR, no --no-color).
    public var color: Bool
    /// Output is a terminal: progress bars may redraw in place.
    public var interactive: Bool
    /// Unicode box/braille characters allowed.
    public var unicode: Bool
    /// Terminal width in columns (80 when unknown). On a terminal it is read again each time (the window may have
    /// been resized since the last command); setting it fixes it (tests).
    public var width: Int {
        get { widthSource?() ?? fixedWidth }
        set { fixedWidth = newValue; widthSource = nil }
    }
    private var fixedWidth: Int
    /// Reads the current width (nil: unknown, use the fixed one).
    public var widthSource: (() -> Int?)?
    /// --quiet: informational lines (data summaries, notes, per-epoch lines) are suppressed.
    public var quiet: Bool = false

    public init(out: @escaping (String) -> Void, err: @escaping (String) -> Void, color: Bool = false,
                interactive: Bool = false, unicode: Bool = true, width: Int = 80) {
        self.out = out; self.err = err; self.color = color; self.interactive = interactive
        self.unicode = unicode; self.fixedWidth = width
    }

    /// A console on the process's stdout/stderr, styled only when stdout is a terminal.
    public static func standard(noColor: Bool) -> Console {
        let tty = isatty(1) != 0
        let env = { (k: String) -> String? in getenv(k).map { String(cString: $0) } }
        let colorOK = tty && !noColor && env("NO_COLOR").map { $0.isEmpty } ?? true && env("TERM") != "dumb"
        // The locale that decides the character set: the first of LC_ALL, LC_CTYPE, LANG that is set (as C does).
        let nonEmpty = { (k: String) -> String? in env(k).flatMap { $0.isEmpty ? nil : $0 } }
        let locale = (nonEmpty("LC_ALL") ?? nonEmpty("LC_CTYPE") ?? nonEmpty("LANG"))?.uppercased()
        let utf8 = locale.map { $0.contains("UTF-8") || $0.contains("UTF8") }
        let c = Console(out: { s in writeAll(s, to: pf_stdout()) },
                        err: { s in writeAll(s, to: pf_stderr()) },
                        color: colorOK, interactive: tty,
                        // A locale that says which (LC_ALL=C: ASCII), else Unicode except on a terminal with none set.
                        unicode: utf8 ?? !tty, width: terminalWidth() ?? 80)
        if tty { c.widthSource = { terminalWidth() } }
        return c
    }

    /// The width of the terminal on standard output, if it is one.
    public static func terminalWidth() -> Int? {
        var ws = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 else { return nil }
        return Int(ws.ws_col)
    }

    /// A line redrawn in place (a progress bar): cut to one column less than the width, so it never wraps (a
    /// wrapped line cannot be cleared by the next redraw and stays behind).
    public func fitLine(_ s: String) -> String {
        let w = max(width - 1, 10)
        return visibleWidth(s) > w ? truncateVisible(s, to: w - 1) + (unicode ? "…" : ">") : s
    }

    /// Runs `body` with the terminal's echo off (when `on` and standard input is a terminal), so that keys typed
    /// while a progress bar is drawn do not land in it; they still reach the next prompt. ^C still works.
    public func withoutEcho<T>(_ on: Bool, _ body: () throws -> T) rethrows -> T {
        var saved = termios()
        guard on, isatty(0) != 0, tcgetattr(0, &saved) == 0 else { return try body() }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(0, TCSANOW, &quiet)
        defer { tcsetattr(0, TCSANOW, &saved) }
        return try body()
    }

    /// Writes all of `s` to `file`'s descriptor, after whatever stdio still holds for it. A write that a signal
    /// interrupts (^C while the terminal is slow to take output) or that would block is resumed: stdio would
    /// drop the rest.
    public static func writeAll(_ s: String, to file: UnsafeMutablePointer<FILE>) {
        fflush(file)
        let fd = fileno(file)
        let bytes = Array(s.utf8)
        bytes.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let n = write(fd, b.baseAddress! + done, b.count - done)
                if n > 0 { done += n; continue }
                if n < 0 && errno == EINTR { continue }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    // Another program left the terminal non-blocking: wait until it takes more.
                    var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    if poll(&p, 1, 1000) >= 0 || errno == EINTR { continue }
                }
                return   // closed or failed: nothing more can be shown
            }
        }
    }

    public func line(_ s: String = "") { out(s + "\n") }
    public func info(_ s: String) { if !quiet { out(s + "\n") } }
    public func error(_ s: String) { err(style(s, .red) + "\n") }
    public func warning(_ s: String) { err(style("warning: ", .yellow) + s + "\n") }

    public enum Style: String { case bold = "1", dim = "2", red = "31", green = "32", yellow = "33", blue = "34", cyan = "36" }
    public func style(_ s: String, _ st: Style) -> String { color ? "\u{1B}[\(st.rawValue)m\(s)\u{1B}[0m" : s }
}
