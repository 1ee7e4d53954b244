import PreflightEngine
import PreflightChecks

extension Commands {
    static let check = Command(
        "check", group: .checks, forms: [[.any(.value(.rule))]], options: [CommandOption("--all")],
        summary: "run the checks on the current run: failing and warning rules first with what to try, then the rest",
        details: """
        before training: one forward/backward pass on the first batch (no update), kept as the run's first batch \
        until training records its own; after training: the per-epoch rules too
        an external run (`import`) is judged on what its record holds
        failing and warning rows come first, each with what was measured and its whole hint; then the ok rows; \
        then one line naming the rules not run and what each needs
        --all: every rule in one ranked table, with its hint or the reason it did not run
        """,
        example: "check saturation hidden-scale") { s, inv in try check(s, inv.words, all: inv.flag("--all")) }

    static let explain = Command(
        "explain", group: .checks, forms: [[.repeated(.value(.rule))]],
        summary: "what a rule measures, why it matters, where its threshold comes from",
        details: "several rules: each is explained in turn, separated by a blank line",
        example: "explain saturation hidden-scale", replayable: false) { s, inv in
            let a = inv.words
            guard !a.isEmpty else {
                throw inv.usageError("explain: which rule? (\(Rules.all.map(\.id).joined(separator: ", ")))")
            }
            // Every name is checked before anything is printed.
            let texts = try a.map { r in try Rules.explain(r.lowercased(), thresholds: s.thresholds) ?? { throw unknownRule(s, r) }() }
            s.console.line(texts.joined(separator: "\n\n"))
        }
}

extension Commands {
    static func unknownRule(_ s: Session, _ r: String) -> CommandError {
        let ids = Rules.all.map(\.id)
        var msg = "unknown rule `\(r.prefix(40))`"
        if let best = ids.min(by: { editDistance($0, r) < editDistance($1, r) }), editDistance(best, r) <= 3 { msg += ": did you mean `\(best)`?" }
        else { msg += " (rules: \(ids.joined(separator: ", ")))" }
        return CommandError(msg)
    }

    static func check(_ s: Session, _ rules: [String], all: Bool) throws {
        let ids = Set(Rules.all.map(\.id))
        for r in rules where !ids.contains(r.lowercased()) { throw unknownRule(s, r) }
        // An external run is judged as recorded; a Preflight run if it matches the configuration or has trained.
        let r = try s.currentRun.flatMap { run in run.isExternal || (try? s.resolvedConfig()) == run.config || !run.epochs.isEmpty ? run : nil }
            ?? s.runForTraining(announce: false)
        let found = s.findings(for: r, only: rules.isEmpty ? nil : rules.map { $0.lowercased() })
        if rules.isEmpty { r.findings = found; r.findingsEpochs = r.epochs.count }
        s.console.printFindings(found, run: r, all: all)
        if s.strict && found.contains(where: { $0.verdict == .fail }) { s.strictFailure = true }
    }

}
