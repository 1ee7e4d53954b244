/// Runs script text line by line, reporting `NAME:LINE: error: …` for the first failing command.
public struct ScriptRunner {
    public let session: Session
    public init(session: Session) { self.session = session }

    /// Returns false if a command failed (and `keepGoing` is off, stops there).
    @discardableResult
    public func run(text: String, name: String, keepGoing: Bool) -> Bool {
        var ok = true
        var lineNumber = 0
        // "\r\n" is one Character in Swift: split on both so CRLF scripts work.
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            for cmd in Tokenizer.splitCommands(line) {
                do {
                    try session.execute(cmd)
                } catch let e as CommandError {
                    report(e, name: name, line: lineNumber)
                    ok = false
                    if !keepGoing { return false }
                } catch {
                    report(CommandError("\(error)"), name: name, line: lineNumber)
                    ok = false
                    if !keepGoing { return false }
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
