import PreflightEngine
import PreflightChecks

extension Session {
    static let checkCommands: [Command] = [
        Command(name: "check", group: .checks, usage: "check [RULE…] [--all]",
                summary: "run the checks on the current run: failing and warning rules first with what to try, then the rest",
                details: """
                before training: one forward/backward pass on the first batch (no update), kept as the run's first batch \
                until training records its own; after training: the per-epoch rules too
                failing and warning rows come first, each with what was measured and its whole hint; then the ok rows; \
                then one line naming the rules not run and what each needs
                --all: every rule in one ranked table, with its hint or the reason it did not run
                """,
                example: "check saturation hidden-scale", handler: { s, a in try s.check(a) }),
        Command(name: "explain", group: .checks, usage: "explain RULE",
                summary: "what a rule measures, why it matters, where its threshold comes from",
                example: "explain saturation", replayable: false, handler: { s, a in
                    guard a.count == 1 else {
                        throw CommandError("explain: which rule? (\(Rules.all.map(\.id).joined(separator: ", ")))", usage: "explain RULE")
                    }
                    guard let text = Rules.explain(a[0].lowercased(), thresholds: s.thresholds) else { throw s.unknownRule(a[0]) }
                    s.console.line(text)
                }),
    ]

    func unknownRule(_ r: String) -> CommandError {
        let ids = Rules.all.map(\.id)
        var msg = "unknown rule `\(r.prefix(40))`"
        if let best = ids.min(by: { editDistance($0, r) < editDistance($1, r) }), editDistance(best, r) <= 3 { msg += ": did you mean `\(best)`?" }
        else { msg += " (rules: \(ids.joined(separator: ", ")))" }
        return CommandError(msg)
    }

    func check(_ args: [String]) throws {
        let all = args.contains("--all")
        let rules = args.filter { $0 != "--all" }
        let ids = Set(Rules.all.map(\.id))
        for r in rules where !ids.contains(r.lowercased()) {
            if r.hasPrefix("-") { throw CommandError("check: unknown option `\(r.prefix(30))` (the option is --all)", usage: "check [RULE…] [--all]") }
            throw unknownRule(r)
        }
        let r = try currentRun.flatMap { run in (try? resolvedConfig()) == run.config || !run.trainer.epochs.isEmpty ? run : nil }
            ?? runForTraining(announce: false)
        let found = findings(for: r, only: rules.isEmpty ? nil : rules.map { $0.lowercased() })
        if rules.isEmpty { r.findings = found; r.findingsEpochs = r.trainer.epochs.count }
        printFindings(found, run: r, all: all)
        if strict && found.contains(where: { $0.verdict == .fail }) { strictFailure = true }
    }

    /// The check table. Failing and warning rows first, each followed by what was measured and its whole hint
    /// (wrapped to the terminal, never cut); then the ok rows; then one line naming the rules not run and what
    /// each needs. `all`: every row in one ranked table with its hint or reason in the last column.
    func printFindings(_ found: [Finding], run: Run, all: Bool = false) {
        let n = run.trainer.epochs.count
        let phaseNote = n == 0 ? "before training (first batch, no update)" : "after \(n) epoch\(n == 1 ? "" : "s")"
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
