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
        example: "check saturation hidden-scale") { s, inv in try s.check(inv.words, all: inv.flag("--all")) }

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
            let texts = try a.map { r in try Rules.explain(r.lowercased(), thresholds: s.thresholds) ?? { throw s.unknownRule(r) }() }
            s.console.line(texts.joined(separator: "\n\n"))
        }
}

extension Session {
    func unknownRule(_ r: String) -> CommandError {
        let ids = Rules.all.map(\.id)
        var msg = "unknown rule `\(r.prefix(40))`"
        if let best = ids.min(by: { editDistance($0, r) < editDistance($1, r) }), editDistance(best, r) <= 3 { msg += ": did you mean `\(best)`?" }
        else { msg += " (rules: \(ids.joined(separator: ", ")))" }
        return CommandError(msg)
    }

    func check(_ rules: [String], all: Bool) throws {
        let ids = Set(Rules.all.map(\.id))
        for r in rules where !ids.contains(r.lowercased()) { throw unknownRule(r) }
        // An external run is judged as recorded; a Preflight run if it matches the configuration or has trained.
        let r = try currentRun.flatMap { run in run.isExternal || (try? resolvedConfig()) == run.config || !run.epochs.isEmpty ? run : nil }
            ?? runForTraining(announce: false)
        let found = findings(for: r, only: rules.isEmpty ? nil : rules.map { $0.lowercased() })
        if rules.isEmpty { r.findings = found; r.findingsEpochs = r.epochs.count }
        printFindings(found, run: r, all: all)
        if strict && found.contains(where: { $0.verdict == .fail }) { strictFailure = true }
    }

    /// The check table. Failing and warning rows first, each followed by what was measured and its whole hint
    /// (wrapped to the terminal, never cut); then the ok rows; then one line naming the rules not run and what
    /// each needs. `all`: every row in one ranked table with its hint or reason in the last column.
    func printFindings(_ found: [Finding], run: Run, all: Bool = false) {
        let n = run.epochs.count
        var phaseNote = n == 0 ? "before training (first batch, no update)" : "after \(n) epoch\(n == 1 ? "" : "s")"
        if let r = run.record { phaseNote = "\(r.engineText) record, \(n) epoch\(n == 1 ? "" : "s")" }
        for l in wrapWords("checks for run \(run.name), \(phaseNote):", width: console.wrapWidth, rest: "  ") { console.line(l) }
        func verdict(_ f: Finding) -> String {
            switch f.verdict {
            case .ok: return console.style("ok", .green)
            case .warn: return console.style("warn", .yellow)
            case .fail: return console.style("FAIL", .red)
            case .notRun: return console.style("not run", .dim)
            }
        }
        func cells(_ f: Finding) -> [String] { [f.rule, f.phase, f.value.map(num) ?? "-", f.threshold.map(num) ?? "-", verdict(f)] }
        let bad = found.filter { $0.verdict == .fail || $0.verdict == .warn }
        let ok = found.filter { $0.verdict == .ok }
        let notRun = found.filter { $0.verdict == .notRun }
        if all {
            var rows = [["rule", "phase", "measured", "threshold", "verdict", "what to try"]]
            for f in found { rows.append(cells(f) + [f.verdict == .notRun ? f.reason : f.hint]) }
            console.out(Table(rows: rows, rightAligned: [2, 3]).render(indent: "  ", console: console))
            for f in bad { console.line("  \(f.rule): \(f.measured)") }
        } else {
            let shown = bad + ok
            if !shown.isEmpty {
                var rows = [["rule", "phase", "measured", "threshold", "verdict"]]
                for f in shown { rows.append(cells(f)) }
                let lines = Table(rows: rows, rightAligned: [2, 3]).render(indent: "  ", console: console)
                    .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                let width = console.wrapWidth
                var out = ""
                for (i, line) in lines.enumerated() where i < rows.count {
                    out += line + "\n"
                    guard i >= 1, i - 1 < bad.count else { continue }
                    let f = bad[i - 1]
                    if !f.measured.isEmpty { for l in wrapWords(f.measured, width: width, first: "      ", rest: "      ") { out += l + "\n" } }
                    if !f.hint.isEmpty { for l in wrapWords(f.hint, width: width, first: "      try: ", rest: "           ") { out += l + "\n" } }
                }
                console.out(out)
            }
            if !notRun.isEmpty {
                // Rules with the same reason share it: "update-ratio, divergence (needs 1 epoch, have 0)".
                var groups: [(reason: String, rules: [String])] = []
                for f in notRun {
                    if let i = groups.firstIndex(where: { $0.reason == f.reason }) { groups[i].rules.append(f.rule) }
                    else { groups.append((f.reason, [f.rule])) }
                }
                let text = "not run: " + groups.map { g in
                    g.rules.joined(separator: ", ") + (g.reason.isEmpty ? "" : " (\(g.reason))")
                }.joined(separator: "; ")
                for l in wrapWords(text, width: console.wrapWidth, first: "  ", rest: "    ") { console.line(l) }
            }
        }
        let fails = found.filter { $0.verdict == .fail }.count, warns = bad.count - fails
        console.line("  \(fails) fail, \(warns) warn, \(ok.count) ok, \(notRun.count) not run")
    }
}
