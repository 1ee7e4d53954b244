/// Runs script text line by line, reporting `NAME:LINE: error: …` for the first failing command.
public struct ScriptRunner {
    public let session: Session
    public init(session: Session) { self.session = session }

    /// Returns false if a command failed (and `keepGoing` is off, stops there) or ^C stopped the script. After a
    /// ^C the flag stays set (`Interrupt.requested`), so that whoever ran the script (a `source`, the program)
    /// stops too: a script never carries on past an interrupted command.
    @discardableResult
    public func run(text: String, name: String, keepGoing: Bool) -> Bool {
        var ok = true
        var lineNumber = 0
        // A UTF-8 byte order mark (some Windows editors write one) is not part of the first command.
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        // "\r\n" is one Character in Swift: split on both so CRLF scripts work.
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            for cmd in Tokenizer.splitCommands(line) {
                if Interrupt.requested {
                    session.console.error("\(name):\(lineNumber): interrupted: the script stops here")
                    return false
                }
                do {
                    try session.execute(cmd)
                } catch let e as CommandInterrupted {
                    session.console.info(e.message)
                } catch let e as CommandError {
                    report(e, name: name, line: lineNumber)
                    ok = false
                    if !keepGoing { return false }
                } catch {
                    report(CommandError("\(error)"), name: name, line: lineNumber)
                    ok = false
                    if !keepGoing { return false }
                }
                if Interrupt.requested {
                    session.console.error("\(name):\(lineNumber): interrupted: the script stops here")
                    return false
                }
                if session.quitRequested { return ok }
            }
        }
        return ok
    }

    func report(_ e: CommandError, name: String, line: Int) {
        session.console.error("\(name):\(line): error: \(e.message)")
        if let u = e.usage { session.console.err("  usage: \(u)\n") }
    }
}
