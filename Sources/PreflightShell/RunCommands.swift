import PreflightEngine
import PreflightChecks

extension Session {
    static let runCommands: [Command] = [
        Command(name: "run", group: .runs, usage: "run NAME",
                summary: "start a named run from the current configuration (fresh weights)",
                example: "run good", handler: { s, a in
                    let u = Session.command(named: "run")!.usage
                    guard a.count == 1 else { throw CommandError("run: give one name", usage: u) }
                    try s.startRun(named: a[0])
                }),
        Command(name: "runs", group: .runs, usage: "runs", summary: "list the runs", replayable: false, handler: { s, a in
            guard a.isEmpty else { throw CommandError("runs: takes no arguments", usage: "runs") }
            s.listRuns()
        }),
        Command(name: "use", group: .runs, usage: "use NAME", summary: "select a run (for train, check, show)",
                example: "use good", handler: { s, a in
                    guard a.count == 1 else { throw CommandError("use: give one run name", usage: "use NAME") }
                    guard let i = s.runs.firstIndex(where: { $0.name == a[0] }) else { throw s.noSuchRun(a[0]) }
                    s.currentIndex = i
                    let r = s.runs[i]
                    // The session's configuration follows the selected run, so `train` continues it.
                    s.config = r.config
                    if s.data?.spec != r.config.data { s.console.warning("run \(r.name) was trained on \(r.config.data?.command ?? "other data"); load those data to train it further") }
                    s.console.info("using run \(r.name) (\(r.trainer.epochs.count) epochs)")
                }),
        Command(name: "compare", group: .runs, usage: "compare [A B …]",
                summary: "side-by-side table of runs: configuration, final metrics, first batch, hidden means, verdicts",
                details: "with no names, every run", example: "compare good bad", handler: { s, a in
                    let runs = try a.isEmpty ? s.runs : a.map { n in try s.run(named: n) ?? { throw s.noSuchRun(n) }() }
                    guard !runs.isEmpty else { throw CommandError("compare: no runs yet (train one first)") }
                    s.compare(runs)
                }),
    ]

    func noSuchRun(_ name: String) -> CommandError {
        let names = runs.map(\.name)
        if names.isEmpty { return CommandError("no run named `\(name.prefix(40))`: there are no runs yet") }
        return CommandError("no run named `\(name.prefix(40))` (runs: \(names.joined(separator: ", ")))")
    }

    func startRun(named name: String) throws {
        guard name.range(of: #"^[A-Za-z0-9_.:+-]{1,64}$"#, options: .regularExpression) != nil else {
            throw CommandError("run: a name is 1-64 letters, digits or _ . : + -, got `\(name.prefix(40))`")
        }
        guard run(named: name) == nil else { throw CommandError("run: a run named \(name) exists already (use it with `use \(name)`)") }
        let c = try resolvedConfig()
        let r = Run(name: name, config: c)
        applyThreads(r)
        runs.append(r)
        currentIndex = runs.count - 1
        console.info("run \(name): \(c.layers!.map(String.init).joined(separator: "-")) \(c.activation.rawValue), init \(c.initDescription), \(c.optimizer), batch \(c.batch), seed \(c.seed)")
    }

    func listRuns() {
        guard !runs.isEmpty else { console.line("no runs yet: `train N` starts run1, `run NAME` a named one"); return }
        var rows = [["", "run", "epochs", "layers", "act", "init", "optimizer", "test acc", "first-batch sat."]]
        for (i, r) in runs.enumerated() {
            let last = r.trainer.epochs.last
            rows.append([i == currentIndex ? "*" : "", r.name, String(r.trainer.epochs.count),
                         r.config.layers!.map(String.init).joined(separator: "-"), r.config.activation.rawValue,
                         r.config.initDescription, r.config.optimizer.description,
                         last?.testAccuracy.map { pct($0) } ?? "-",
                         r.firstBatch.map { pct($0.saturatedFraction, 1) } ?? "-"])
        }
        console.out(Table(rows: rows, rightAligned: [2, 7, 8]).render(console: console))
    }

    func compare(_ list: [Run]) {
        var rows: [[String]] = [[""] + list.map(\.name)]
        func row(_ label: String, _ f: (Run) -> String) { rows.append([label] + list.map(f)) }
        row("data") { $0.config.data.map { $0.name + ($0.limit.map { " (limit \($0))" } ?? "") + ($0.scale == .unit ? "" : $0.scale == .none ? " unscaled" : " standardised") } ?? "-" }
        row("layers") { $0.config.layers!.map(String.init).joined(separator: "-") }
        row("activation") { $0.config.activation.rawValue }
        row("init") { $0.config.initDescription }
        row("optimizer") { $0.config.optimizer.description }
        row("batch / seed") { "\($0.config.batch) / \($0.config.seed)" }
        row("epochs") { String($0.trainer.epochs.count) }
        row("train loss") { $0.trainer.epochs.last.map { fmt($0.trainLoss, 4) } ?? "-" }
        row("train acc") { $0.trainer.epochs.last.map { pct($0.trainAccuracy) } ?? "-" }
        row("test loss") { $0.trainer.epochs.last?.testLoss.map { fmt($0, 4) } ?? "-" }
        row("test acc") { $0.trainer.epochs.last?.testAccuracy.map { pct($0) } ?? "-" }
        row("first-batch loss") { $0.firstBatch.map { fmt($0.loss, 4) } ?? "-" }
        row("first-batch saturated") { $0.firstBatch.map { pct($0.saturatedFraction, 1) } ?? "-" }
        let maxHidden = list.map { $0.config.layers!.count - 2 }.max() ?? 0
        for h in 0..<maxHidden {
            row("hidden \(h + 1) mean, init") { r in
                guard let fb = r.firstBatch, h < fb.hidden.count else { return "-" }
                return fmt(fb.hidden[h].mean, 3)
            }
        }
        for h in 0..<maxHidden {
            row("hidden \(h + 1) mean, last epoch") { r in
                guard let e = r.trainer.epochs.last, h < e.hidden.count else { return "-" }
                return fmt(e.hidden[h].mean, 3)
            }
        }
        row("checks") { r in
            let f = r.findings.isEmpty && (r.firstBatch != nil || !r.trainer.epochs.isEmpty) ? self.findings(for: r) : r.findings
            if f.isEmpty { return "-" }
            let fails = f.filter { $0.verdict == .fail }.map(\.rule), warns = f.filter { $0.verdict == .warn }.map(\.rule)
            var parts: [String] = []
            if !fails.isEmpty { parts.append("fail: " + fails.joined(separator: ",")) }
            if !warns.isEmpty { parts.append("warn: " + warns.joined(separator: ",")) }
            return parts.isEmpty ? "all ok" : parts.joined(separator: "; ")
        }
        console.out(Table(rows: rows, rightAligned: Set(1...list.count)).render(console: console))
    }
}
