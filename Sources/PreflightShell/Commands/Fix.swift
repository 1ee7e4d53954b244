import Foundation
import PreflightEngine
import PreflightData
import PreflightChecks
import PreflightPlot

// `fix`: the catalogue's remedies for the rules a run fails or warns on, each tried on a copy built from the
// run's configuration and seed on the same data, judged by the same rules, then ranked in one table.

/// What a remedy is built from: the run being fixed.
struct RemedyContext {
    let config: RunConfig
    /// Classes of the run's data (0 when unknown).
    let classes: Int
}

/// One remedy of the catalogue: the rules it answers, the commands that apply it to a run (nil when it does not
/// apply, e.g. `init he` on a run that already uses it), and what to do in one's own code (imported runs).
/// Adding a remedy is one entry here.
struct RemedySpec {
    let rules: [String]
    let commands: @Sendable (RemedyContext) -> [String]?
    let advice: String
}

extension RunConfig {
    /// The optimiser command with the learning rate times `factor` (printed as a user would type it).
    func learningRateCommand(times factor: Double) -> String {
        let lr = Double(String(format: "%g", optimizer.learningRate * factor))!
        return "optimizer \(optimizer.withLearningRate(lr))"
    }
    /// `init NAME`, unless every layer already uses it.
    func initCommand(_ i: Initializer) -> [String]? {
        initializer == i && layerInits.values.allSatisfy { $0 == i } ? nil : ["init \(i)"]
    }
}

extension Commands {
    static let fix = Command(
        "fix", group: .checks, forms: [[.any(.value(.rule))], [.keyword("apply"), .value(.count())]],
        usage: "fix [RULE…] | fix apply N",
        summary: "try the remedies of the failing and warning rules on copies from the same seed, in one table",
        details: """
        each remedy runs on a copy of the current run (its configuration and seed, the same data), as long as \
        its rule needs: the first batch (no update) for a rule flagged there or statically; the run's epochs, at \
        most `set fix.epochs` (default 5), for a curve rule. The table, best first: remedy; the rule's value and \
        verdict before → after; every other rule whose verdict changed; test accuracy before → after; seconds. \
        Nothing in the session changes. ^C stops between remedies and keeps the finished rows.
        RULE…: only these rules' remedies
        fix apply N: start a new run with remedy N (the commands run as if typed: `history save` replays them)
        an imported run: the remedies as advice for its own code
        """,
        example: "fix saturation") { s, a in
            let a = a.words
            if a.first?.lowercased() == "apply" {
                guard a.count == 2 else { throw CommandError("fix apply: give one row number", usage: "fix apply N") }
                try fixApply(s, a[1])
                return
            }
            try fix(s, a)
            s.historyOverride = []   // nothing to replay: fix changes nothing (`fix apply` records its commands)
        }

    static let diff = Command(
        "diff", group: .runs, forms: [[.value(.run("A")), .value(.run("B"))]],
        summary: "what differs between two runs: configuration, verdicts that changed, per-epoch metrics",
        example: "diff run1 run1-fix1", replayable: false) { s, inv in
            let a = inv.words
            guard a.count == 2 else { throw inv.usageError("diff: give two run names") }
            let x = try s.run(named: a[0]) ?? { throw noSuchRun(s, a[0]) }()
            let y = try s.run(named: a[1]) ?? { throw noSuchRun(s, a[1]) }()
            printDiff(s, diff(s, x, y))
        }
}

extension Commands {
    /// The remedies `fix` offers, in the order it tries them for a rule.
    static let remedyTable: [RemedySpec] = [
        RemedySpec(rules: ["saturation", "hidden-scale", "init-loss", "symmetry", "act-saturation", "grad-explode", "loss-trend"],
                   commands: { $0.config.initCommand(.glorot) },
                   advice: "initialise the weights with Glorot: Keras glorot_uniform (its default), torch.nn.init.xavier_uniform_"),
        RemedySpec(rules: ["saturation", "hidden-scale", "init-loss", "symmetry", "dead-units", "grad-vanish"],
                   commands: { $0.config.initCommand(.he) },
                   advice: "initialise the weights with He: Keras he_normal, torch.nn.init.kaiming_normal_ (relu)"),
        RemedySpec(rules: ["saturation", "hidden-scale", "grad-vanish"],
                   commands: { $0.config.batchNormValue ? nil : ["batchnorm on"] },
                   advice: "normalise each hidden layer before its activation: Keras BatchNormalization(), torch.nn.BatchNorm1d"),
        RemedySpec(rules: ["input-range"],
                   commands: { c in
                       guard var d = c.config.data, d.scale == .none else { return nil }
                       d.scale = .unit
                       return [d.command + " --scale unit"]   // the default, said out loud
                   },
                   advice: "scale the inputs to [0, 1] (pixels / 255) or standardise them"),
        RemedySpec(rules: ["output-units"],
                   commands: { c in
                       guard let l = c.config.layers, c.classes > 0, l.last! != c.classes else { return nil }
                       return ["layers " + (l.dropLast() + [c.classes]).map(String.init).joined(separator: " ")]
                   },
                   advice: "make the last layer as wide as the number of classes"),
        RemedySpec(rules: ["divergence", "oscillation", "nonfinite", "grad-explode", "dead-units"],
                   commands: { [$0.config.learningRateCommand(times: 0.1)] },
                   advice: "divide the learning rate by 10"),
        RemedySpec(rules: ["slow", "loss-trend"],
                   commands: { [$0.config.learningRateCommand(times: 3)] },
                   advice: "multiply the learning rate by 3"),
        RemedySpec(rules: ["slow", "loss-trend"],
                   commands: { c in
                       if case .adam = c.config.optimizer { return nil }
                       if case .adamw = c.config.optimizer { return nil }
                       return ["optimizer adam 0.001"]
                   },
                   advice: "switch to Adam at 0.001 (Keras' and torch's defaults)"),
        RemedySpec(rules: ["dead-units"],
                   commands: { $0.config.activation == .leakyRelu ? nil : ["activation leaky_relu"] },
                   advice: "use leaky_relu as the hidden activation (keeps a gradient below 0)"),
        RemedySpec(rules: ["grad-vanish", "act-saturation"],
                   commands: { $0.config.activation == .relu ? nil : ["activation relu"] },
                   advice: "use relu as the hidden activation (no saturation above 0)"),
        RemedySpec(rules: ["overfitting"],
                   commands: { $0.config.l2Value == 1e-4 ? nil : ["l2 1e-4"] },
                   advice: "add L2 regularisation of the weights: Keras kernel_regularizer=l2(1e-4), or a weight-decay term"),
        RemedySpec(rules: ["overfitting"],
                   commands: { c in
                       if case .adamw = c.config.optimizer { return nil }
                       return ["optimizer adamw \(String(format: "%g", c.config.optimizer.learningRate))"]
                   },
                   advice: "use AdamW (decoupled weight decay 0.01, torch.optim.AdamW's default) at the same learning rate"),
        RemedySpec(rules: ["overfitting"],
                   commands: { $0.config.dropoutValue >= 0.3 ? nil : ["dropout 0.3"] },
                   advice: "add dropout after each hidden layer: Keras Dropout(0.3), torch.nn.Dropout(0.3)"),
        RemedySpec(rules: ["divergence", "oscillation"],
                   commands: { c in c.config.clip.map { $0 <= 1 } ?? false ? nil : ["clip 1"] },
                   advice: "clip the global gradient norm at 1: Keras optimizer global_clipnorm=1, torch.nn.utils.clip_grad_norm_(params, 1)"),
        RemedySpec(rules: ["oscillation", "divergence"],
                   commands: { $0.config.scheduleValue == .cosine ? nil : ["schedule cosine"] },
                   advice: "decay the learning rate over the planned epochs (cosine annealing)"),
        RemedySpec(rules: ["oscillation", "overfitting"],
                   commands: { c in c.config.scheduleValue != .none ? nil : ["schedule step 2 0.5"] },
                   advice: "halve the learning rate every 2 epochs (step decay)"),
    ]

    /// Which remedies apply to the flagged rules, in order: per rule (worst first) its table entries. A remedy
    /// serving several flagged rules is tried once, for all of them (`rules`, in the findings' order).
    static func remedies(for flagged: [Finding], context: RemedyContext) -> [(rules: [String], commands: [String])] {
        var out: [(rules: [String], commands: [String])] = []
        for f in flagged {
            for spec in remedyTable where spec.rules.contains(f.rule) {
                guard let cmds = spec.commands(context) else { continue }
                if let i = out.firstIndex(where: { $0.commands == cmds }) {
                    if !out[i].rules.contains(f.rule) { out[i].rules.append(f.rule) }
                } else {
                    out.append(([f.rule], cmds))
                }
            }
        }
        return out
    }
}

/// One remedy as `fix` tried it.
public struct FixRow {
    /// The commands that apply it (what `fix apply` runs).
    public var commands: [String]
    /// The flagged rules it was tried for, each with its finding on the run and on the copy.
    public var targets: [(rule: String, before: Finding?, after: Finding?)]
    /// Other rules whose verdict changed: rule, before, after.
    public var others: [(rule: String, before: Verdict, after: Verdict)]
    /// Test accuracy of the run and of the copy at the same point (nil for first-batch remedies).
    public var accuracyBefore: Double?
    public var accuracyAfter: Double?
    /// Epochs the copy trained (0: the first batch only, no update).
    public var epochs: Int
    public var seconds: Double
    public var text: String { commands.joined(separator: "; ") }
}

/// The latest `fix`: the run it was for and its rows, best first.
public struct FixTable {
    public var run: String
    public var rows: [FixRow]
    /// ^C stopped it after these rows.
    public var interrupted = false
    /// The run `fix apply` started from one of the rows (report shows the diff of the two).
    public var adopted: String?
}

extension Commands {
    static func fix(_ s: Session, _ args: [String]) throws {
        let ids = Set(Rules.all.map(\.id))
        for r in args where !ids.contains(r.lowercased()) { throw unknownRule(s, r) }
        guard let run = s.currentRun else { throw CommandError("fix: no run yet (train one, or `check` one, first)") }
        // The probe that `check` caches on an untrained run is put back: fix changes nothing in the session.
        let probed = run.probedFirstBatch
        let current = s.findings(for: run, only: args.isEmpty ? nil : args.map { $0.lowercased() })
        run.probedFirstBatch = probed
        let flagged = current.filter { $0.verdict == .fail || $0.verdict == .warn }
        guard !flagged.isEmpty else {
            let what = args.isEmpty ? "no rule" : args.joined(separator: ", ") + ":"
            s.console.line("fix: \(what) fails or warns on run \(run.name) (\(plural(run.epochs.count, "epoch"))): nothing to fix, nothing changed")
            return
        }
        let rd = s.dataRecord(of: run)
        let context = RemedyContext(config: run.config, classes: rd?.classes ?? s.data?.classes ?? 0)
        let planned = Commands.remedies(for: flagged, context: context)
        let without = flagged.filter { f in !Commands.remedyTable.contains { $0.rules.contains(f.rule) && $0.commands(context) != nil } }.map(\.rule)

        if run.isExternal {
            // No trainer: the remedies as what to change in one's own code.
            s.console.line("fix: run \(run.name) is external (\(run.record!.engineText) record): remedies to try in its code, not run here")
            for f in flagged {
                let specs = Commands.remedyTable.filter { $0.rules.contains(f.rule) }
                let head = "  \(f.rule) (\(f.verdict.rawValue)\(f.value.map { ", " + num($0) } ?? "")):"
                if specs.isEmpty { s.console.line(head + " no remedy in the catalogue; \(f.hint)"); continue }
                s.console.line(head)
                for spec in specs { for l in wrapWords("- " + spec.advice, width: s.console.wrapWidth, first: "      ", rest: "        ") { s.console.line(l) } }
            }
            return
        }
        guard !planned.isEmpty else {
            s.console.line("fix: no remedy the engine can try for \(without.joined(separator: ", ")) on run \(run.name); see `check` for what to try; nothing changed")
            return
        }
        guard let spec = run.config.data else { throw CommandError("fix: run \(run.name) does not record its data; nothing changed") }

        // The copies' data: the loaded data when they are the run's, else the run's loaded again (nothing in the
        // session changes).
        let baseData: LoadedData
        if let d = s.data, d.spec == spec { baseData = d }
        else {
            let scratch = scratchSession(s, config: run.config, data: nil, run: run)
            do { try scratch.execute(spec.command) } catch { throw CommandError("fix: cannot load run \(run.name)'s data (`\(spec.command)`): \(error)") }
            baseData = scratch.data!
        }

        // How long each rule needs: the first batch (no update) when it was flagged there or statically, else the
        // epochs the run has, at most fix.epochs.
        func horizon(_ rule: String) -> Int {
            guard let f = flagged.first(where: { $0.rule == rule }), f.phase.hasPrefix("epoch") else { return 0 }
            return min(run.epochs.count, s.fixEpochs)
        }
        // A remedy runs as long as the longest of its rules needs.
        func horizon(_ rules: [String]) -> Int { rules.map(horizon).max() ?? 0 }
        let horizons = Set(planned.map { horizon($0.rules) }).sorted()
        // The run judged at each horizon: at 0 a fresh copy of it probed like the remedies; else its own records.
        var baseline: [Int: [Finding]] = [:]
        for h in horizons {
            if h == 0 {
                let scratch = scratchSession(s, config: run.config, data: baseData, run: run)
                let copy = scratch.makeRun(name: run.name, config: run.config)
                baseline[0] = scratch.findings(for: copy)
            } else {
                let probedNow = run.probedFirstBatch
                baseline[h] = s.findings(for: run, epochLimit: h)
                run.probedFirstBatch = probedNow
            }
        }
        let notes = horizons.map { h -> String in
            let rules = flagged.map(\.rule).filter { r in planned.contains { $0.rules.contains(r) && horizon($0.rules) == h } }
            return rules.joined(separator: ", ") + (h == 0 ? ": first batch, no update" : ": \(plural(h, "epoch"))")
        }
        s.console.info("fix: run \(run.name): trying \(plural(planned.count, "remedy", "remedies")) on copies from seed \(run.config.seed) (\(notes.joined(separator: "; ")))")

        var rows: [FixRow] = []
        var interrupted = false
        for (i, p) in planned.enumerated() {
            if Interrupt.requested { interrupted = true; break }
            let h = horizon(p.rules)
            let t0 = monotonicSeconds()
            let scratch = scratchSession(s, config: run.config, data: baseData, run: run)
            do {
                for c in p.commands { try scratch.execute(c) }
            } catch {
                s.console.warning("fix: remedy `\(p.commands.joined(separator: "; "))` could not be applied: \(error)")
                continue
            }
            let c: RunConfig
            do { c = try scratch.resolvedConfig() } catch { s.console.warning("fix: remedy `\(p.commands.joined(separator: "; "))`: \(error)"); continue }
            let copy = scratch.makeRun(name: run.name, config: c)
            let t = copy.trainer!
            t.threads = run.trainer.threads
            if c.scheduleEpochs == nil { t.optimizer.plannedEpochs = run.trainer.optimizer.plannedEpochs > 0 ? run.trainer.optimizer.plannedEpochs : h }
            let d = scratch.data!
            var stopped = false
            for _ in 0..<h {
                guard t.nonFinite == nil else { break }
                let rec = t.trainEpoch(d.train, test: d.test.count > 0 ? d.test : nil, batch: c.batch, epsilon: Float(c.epsilon),
                                       shouldStop: { Interrupt.requested })
                if Interrupt.requested || rec.map({ !$0.complete && t.nonFinite == nil }) ?? false { stopped = true; break }
            }
            if stopped { interrupted = true; break }
            let after = scratch.findings(for: copy)
            let before = baseline[h]!
            func worst(_ fs: [Finding], _ rule: String) -> Finding? { fs.first { $0.rule == rule } }
            var others: [(rule: String, before: Verdict, after: Verdict)] = []
            for f in after where !p.rules.contains(f.rule) {
                if let b = worst(before, f.rule), b.verdict != f.verdict { others.append((f.rule, b.verdict, f.verdict)) }
            }
            let accBefore = h > 0 && h <= run.epochs.count ? run.epochs[h - 1].testAccuracy : nil
            rows.append(FixRow(commands: p.commands, targets: p.rules.map { ($0, worst(before, $0), worst(after, $0)) },
                               others: others, accuracyBefore: accBefore, accuracyAfter: h > 0 ? copy.epochs.last?.testAccuracy : nil,
                               epochs: h, seconds: monotonicSeconds() - t0))
            if s.console.interactive { s.console.info("  \(i + 1)/\(planned.count) \(p.commands.joined(separator: "; ")) done") }
        }
        rows.sort(by: Commands.fixOrder)
        let table = FixTable(run: run.name, rows: rows, interrupted: interrupted)
        if !rows.isEmpty { s.lastFix = table }
        printFix(s, table, tried: planned.count)
        if !without.isEmpty { s.console.line("  no remedy to try for \(without.joined(separator: ", ")) (see `check`)") }
    }

    /// Best first: the most of its rules cleared (ok after), then the least severity left in them, then the fewest
    /// other rules made worse and the most made better, then the highest test accuracy, then the order tried.
    static func fixOrder(_ a: FixRow, _ b: FixRow) -> Bool {
        func cleared(_ r: FixRow) -> Int { r.targets.filter { $0.after?.verdict == .ok }.count }
        func left(_ r: FixRow) -> Int { r.targets.reduce(0) { $0 + ($1.after?.verdict.severity ?? 1) } }
        func net(_ r: FixRow) -> Int { r.others.reduce(0) { $0 + ($1.after.severity > $1.before.severity ? 1 : $1.after.severity < $1.before.severity ? -1 : 0) } }
        if cleared(a) != cleared(b) { return cleared(a) > cleared(b) }
        if left(a) != left(b) { return left(a) < left(b) }
        if net(a) != net(b) { return net(a) < net(b) }
        let aa = a.accuracyAfter ?? -1, ba = b.accuracyAfter ?? -1
        return aa > ba
    }

    /// The fix table as rows of text (header first): for the terminal and the report.
    static func fixTableRows(_ s: Session, _ table: FixTable) -> [[String]] {
        var rows = [["#", "remedy", "rule", "value", "verdict", "other rules changed", "test acc", "time"]]
        func v(_ f: Finding?) -> String { f?.value.map(num) ?? "-" }
        func label(_ v: Verdict) -> String { v == .notRun ? "not run" : v.rawValue }
        func verdict(_ f: Finding?) -> String { f.map { label($0.verdict) } ?? "-" }
        // One line per rule the remedy was tried for; the remedy's own cells on its first line.
        for (i, r) in table.rows.enumerated() {
            let others = r.others.isEmpty ? "-" : r.others.map { "\($0.rule) \(label($0.before))→\(label($0.after))" }.joined(separator: ", ")
            let acc = r.epochs == 0 ? "- (first batch)" : "\(r.accuracyBefore.map { pct($0) } ?? "-") → \(r.accuracyAfter.map { pct($0) } ?? "-")"
            for (k, t) in r.targets.enumerated() {
                let cells = ["\(v(t.before)) → \(v(t.after))", "\(verdict(t.before)) → \(verdict(t.after))"]
                rows.append(k == 0 ? [String(i + 1), r.text, t.rule] + cells + [others, acc, fmt(r.seconds, 1) + "s"]
                                   : ["", "", t.rule] + cells + ["", "", ""])
            }
        }
        return rows
    }

    static func printFix(_ s: Session, _ table: FixTable, tried: Int) {
        if table.rows.isEmpty {
            s.console.line("fix: no remedy finished" + (table.interrupted ? " (interrupted); nothing changed" : "; nothing changed"))
            return
        }
        s.console.line("fix for run \(table.run): \(plural(table.rows.count, "remedy", "remedies")) on copies from the same seed, best first")
        s.console.out(Table(rows: fixTableRows(s, table), rightAligned: [0]).render(indent: "  ", console: s.console))
        if table.interrupted { s.console.line("  interrupted: \(table.rows.count) of \(tried) remedies finished (kept above)") }
        s.console.line("  `fix apply N` starts a new run with remedy N; the session is unchanged until then")
    }

    /// A session for one copy: the run's configuration, the given data, the session's thresholds; prints nothing.
    static func scratchSession(_ s: Session, config c: RunConfig, data d: LoadedData?, run: Run) -> Session {
        let scratch = Session(console: Console(out: { _ in }, err: { _ in }), options: s.options)
        scratch.config = c
        scratch.data = d
        scratch.thresholds = s.thresholds
        scratch.memoryFraction = s.memoryFraction
        scratch.threads = run.trainer?.threads ?? s.threads
        return scratch
    }

    /// `fix apply N`: the commands that make the fixed run's configuration (what differs from the session's now),
    /// then remedy N's, then `run NAME`; each runs as if typed, so `history save` replays them.
    static func fixApply(_ s: Session, _ arg: String) throws {
        guard let table = s.lastFix else { throw CommandError("fix apply: no fix table yet (run `fix` first)") }
        guard let n = Int(arg), n >= 1, n <= table.rows.count else {
            throw CommandError("fix apply: N must be a row of the latest fix table, 1 to \(table.rows.count), got `\(arg.prefix(30))`")
        }
        guard let run = s.run(named: table.run), !run.isExternal else {
            throw CommandError("fix apply: run \(table.run) of the latest fix table no longer exists")
        }
        let row = table.rows[n - 1]
        var commands: [String] = []
        if let spec = run.config.data, s.data?.spec != spec, !row.commands.contains(where: { $0.hasPrefix("data ") }) { commands.append(spec.command) }
        let now = Commands.configCommands(s.config), want = Commands.configCommands(run.config)
        for (k, c) in want where k != "data" && now.first(where: { $0.key == k })?.command != c { commands.append(c) }
        commands += row.commands
        var name = "\(run.name)-fix\(n)", k = 2
        while s.run(named: name) != nil { name = "\(run.name)-fix\(n)-\(k)"; k += 1 }
        commands.append("run \(name)")
        for c in commands { for part in c.components(separatedBy: "; ") { try s.execute(part) } }
        s.historyOverride = []   // the commands above are in the history themselves
        s.lastFix?.adopted = name
        s.console.info("fix apply: run \(name) = run \(run.name) with \(row.text); `train N` trains it")
    }

    /// The commands that set a configuration, keyed by setting, in replay order.
    static func configCommands(_ c: RunConfig) -> [(key: String, command: String)] {
        var out: [(key: String, command: String)] = []
        if let d = c.data { out.append(("data", d.command)) }
        if let l = c.layers { out.append(("layers", "layers " + l.map(String.init).joined(separator: " "))) }
        out.append(("activation", "activation \(c.activation.rawValue)"))
        var initText = "init \(c.initializer)"
        for k in c.layerInits.keys.sorted() { initText += "; init \(c.layerInits[k]!) layer \(k)" }
        out.append(("init", initText))
        out.append(("optimizer", "optimizer \(c.optimizer)"))
        out.append(("batch", "batch \(c.batch)"))
        out.append(("seed", "seed \(c.seed)"))
        out.append(("epsilon", "epsilon \(formatParam(c.epsilon))"))
        out.append(("l2", "l2 \(formatParam(c.l2Value))"))
        out.append(("schedule", "schedule \(c.scheduleValue)"))
        out.append(("schedule.epochs", "set schedule.epochs \(c.scheduleEpochs.map(String.init) ?? "auto")"))
        out.append(("dropout", "dropout \(formatParam(c.dropoutValue))"))
        out.append(("clip", "clip \(c.clip.map(formatParam) ?? "off")"))
        out.append(("batchnorm", "batchnorm \(c.batchNormValue ? "on" : "off")"))
        return out
    }
}

extension Commands {
    /// The report's section for the latest fix: its table, and the diff of the fixed run and the run `fix apply`
    /// started from it ("" when there was no fix).
    static func fixReportSection(_ s: Session) -> String {
        guard let table = s.lastFix else { return "" }
        func html(_ rows: [[String]]) -> String {
            guard let head = rows.first else { return "" }
            var h = "<table class=\"fix\">\n<tr>" + head.map { "<th>\(xmlEscape($0))</th>" }.joined() + "</tr>\n"
            for r in rows.dropFirst() { h += "<tr>" + r.map { "<td>\(xmlEscape($0))</td>" }.joined() + "</tr>\n" }
            return h + "</table>\n"
        }
        var h = "<section class=\"fix\" id=\"fix\">\n<h2>Fix: run \(xmlEscape(table.run))</h2>\n"
        h += "<p>Remedies tried on copies from the same seed, best first\(table.interrupted ? " (interrupted: the finished rows)" : "").</p>\n"
        h += html(fixTableRows(s, table))
        if let adopted = table.adopted, let a = s.run(named: table.run), let b = s.run(named: adopted) {
            let d = diff(s, a, b)
            h += "<h3>diff \(xmlEscape(a.name)) → \(xmlEscape(b.name))</h3>\n"
            h += d.config.isEmpty ? "<p>configuration: the same</p>\n" : html(d.config)
            h += d.findings.isEmpty ? "<p>verdicts: none changed</p>\n" : "<p>verdicts that changed</p>\n" + html(d.findings)
            if !d.epochs.isEmpty { h += "<p>per epoch\(d.note.map { " (\($0))" } ?? "")</p>\n" + html(d.epochs) }
            else if let n = d.note { h += "<p>epochs: \(xmlEscape(n))</p>\n" }
        }
        return h + "</section>\n"
    }
}
