// MARK: - Argument parsing helpers

/// Parses a positive integer argument with a clear error.
func parseCount(_ s: String, _ what: String, in cmd: String, min lo: Int = 1, max hi: Int = 1_000_000_000) throws -> Int {
    let head = subject(what, cmd)
    guard let v = Int(s) else { throw CommandError("\(head) must be a whole number, got `\(s.prefix(30))`") }
    guard v >= lo else { throw CommandError("\(head) must be at least \(lo), got \(v)") }
    guard v <= hi else { throw CommandError("\(head) must be at most \(hi), got \(v)") }
    return v
}

/// "train: the number of epochs", or just "epsilon:" when the value is named like its command (not "epsilon: epsilon").
private func subject(_ what: String, _ cmd: String) -> String {
    what.lowercased() == cmd.lowercased() ? "\(cmd):" : "\(cmd): \(what)"
}

/// Parses a finite number with a clear error.
func parseNumber(_ s: String, _ what: String, in cmd: String, positive: Bool = false, nonNegative: Bool = false) throws -> Double {
    let head = subject(what, cmd)
    guard let v = Double(s) else {
        throw CommandError("\(head) must be a number, got `\(s.prefix(30))`")
    }
    guard v.isFinite else { throw CommandError("\(head) must be finite, got `\(s.prefix(30))`") }
    if positive && !(v > 0) { throw CommandError("\(head) must be greater than 0, got \(s)") }
    if nonNegative && v < 0 { throw CommandError("\(head) must not be negative, got \(s)") }
    return v
}

/// `~` or `~/rest` with the home folder ($HOME) in place of `~`; any other word unchanged (`~user` is not expanded).
func expandHome(_ word: String) -> String {
    if word == "~" { return Program.home }
    if word.hasPrefix("~/") { return Program.home + word.dropFirst() }
    return word
}
