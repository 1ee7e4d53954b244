import PreflightEngine
import PreflightChecks

extension Session {
    static let checkCommands: [Command] = [
        Command(name: "check", group: .checks, usage: "check [RULE…]",
                summary: "run the checks on the current run: ranked verdicts with measured values and what to try",
                details: "before training: one forward/backward pass on the first batch (no update); after: the per-epoch rules too; an external run (`import`) is judged on what its record holds",
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

    func check(_ rules: [String]) throws {
        let ids = Set(Rules.all.map(\.id))
        for r in rules where !ids.contains(r.lowercased()) { throw unknownRule(r) }
        // An external run is judged as recorded; a Preflight run if it matches the configuration or has trained.
        let r = try currentRun.flatMap { run in run.isExternal || (try? resolvedConfig()) == run.config || !run.epochs.isEmpty ? run : nil }
            ?? runForTraining(announce: false)
        let found = findings(for: r, only: rules.isEmpty ? nil : rules.map { $0.lowercased() })
        if rules.isEmpty { r.findings = found }
        printFindings(found, run: r)
        if strict && found.contains(where: { $0.verdict == .fail }) { strictFailure = true }
    }

    func printFindings(_ found: [Finding], run: Run) {
        var phaseNote = run.epochs.isEmpty ? "before training (first batch, no update)" : "after \(run.epochs.count) epochs"
        if let r = run.record { phaseNote = "\(r.engineText) record, \(run.epochs.count) epoch\(run.epochs.count == 1 ? "" : "s")" }
        console.line("checks for run \(run.name), \(phaseNote):")
        var rows = [["rule", "phase", "measured", "threshold", "verdict", "what to try"]]
        for f in found {
            let v: String
            switch f.verdict {
            case .ok: v = console.style("ok", .green)
            case .warn: v = console.style("warn", .yellow)
            case .fail: v = console.style("FAIL", .red)
            case .notRun: v = console.style("not run", .dim)
            }
            rows.append([f.rule, f.phase, f.value.map(num) ?? "-", f.threshold.map(num) ?? "-", v,
                         f.verdict == .notRun ? f.reason : f.hint])
        }
        console.out(Table(rows: rows, rightAligned: [2, 3]).render(indent: "  ", console: console))
        let bad = found.filter { $0.verdict == .fail || $0.verdict == .warn }
        for f in bad { console.line("  \(f.rule): \(f.measured)") }
        let fails = found.filter { $0.verdict == .fail }.count, warns = found.filter { $0.verdict == .warn }.count
        console.line("  \(fails) fail, \(warns) warn, \(found.filter { $0.verdict == .ok }.count) ok, \(found.filter { $0.verdict == .notRun }.count) not run")
    }
}
