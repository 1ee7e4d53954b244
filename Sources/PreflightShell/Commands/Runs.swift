import PreflightEngine
import PreflightChecks

extension Commands {
    static let run = Command(
        "run", group: .runs, forms: [[.value(.text("NAME", what: "a name"))]],
        summary: "start a named run from the current configuration (fresh weights)",
        example: "run good") { s, inv in
            guard inv.words.count == 1 else { throw inv.usageError("run: give one name") }
            try startRun(s, named: inv.words[0])
        }

    static let runs = Command("runs", group: .runs, summary: "list the runs", replayable: false) { s, inv in
        guard inv.words.isEmpty else { throw inv.usageError("runs: takes no arguments") }
        listRuns(s)
    }

    static let use = Command(
        "use", group: .runs, forms: [[.value(.run())]], summary: "select a run (for train, check, show)",
        example: "use good") { s, inv in
            let a = inv.words
            guard a.count == 1 else { throw inv.usageError("use: give one run name") }
            guard let i = s.runs.firstIndex(where: { $0.name == a[0] }) else { throw noSuchRun(s, a[0]) }
            s.currentIndex = i
            let r = s.runs[i]
            if let rec = r.record {
                // An external run has no configuration to follow: the session's stays as it is.
                s.console.info("using run \(r.name) (external: \(rec.engineText) record from \(rec.file), \(r.epochs.count) epochs): check, compare, plot, report and export work on it; it cannot be trained")
                return
            }
            // The session's configuration follows the selected run, so `train` continues it.
            s.config = r.config
            if s.data == nil, let c = r.config.data {
                s.console.warning("run \(r.name) was built on `\(c.command)`; load those data to train it further")
            } else if let d = s.data, d.spec != r.config.data {
                s.console.warning("run \(r.name) was built on `\(r.config.data?.command ?? "other data")`, not the loaded `\(d.spec.command)`: its checks judge its own data; load them to train it further (`train` on the loaded data starts a new run)")
            }
            s.console.info("using run \(r.name) (\(plural(r.epochs.count, "epoch")))")
        }

    static let compare = Command(
        "compare", group: .runs, forms: [[.any(.value(.run("RUN")))]],
        summary: "side-by-side table of runs: configuration, final metrics, first batch, hidden means, verdicts",
        details: "with no names, every run", example: "compare good bad") { s, inv in
            let a = inv.words
            let runs = try a.isEmpty ? s.runs : a.map { n in try s.run(named: n) ?? { throw noSuchRun(s, n) }() }
            guard !runs.isEmpty else { throw CommandError("compare: no runs yet (train one first)") }
            compare(s, runs)
        }
}

extension Commands {
    static func noSuchRun(_ s: Session, _ name: String) -> CommandError {
        let names = s.runs.map(\.name)
        if names.isEmpty { return CommandError("no run named `\(name.prefix(40))`: there are no runs yet") }
        return CommandError("no run named `\(name.prefix(40))` (runs: \(names.joined(separator: ", ")))")
    }

    static func startRun(_ s: Session, named name: String) throws {
        guard name.range(of: #"^[A-Za-z0-9_.:+-]{1,64}$"#, options: .regularExpression) != nil else {
            throw CommandError("run: a name is 1-64 letters, digits or _ . : + -, got `\(name.prefix(40))`")
        }
        guard s.run(named: name) == nil else { throw CommandError("run: a run named \(name) exists already (use it with `use \(name)`)") }
        let c = try s.resolvedConfig()
        let r = s.makeRun(name: name, config: c)
        s.runs.append(r)
        s.currentIndex = s.runs.count - 1
        s.console.info("run \(name): \(c.layers!.map(String.init).joined(separator: "-")) \(c.activation.rawValue)\(c.batchNormValue ? ", batchnorm" : ""), init \(c.initDescription), \(c.optimizer), batch \(c.batch), seed \(c.seed)")
    }

    static func listRuns(_ s: Session) {
        guard !s.runs.isEmpty else { s.console.line("no runs yet: `train N` starts run1, `run NAME` a named one"); return }
        var rows = [["", "run", "epochs", "layers", "act", "init", "optimizer", "test acc", "first-batch sat."]]
        for (i, r) in s.runs.enumerated() {
            let last = r.epochs.last
            rows.append([i == s.currentIndex ? "*" : "", r.name, String(r.epochs.count),
                         r.layersText, r.activationText, r.initText, r.optimizerText,
                         last?.testAccuracy.map { pct($0) } ?? "-",
                         r.firstBatch.flatMap { $0.saturatedFraction.isNaN ? nil : pct($0.saturatedFraction, 1) } ?? "-"])
        }
        s.console.out(Table(rows: rows, rightAligned: [2, 7, 8]).render(console: s.console))
        for r in s.runs { if let o = r.originText { s.console.line("  \(r.name): \(o)") } }
    }

    static func compare(_ s: Session, _ list: [Run]) {
        var rows: [[String]] = [[""] + list.map(\.name)]
        func row(_ label: String, _ f: (Run) -> String) { rows.append([label] + list.map(f)) }
        /// A recorded value, "-" when the record holds none (NaN marks a missing value of an external record).
        func known(_ v: Double?, _ f: (Double) -> String) -> String { v.flatMap { $0.isNaN ? nil : f($0) } ?? "-" }
        if list.contains(where: \.isExternal) {
            row("engine") { $0.record?.engineText ?? "preflight" }
        }
        row("data") { r in
            if let rec = r.record { return rec.dataset ?? "-" }
            return r.config.data.map { $0.name + ($0.limit.map { " (limit \($0))" } ?? "") + ($0.scale == .unit ? "" : $0.scale == .none ? " unscaled" : " standardised") } ?? "-"
        }
        row("layers") { $0.layersText }
        row("activation") { $0.activationText }
        row("init") { $0.initText }
        row("optimizer") { $0.optimizerText }
        row("batch / seed") { $0.batchSeedText }
        row("epochs") { String($0.epochs.count) }
        row("train loss") { known($0.epochs.last?.trainLoss) { fmt($0, 4) } }
        row("train acc") { known($0.epochs.last?.trainAccuracy) { pct($0) } }
        row("test loss") { known($0.epochs.last?.testLoss) { fmt($0, 4) } }
        row("test acc") { known($0.epochs.last?.testAccuracy) { pct($0) } }
        row("first-batch loss") { $0.firstBatch.map { fmt($0.loss, 4) } ?? "-" }
        row("first-batch saturated") { r in r.isExternal ? known(r.firstBatch?.saturatedFraction) { pct($0, 1) }
                                                         : r.firstBatch.map { pct($0.saturatedFraction, 1) } ?? "-" }
        let maxHidden = list.map(\.hiddenCount).max() ?? 0
        for h in 0..<maxHidden {
            row("hidden \(h + 1) mean, init") { r in
                guard let fb = r.firstBatch, h < fb.hidden.count else { return "-" }
                return fmt(fb.hidden[h].mean, 3)
            }
        }
        for h in 0..<maxHidden {
            row("hidden \(h + 1) mean, last epoch") { r in
                guard let e = r.epochs.last, h < e.hidden.count else { return "-" }
                return fmt(e.hidden[h].mean, 3)
            }
        }
        row("checks") { r in
            let f = r.findings.isEmpty && (r.firstBatch != nil || !r.epochs.isEmpty) ? s.findings(for: r) : r.findings
            if f.isEmpty { return "-" }
            let fails = f.filter { $0.verdict == .fail }.map(\.rule), warns = f.filter { $0.verdict == .warn }.map(\.rule)
            var parts: [String] = []
            if !fails.isEmpty { parts.append("fail: " + fails.joined(separator: ",")) }
            if !warns.isEmpty { parts.append("warn: " + warns.joined(separator: ",")) }
            return parts.isEmpty ? "all ok" : parts.joined(separator: "; ")
        }
        // On a terminal too narrow for every run side by side: several tables, each with the labels and as many
        // runs as fit (rather than cutting the runs on the right off).
        var groups: [[Int]] = [Array(1...list.count)]
        if s.console.interactive {
            let labelWidth = rows.map { visibleWidth($0[0]) }.max() ?? 0
            groups = []
            var cur: [Int] = [], used = labelWidth
            for j in 1...list.count {
                let w = rows.map { visibleWidth($0[j]) }.max() ?? 0
                if !cur.isEmpty && used + 2 + w > s.console.width { groups.append(cur); cur = []; used = labelWidth }
                cur.append(j); used += 2 + w
            }
            groups.append(cur)
        }
        for (k, g) in groups.enumerated() {
            if k > 0 { s.console.line() }
            let part = rows.map { r in [r[0]] + g.map { r[$0] } }
            s.console.out(Table(rows: part, rightAligned: Set(1...g.count)).render(console: s.console))
        }
    }
}
