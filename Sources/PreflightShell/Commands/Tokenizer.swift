import PreflightChecks   // String.trimmingWhitespace

/// An error in a command: one line, optionally followed by the command's usage.
public struct CommandError: Error, CustomStringConvertible {
    public var message: String
    public var usage: String?
    public init(_ message: String, usage: String? = nil) { self.message = message; self.usage = usage }
    public var description: String { usage.map { "\(message)\n  usage: \($0)" } ?? message }
}

/// A command stopped by ^C that left the session as it was (nothing to record): not an error, but a script stops.
public struct CommandInterrupted: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum Tokenizer {
    /// Splits a script line into commands at `;` outside quotes. A `#` outside quotes starts a comment.
    public static func splitCommands(_ line: String) -> [String] {
        var parts: [String] = [], cur = ""
        var quote: Character? = nil
        for ch in line {
            if let q = quote {
                cur.append(ch); if ch == q { quote = nil }
            } else if ch == "\"" || ch == "'" {
                quote = ch; cur.append(ch)
            } else if ch == ";" {
                parts.append(cur); cur = ""
            } else if ch == "#" {
                break
            } else {
                cur.append(ch)
            }
        }
        parts.append(cur)
        return parts.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    /// `word` as one word of a command line: quoted when it holds a space, a quote, `;` or `#`.
    public static func quoteIfNeeded(_ word: String) -> String {
        guard word.isEmpty || word.contains(where: { $0.isWhitespace || "\"';#".contains($0) }) else { return word }
        return word.contains("\"") ? "'\(word)'" : "\"\(word)\""
    }

    /// Splits a command into words; single or double quotes group words with spaces.
    public static func words(_ command: String) throws -> [String] {
        var out: [String] = [], cur = "", inWord = false
        var quote: Character? = nil
        for ch in command {
            if let q = quote {
                if ch == q { quote = nil } else { cur.append(ch) }
            } else if ch == "\"" || ch == "'" {
                quote = ch; inWord = true
            } else if ch.isWhitespace {
                if inWord { out.append(cur); cur = ""; inWord = false }
            } else {
                cur.append(ch); inWord = true
            }
        }
        if quote != nil { throw CommandError("unmatched quote \(quote!) in: \(command.prefix(60))") }
        if inWord { out.append(cur) }
        return out
    }
}

