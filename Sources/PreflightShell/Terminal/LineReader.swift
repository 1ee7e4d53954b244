#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PreflightChecks   // String.trimmingWhitespace
import CEdit

/// Where the shell's input lines come from: a terminal editor or a plain stream.
public protocol LineReader: AnyObject {
    /// The next line without its newline; nil at end of input. `prompt` is shown only by interactive readers.
    func readLine(prompt: String) -> ReadResult
    /// Remembers a line in the reader's history (interactive readers).
    func addHistory(_ line: String)
    /// Saves history where it persists (interactive readers).
    func saveHistory()
}

public enum ReadResult: Equatable {
    case line(String)
    /// ^C at the prompt: the line is dropped.
    case cancelled
    case end
}

/// Reads lines from a file descriptor without editing or prompt (scripts, pipes, tests).
public final class PlainLineReader: LineReader {
    private var lines: [String]?
    private var index = 0
    private let showPrompt: Bool
    public init(text: String? = nil, showPrompt: Bool = false) {
        lines = text.map { $0.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init) }
        self.showPrompt = showPrompt
    }
    public func readLine(prompt: String) -> ReadResult {
        if var ls = lines {
            guard index < ls.count else { return .end }
            defer { index += 1 }
            if index == ls.count - 1 && ls[index].isEmpty { ls.removeLast(); lines = ls; return .end }
            return .line(ls[index])
        }
        if showPrompt { fputs(prompt, pf_stdout()); fflush(pf_stdout()) }
        guard let l = Swift.readLine(strippingNewline: true) else { return .end }
        return .line(l)
    }
    public func addHistory(_ line: String) {}
    public func saveHistory() {}
}

extension Session {
    /// Reads and runs commands until the input ends or `quit`. Errors are printed and the session goes on.
    /// Returns the number of failed commands.
    @discardableResult
    public func repl(reader: LineReader, prompt: String = "preflight> ") -> Int {
        var failures = 0
        while !quitRequested {
            Interrupt.clear()
            switch reader.readLine(prompt: console.style(prompt, .bold)) {
            case .end: reader.saveHistory(); return failures
            case .cancelled: continue
            case .line(let raw):
                var line = raw
                if line.hasSuffix("\r") { line.removeLast() }
                let trimmed = line.trimmingWhitespace()
                guard !trimmed.isEmpty else { continue }
                if !trimmed.hasPrefix("#") { reader.addHistory(trimmed) }
                for cmd in Tokenizer.splitCommands(trimmed) {
                    do { try execute(cmd) } catch let e as CommandInterrupted {
                        console.info(e.message)
                    } catch let e as CommandError {
                        failures += 1
                        console.error("error: \(e.message)")
                        if let u = e.usage { console.err("  usage: \(u)\n") }
                    } catch {
                        failures += 1
                        console.error("error: \(error)")
                    }
                    if quitRequested { break }
                    // ^C stops the rest of the line too (`train 50; export r.json`); the prompt comes back.
                    if Interrupt.requested { break }
                }
            }
        }
        reader.saveHistory()
        return failures
    }
}
