import PreflightEngine
import PreflightChecks

/// What `sweep` was asked to do.
struct SweepPlan: Equatable {
    var inits: [Initializer]
    var depths: [Int]
    var epochs = 5
    var seeds = 1
    var width = 128

    static let usage = "sweep init INIT… depth D… [epochs E] [seeds S] [width W]"
    /// The keywords that start each part of a sweep (`depths` is accepted for `depth`).
    static let keywords = ["init", "depth", "epochs", "seeds", "width"]

    /// Parses `init glorot truncnormal:0.5 depth 2 3 4 epochs 10 seeds 5 width 128`.
    /// An initialiser with a parameter is written NAME:VALUE (`truncnormal:0.5`, `uniform:0.05`).
    /// Every error carries the usage line.
    static func parse(_ args: [String]) throws -> SweepPlan {
        do { return try parseWords(args) } catch var e as CommandError {
            if e.usage == nil { e.usage = usage }
            throw e
        }
    }

    private static func parseWords(_ args: [String]) throws -> SweepPlan {
        let u = usage
        guard !args.isEmpty else {
            throw CommandError("sweep: give the initialisers and depths, e.g. `sweep init glorot truncnormal:0.5 depth 2 3 4`", usage: u)
        }
        var inits: [Initializer] = [], depths: [Int] = []
        var epochs: Int?, seeds: Int?, width: Int?
        var i = 0
        func values(after key: String) -> [String] {
            var v: [String] = []
            var j = i + 1
            while j < args.count, !keywords.contains(args[j].lowercased()) { v.append(args[j]); j += 1 }
            return v
        }
        func single(_ key: String, _ seen: Int?, lo: Int, hi: Int) throws -> Int {
            guard seen == nil else { throw CommandError("sweep: `\(key)` given twice", usage: u) }
            guard let v = values(after: key).first else { throw CommandError("sweep: `\(key)` needs a number", usage: u) }
            return try parseCount(v, "`\(key)`", in: "sweep", min: lo, max: hi)
        }
        while i < args.count {
            let key = args[i].lowercased()
            switch key {
            case "init":
                guard inits.isEmpty else { throw CommandError("sweep: `init` given twice", usage: u) }
                let v = values(after: key)
                guard !v.isEmpty else { throw CommandError("sweep: `init` needs at least one initialiser, e.g. glorot truncnormal:0.5", usage: u) }
                for w in v {
                    let parts = w.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                    guard parts.count <= 2, let ini = Initializer.parse(parts) else {
                        throw CommandError("sweep: unknown initialiser `\(w.prefix(40))` (write a parameter after a colon: truncnormal:0.5)", usage: u)
                    }
                    guard !inits.contains(ini) else { throw CommandError("sweep: initialiser \(ini) listed twice", usage: u) }
                    inits.append(ini)
                }
                i += 1 + v.count
            case "depth", "depths":
                guard depths.isEmpty else { throw CommandError("sweep: `depth` given twice", usage: u) }
                let v = values(after: key)
                guard !v.isEmpty else { throw CommandError("sweep: `depth` needs at least one number of hidden layers, e.g. 2 3 4", usage: u) }
                for w in v {
                    guard Int(w) != nil || Double(w) != nil else {
                        throw CommandError("sweep: a depth (number of hidden layers) must be a whole number, got `\(w.prefix(30))` (the keywords are init, depth, epochs, seeds, width)")
                    }
                    let d = try parseCount(w, "a depth (number of hidden layers)", in: "sweep", min: 1, max: 16)
                    guard !depths.contains(d) else { throw CommandError("sweep: depth \(d) listed twice", usage: u) }
                    depths.append(d)
                }
                i += 1 + v.count
            case "epochs":
                epochs = try single(key, epochs, lo: 1, hi: 10_000); i += 2
            case "seeds":
                seeds = try single(key, seeds, lo: 1, hi: 1000); i += 2
            case "width":
                width = try single(key, width, lo: 1, hi: 65_536); i += 2
            default:
                throw CommandError("sweep: unexpected `\(args[i].prefix(30))` (expected init, depth, epochs, seeds or width)", usage: u)
            }
        }
        guard !inits.isEmpty else { throw CommandError("sweep: which initialisers? e.g. `init glorot truncnormal:0.5`", usage: u) }
        guard !depths.isEmpty else { throw CommandError("sweep: which depths? e.g. `depth 2 3 4`", usage: u) }
        var p = SweepPlan(inits: inits, depths: depths)
        if let epochs { p.epochs = epochs }
        if let seeds { p.seeds = seeds }
        if let width { p.width = width }
        let runs = inits.count * depths.count * p.seeds
        guard runs <= 1000 else { throw CommandError("sweep: \(runs) runs is too many (at most 1000)", usage: u) }
        return p
    }

    /// The study's published first-batch saturated share (one unseeded draw per network), where there is one:
    /// glorot 0% at every depth; truncated normal std 0.5: 80% with 2 hidden layers, 99% with 3, 100% with 4.
    /// Only for the study's networks (hidden layers of 128 relu units).
    static func published(_ ini: Initializer, depth: Int, width: Int, activation: Activation) -> Double? {
        guard width == 128, activation == .relu, (2...4).contains(depth) else { return nil }
        switch ini {
        case .glorot: return 0
        case .truncnormal(let s) where s == 0.5: return [2: 0.80, 3: 0.99, 4: 1.00][depth]
        default: return nil
        }
    }
}

/// Run name for one cell and seed: `glorot-d2-s0`, `truncnormal:0.5-d3-s1`.
func sweepRunName(_ ini: Initializer, depth: Int, seed: UInt64) -> String {
    "\(ini.description.replacingOccurrences(of: " ", with: ":"))-d\(depth)-s\(seed)"
}

extension Commands {
    /// `sweep`: a grid of runs and one table (issue 6). Its parts come in any order, each a keyword and its values.
    static let sweep = Command(
        "sweep", group: .training,
        forms: [[.repeated(.oneOf([
            [.keyword("init"), .repeated(.value(Value("INIT", what: "an initialiser", completer: .words(Initializer.names + Initializer.kerasNames),
                                                      sample: "glorot", accepts: { !SweepPlan.keywords.contains($0.lowercased()) })))],
            [.keyword("depth"), .repeated(.value(.count("D")))],
            [.keyword("epochs"), .value(.count("E"))],
            [.keyword("seeds"), .value(.count("S"))],
            [.keyword("width"), .value(.count("W"))],
        ]))]],
        usage: SweepPlan.usage, brief: "sweep init I… depth D… […]",
        summary: "train a grid of runs (initialiser × depth × seed) and print the study's table beside our numbers",
        details: """
        INIT…: initialisers; one with a parameter is written NAME:VALUE (truncnormal:0.5, normal:0.1, uniform:0.05)
        D…: numbers of hidden layers, each of W units (width, default 128)
        epochs E: epochs per run (default 5); seeds S: seeds seed..seed+S-1 (default 1: the session's seed)
        every other setting (activation, optimizer, batch, epsilon, data) comes from the session
        each run is named INIT-dDEPTH-sSEED (glorot-d2-s0) and stays in the session for compare, plot and export;
        a run of that name from an earlier sweep is replaced
        the table: per initialiser and depth, the first batch's share of softmax outputs below ε or above 1−ε
        (mean, and min–max over seeds) beside the study's published value, the first and last hidden layer's
        mean on the first batch, the largest hidden-layer mean over the epochs, final test accuracy and loss,
        and the check rules that failed (in how many of the seeds)
        ^C stops after the current batch; finished runs are kept and tabled
        on two threads two runs train at once, each on one thread: the same numbers and output, in the same order,
        as one run after the other (set threads 1)
        """,
        example: "sweep init glorot truncnormal:0.5 depth 2 3 4 epochs 10 seeds 5") { s, inv in try sweep(s, SweepPlan.parse(inv.words)) }
}

extension Commands {
    static func sweep(_ s: Session, _ plan: SweepPlan) throws {
        if let r = s.currentRun, r.isExternal {
            throw CommandError("sweep: the selected run \(r.name) is external (imported from \(r.record!.file)): a sweep trains Preflight runs from the session's configuration; `use` a Preflight run or start one with `run NAME` first")
        }
        let d = try s.requireData()
        let base = s.config
        var runsOfCell: [[Run]] = []
        let total = plan.inits.count * plan.depths.count * plan.seeds
        guard base.batch <= d.train.count else { throw CommandError("batch \(base.batch) is larger than the \(d.train.count) training samples") }
        // Validate every configuration before training anything.
        var cells: [(Initializer, Int, [RunConfig])] = []
        for ini in plan.inits {
            for depth in plan.depths {
                var cs: [RunConfig] = []
                for k in 0..<plan.seeds {
                    var c = base
                    c.layers = [d.features] + Array(repeating: plan.width, count: depth) + [d.classes]
                    c.initializer = ini
                    c.layerInits = [:]
                    c.seed = base.seed &+ UInt64(k)
                    c.data = d.spec
                    try s.checkMemory(layers: c.layers!, batch: c.batch)
                    let name = sweepRunName(ini, depth: depth, seed: c.seed)
                    if let r = s.run(named: name), r.isExternal {
                        throw CommandError("sweep: its run \(name) would replace the external run of that name (imported from \(r.record!.file))")
                    }
                    cs.append(c)
                }
                cells.append((ini, depth, cs))
            }
        }
        let selected = s.currentRun
        let seedText = plan.seeds == 1 ? "seed \(base.seed)" : "seeds \(base.seed)-\(base.seed &+ UInt64(plan.seeds - 1))"
        s.console.info("sweep: \(plan.inits.count) init × \(plan.depths.count) depth × \(plan.seeds) seed = \(plural(total, "run")) of \(plural(plan.epochs, "epoch")); hidden layers of \(plan.width) \(base.activation.rawValue), \(base.optimizer), batch \(base.batch), \(seedText), \(d.spec.command)")
        var done = 0
        var replacedSelected: Run? = nil
        var interrupted = false
        let eps = Float(base.epsilon)
        let test: SampleSet? = d.test.count > 0 ? d.test : nil
        // Every run in sweep order, with the index of its cell.
        let order: [(cell: Int, name: String, config: RunConfig)] = cells.enumerated().flatMap { k, cell in
            cell.2.map { (cell: k, name: sweepRunName(cell.0, depth: cell.1, seed: $0.seed), config: $0) }
        }
        // Two runs at a time, each on one thread, when the session trains on two threads, there are two runs or
        // more and two of the networks fit in the memory share at once; otherwise one run after the other.
        let lanes = (s.threads == 0 ? Trainer.defaultThreads : s.threads) >= 2 && total >= 2 && twoFitInMemory(s, order.map(\.config)) ? 2 : 1
        s.sweepLanes = lanes
        let drawBar = s.console.interactive
        var lastCell = -1
        /// Puts run k into the session, replacing a run of the same name (said as the run starts).
        func admit(_ k: Int, _ r: Run) {
            r.data = RunData(d)
            if let sel = selected, sel.name == r.name { replacedSelected = r }
            s.runs.append(r)
            if order[k].cell != lastCell { runsOfCell.append([]); lastCell = order[k].cell }
            runsOfCell[runsOfCell.count - 1].append(r)
        }
        func replaceEarlier(_ name: String) {
            if let i = s.runs.firstIndex(where: { $0.name == name }) {
                s.console.info("replacing run \(name) (from an earlier sweep)")
                s.runs.remove(at: i)
            }
        }
        /// Judges a trained run and prints its line; `seconds`: its training time.
        func report(_ r: Run, seconds: Double) {
            let t0 = monotonicSeconds()
            r.findings = s.findings(for: r)
            done += 1
            let last = r.trainer.epochs.last
            var line = "[\(done)/\(total)] \(r.name): first-batch saturated \(r.trainer.firstBatch.map { pct($0.saturatedFraction, 1) } ?? "-")"
            line += ", \(plural(r.trainer.epochs.count, "epoch"))"
            if let acc = last?.testAccuracy { line += ", test acc \(pct(acc))" }
            if let tl = last?.testLoss { line += ", test loss \(fmt(tl, 4))" }
            if let ev = r.trainer.nonFinite { line += ", stopped at NaN/Inf (epoch \(ev.epoch), batch \(ev.batch))" }
            line += ", \(fmt(seconds + monotonicSeconds() - t0, 1))s"
            s.console.info(line)
        }
        func drawProgress(_ k: Int, _ p: BatchProgress) {
            s.console.out("\r\u{1B}[2K" + s.console.fitLine("[\(k + 1)/\(total)] \(order[k].name) epoch \(p.epoch)/\(plan.epochs)  batch \(p.batch)/\(p.batches)  loss \(fmt(p.loss, 4))"))
        }
        // Keys typed while the progress line is drawn are not echoed into it (as in `train`).
        s.console.withoutEcho(s.console.interactive && EditLineReader.handlersInstalled) {
            if lanes == 2 {
                interrupted = sweepTwoAtATime(s, order.map { ($0.name, $0.config) }, data: (d.train, test), epochs: plan.epochs, epsilon: eps,
                                              drawBar: drawBar, draw: drawProgress) { k, r, seconds in
                    replaceEarlier(r.name)
                    admit(k, r)
                    report(r, seconds: seconds)
                }
                return
            }
            for k in order.indices {
                if Interrupt.requested { interrupted = true; break }
                let c = order[k].config
                replaceEarlier(order[k].name)
                let r = Run(name: order[k].name, config: c)
                if s.threads > 0 { r.trainer.threads = s.threads }
                admit(k, r)
                let t0 = monotonicSeconds()
                for _ in 0..<plan.epochs {
                    let rec = r.trainer.trainEpoch(d.train, test: test, batch: c.batch, epsilon: eps,
                                                   shouldStop: { Interrupt.requested },
                                                   progress: drawBar ? { p in drawProgress(k, p) } : nil)
                    if drawBar { s.console.out("\r\u{1B}[2K") }
                    if rec == nil || r.trainer.nonFinite != nil { break }
                    if Interrupt.requested { interrupted = true; break }
                }
                report(r, seconds: monotonicSeconds() - t0)
                if interrupted { break }
            }
        }
        // The selection stays on the run that was selected before; if the sweep replaced that run, on the run that
        // replaced it (same name), with the session's configuration following it as `use` would.
        if let sel = selected, let i = s.runs.firstIndex(where: { $0 === sel }) {
            s.currentIndex = i
        } else if let r = replacedSelected, let i = s.runs.firstIndex(where: { $0 === r }) {
            s.currentIndex = i
            s.config = r.config
            s.console.info("the selected run \(r.name) was replaced: using the new \(r.name)")
        } else {
            s.currentIndex = nil
        }
        if interrupted {
            // The flag stays set: a script stops after this command (the prompt clears it).
            s.console.info("interrupted: \(done) of \(total) runs trained (the last may have stopped mid-epoch); they are kept")
            s.historyOverride = sweepReplay(s, runsOfCell, plan: plan, base: base, total: total)
        }
        guard !runsOfCell.isEmpty else { return }
        s.console.out(sweepTable(s, runsOfCell, plan: plan, dataName: d.spec.name).render(console: s.console))
        let seedCounts = Set(runsOfCell.map(\.count))
        let over = seedCounts.count == 1 ? "over \(seedCounts.first!) seeds" : "over the seeds each row ran (\(seedCounts.sorted().map(String.init).joined(separator: " or ")))"
        s.console.line("saturated: share of the first batch's softmax outputs < ε or > 1−ε (ε = \(num(base.epsilon))), weights before any update"
                     + (runsOfCell.contains { $0.count > 1 } ? "; mean (min–max) \(over)" : ""))
        s.console.line("published: the original study, one unseeded draw per network; h1/hN: first/last hidden layer's mean on the first batch;")
        s.console.line("max h mean: the largest hidden-layer mean over the epochs; failing: check rules that failed (in how many seeds)")
    }

    /// Whether two of these networks fit in the session's memory share at once: each within half of it, by the
    /// estimate that refuses a network too large for the whole share.
    static func twoFitInMemory(_ s: Session, _ configs: [RunConfig]) -> Bool {
        configs.allSatisfy { (try? s.checkMemory(layers: $0.layers!, batch: $0.batch, share: s.memoryFraction / 2)) != nil }
    }

    /// What `history save` writes for an interrupted sweep: the runs that ran, as sweeps of one cell each (a cell
    /// cut short as fewer seeds; the run ^C stopped as the whole epochs it finished, with its seed set around it).
    static func sweepReplay(_ s: Session, _ cells: [[Run]], plan: SweepPlan, base: RunConfig, total: Int) -> [HistoryEntry] {
        var out: [HistoryEntry] = []
        let ran = cells.reduce(0) { $0 + $1.count }
        let note = "a sweep of \(total) runs interrupted after \(ran): the runs that ran, one sweep per initialiser and depth"
        func ini(_ i: Initializer) -> String { i.description.replacingOccurrences(of: " ", with: ":") }
        for list in cells {
            let c = list[0].config
            let depth = c.layers!.count - 2
            let whole = list.filter { $0.trainer.epochs.count == plan.epochs && $0.trainer.epochs.allSatisfy(\.complete) || $0.trainer.nonFinite != nil }
            let tail = "width \(plan.width)"
            if !whole.isEmpty {
                out.append(HistoryEntry(line: "sweep init \(ini(c.initializer)) depth \(depth) epochs \(plan.epochs) seeds \(whole.count) \(tail)", replayable: true))
            }
            if whole.count < list.count, let cut = list.last {
                let epochs = cut.trainer.epochs.filter(\.complete).count
                if epochs > 0 {
                    out.append(HistoryEntry(line: "seed \(cut.config.seed)", replayable: true))
                    out.append(HistoryEntry(line: "sweep init \(ini(c.initializer)) depth \(depth) epochs \(epochs) \(tail)", replayable: true,
                                            note: "run \(cut.name) was stopped after \(epochs) whole epochs"))
                    out.append(HistoryEntry(line: "seed \(base.seed)", replayable: true))
                } else {
                    out.append(HistoryEntry(line: "# run \(cut.name) was stopped in its first epoch: not replayed", replayable: true))
                }
            }
        }
        if out.isEmpty { out.append(HistoryEntry(line: "# sweep interrupted before any run: nothing to replay", replayable: true)) }
        out[0].note = note
        return out
    }

    static func sweepTable(_ s: Session, _ cells: [[Run]], plan: SweepPlan, dataName: String = "mnist") -> Table {
        var rows = [["init", "hidden", "saturated", "published", "h1 mean", "hN mean", "max h mean", "test acc", "test loss", "failing"]]
        func mean(_ v: [Double]) -> Double? { v.isEmpty ? nil : v.reduce(0, +) / Double(v.count) }
        for list in cells {
            let c = list[0].config
            let depth = c.layers!.count - 2
            let sat = list.compactMap { $0.trainer.firstBatch?.saturatedFraction }
            var satText = mean(sat).map { pct($0, 1) } ?? "-"
            if sat.count > 1 { satText += " (\(fmt(sat.min()! * 100, 1))–\(fmt(sat.max()! * 100, 1)))" }
            // The study's figures are MNIST's: beside other data they compare nothing.
            let pub = dataName == "mnist" ? SweepPlan.published(c.initializer, depth: depth, width: plan.width, activation: c.activation).map { pct($0, 0) } ?? "-" : "-"
            let h1 = mean(list.compactMap { $0.trainer.firstBatch?.hidden.first?.mean }).map { fmt($0, 3) } ?? "-"
            let hN = mean(list.compactMap { $0.trainer.firstBatch?.hidden.last?.mean }).map { fmt($0, 3) } ?? "-"
            let peaks = list.compactMap { r in r.trainer.epochs.flatMap { $0.hidden.map(\.mean) }.max() }
            let peak = peaks.max().map { fmt($0, 3) } ?? "-"
            let acc = mean(list.compactMap { $0.trainer.epochs.last?.testAccuracy }).map { pct($0) } ?? "-"
            let loss = mean(list.compactMap { $0.trainer.epochs.last?.testLoss }).map { fmt($0, 4) } ?? "-"
            var counts: [(String, Int)] = []
            for r in list {
                for f in r.findings where f.verdict == .fail {
                    if let i = counts.firstIndex(where: { $0.0 == f.rule }) { counts[i].1 += 1 } else { counts.append((f.rule, 1)) }
                }
            }
            let failing = counts.isEmpty ? "none"
                : counts.map { list.count > 1 ? "\($0.0) \($0.1)/\(list.count)" : $0.0 }.joined(separator: ", ")
            rows.append([c.initializer.description, String(depth), satText, pub, h1, hN, peak, acc, loss, failing])
        }
        return Table(rows: rows, rightAligned: [1, 2, 3, 4, 5, 6, 7, 8])
    }
}
