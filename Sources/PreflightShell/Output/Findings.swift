import PreflightChecks

extension Console {
    /// The check table. Failing and warning rows first, each followed by what was measured and its whole hint
    /// (wrapped to the terminal, never cut); then the ok rows; then one line naming the rules not run and what
    /// each needs. `all`: every row in one ranked table with its hint or reason in the last column.
    func printFindings(_ found: [Finding], run: Run, all: Bool = false) {
        let n = run.epochs.count
        var phaseNote = n == 0 ? "before training (first batch, no update)" : "after \(n) epoch\(n == 1 ? "" : "s")"
        if let r = run.record { phaseNote = "\(r.engineText) record, \(n) epoch\(n == 1 ? "" : "s")" }
        for l in wrapWords("checks for run \(run.name), \(phaseNote):", width: wrapWidth, rest: "  ") { line(l) }
        func verdict(_ f: Finding) -> String {
            switch f.verdict {
            case .ok: return style("ok", .green)
            case .warn: return style("warn", .yellow)
            case .fail: return style("FAIL", .red)
            case .notRun: return style("not run", .dim)
            }
        }
        func cells(_ f: Finding) -> [String] { [f.rule, f.phase, f.value.map(num) ?? "-", f.threshold.map(num) ?? "-", verdict(f)] }
        let bad = found.filter { $0.verdict == .fail || $0.verdict == .warn }
        let ok = found.filter { $0.verdict == .ok }
        let notRun = found.filter { $0.verdict == .notRun }
        if all {
            var rows = [["rule", "phase", "measured", "threshold", "verdict", "what to try"]]
            for f in found { rows.append(cells(f) + [f.verdict == .notRun ? f.reason : f.hint]) }
            out(Table(rows: rows, rightAligned: [2, 3]).render(indent: "  ", console: self))
            for f in bad { line("  \(f.rule): \(f.measured)") }
        } else {
            let shown = bad + ok
            if !shown.isEmpty {
                var rows = [["rule", "phase", "measured", "threshold", "verdict"]]
                for f in shown { rows.append(cells(f)) }
                let lines = Table(rows: rows, rightAligned: [2, 3]).render(indent: "  ", console: self)
                    .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                let width = wrapWidth
                var table = ""
                for (i, line) in lines.enumerated() where i < rows.count {
                    table += line + "\n"
                    guard i >= 1, i - 1 < bad.count else { continue }
                    let f = bad[i - 1]
                    if !f.measured.isEmpty { for l in wrapWords(f.measured, width: width, first: "      ", rest: "      ") { table += l + "\n" } }
                    if !f.hint.isEmpty { for l in wrapWords(f.hint, width: width, first: "      try: ", rest: "           ") { table += l + "\n" } }
                }
                self.out(table)
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
                for l in wrapWords(text, width: wrapWidth, first: "  ", rest: "    ") { line(l) }
            }
        }
        let fails = found.filter { $0.verdict == .fail }.count, warns = bad.count - fails
        line("  \(fails) fail, \(warns) warn, \(ok.count) ok, \(notRun.count) not run")
    }
}
