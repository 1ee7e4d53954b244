import PreflightEngine

extension Commands {
    static let train = Command(
        "train", group: .training, forms: [[.value(.count())]],
        summary: "train N more epochs of the current run (^C stops at a batch boundary, keeping the records)",
        details: "starts run1 (or a new run if the configuration changed since the current run) when needed",
        example: "train 5") { s, inv in
            let a = inv.words
            guard a.count == 1 else { throw inv.usageError(a.isEmpty ? "train: how many epochs?" : "train: one number of epochs") }
            let n = try parseCount(a[0], "the number of epochs", in: "train", min: 1, max: 100_000)
            try train(s, epochs: n)
        }

    static let overfit = Command(
        "overfit", group: .training, forms: [[.optional([.value(.count())])]],
        summary: "train a copy on one batch of N samples (default 16) for up to 500 steps: does the loss reach ~0?",
        details: "the session's run is untouched; a network that cannot overfit 16 samples has a bug in its set-up",
        example: "overfit 16") { s, inv in
            let a = inv.words
            guard a.count <= 1 else { throw inv.usageError("overfit: at most one number") }
            let n = try a.first.map { try parseCount($0, "the sample count", in: "overfit", min: 1, max: 10_000) } ?? 16
            try overfit(s, samples: n)
        }
}

extension Commands {
    static func train(_ s: Session, epochs n: Int) throws {
        if let r = s.currentRun, r.isExternal { _ = try r.trainable(for: "train") }
        let d = try s.requireData()
        let c = try s.resolvedConfig()
        if c.layers!.last! < d.classes {
            throw CommandError("the output layer has \(c.layers!.last!) units but the data have \(d.classes) classes: make the last layer size \(d.classes)")
        }
        if c.batch > d.train.count { throw CommandError("batch \(c.batch) is larger than the \(d.train.count) training samples") }
        let r = try s.runForTraining()
        let t = try r.trainable(for: "train")
        if let ev = t.nonFinite {
            throw CommandError("run \(r.name) stopped at a NaN/Inf (epoch \(ev.epoch), batch \(ev.batch), \(ev.stage), \(ev.layer)); start a new run with `run NAME` after changing the configuration")
        }
        let eps = Float(c.epsilon)
        let start = t.epochs.count
        // A schedule is planned over `set schedule.epochs`, else over the epochs of the run's first `train N`.
        if t.optimizer.plannedEpochs == 0 { t.optimizer.plannedEpochs = start + n }
        let t0 = monotonicSeconds()
        var finished = 0
        let drawBar = s.console.interactive
        s.console.withoutEcho(drawBar && EditLineReader.handlersInstalled) {
            for _ in 1...n {
                // Stop before an epoch too: a ^C between two epochs (or before the command) trains nothing more.
                if Interrupt.requested { break }
                let epochTotal = start + n
                let elapsed = monotonicSeconds() - t0, done = finished
                let rec = t.trainEpoch(d.train, test: d.test.count > 0 ? d.test : nil, batch: c.batch, epsilon: eps,
                                       shouldStop: { Interrupt.requested },
                                       progress: drawBar ? { p in
                                           drawProgress(s, p, of: epochTotal, epochsLeft: n - done - 1,
                                                             secondsPerEpoch: done > 0 ? elapsed / Double(done) : nil)
                                       } : nil)
                if drawBar { s.console.out("\r\u{1B}[2K") }
                if let rec, rec.batches > 0 || t.nonFinite == nil { printEpoch(s, rec, run: r) }
                if let rec, rec.complete, t.nonFinite == nil { finished += 1 }
                if let ev = t.nonFinite {
                    s.console.error("NaN/Inf: training stopped at epoch \(ev.epoch), batch \(ev.batch): first seen in the \(ev.stage) pass, \(ev.layer). Recorded epochs are kept; `check nonfinite` for what to try.")
                    break
                }
                if Interrupt.requested { break }
            }
        }
        if Interrupt.requested {
            // The flag stays set: a script stops after this command (the prompt clears it).
            let last = t.epochs.last
            let partial = last.map { !$0.complete } ?? false
            let where_ = partial ? "stopped after batch \(last!.batches) of epoch \(last!.epoch)" : "stopped after epoch \(t.epochs.count)"
            s.console.info("interrupted: \(where_); \(plural(t.epochs.count, "epoch")) recorded in run \(r.name)")
            // What `history save` replays: the whole epochs this command trained (a partial one cannot be replayed).
            var note = "`train \(n)` was interrupted after \(finished) of \(n) epochs"
                + (partial ? " (epoch \(last!.epoch) stopped after \(last!.batches) of \(last!.totalBatches) batches: recorded, not replayed)" : "")
            if c.scheduleValue != .none, c.scheduleEpochs == nil, start == 0 {
                note += "; its schedule was planned over \(n) epochs, the replayed `train \(finished)` plans over \(finished) (`set schedule.epochs \(n)` before the run replays it exactly)"
            }
            s.historyOverride = [HistoryEntry(line: finished > 0 ? "train \(finished)" : "# train \(n): no whole epoch", replayable: true, note: note)]
        }
    }

    static func printEpoch(_ s: Session, _ rec: EpochRecord, run: Run) {
        var text = "epoch \(String(rec.epoch).leftPad(3))  loss \(fmt(rec.trainLoss, 4))  acc \(pct(rec.trainAccuracy))"
        if let tl = rec.testLoss, let ta = rec.testAccuracy { text += "  test loss \(fmt(tl, 4))  test acc \(pct(ta))" }
        text += "  \(fmt(rec.seconds, 2))s  \(rate(rec.samplesPerSecond)) samples/s"
        if !rec.complete { text += "  (partial: \(rec.batches)/\(rec.totalBatches) batches)" }
        s.console.info(text)
    }

    /// The progress line, cut to the terminal's width (a line that wraps cannot be redrawn in place). The ETA
    /// covers the whole command: the rest of this epoch and `epochsLeft` more, timed from the epochs this command
    /// finished (else from the batch rate).
    static func drawProgress(_ s: Session, _ p: BatchProgress, of total: Int, epochsLeft: Int = 0, secondsPerEpoch: Double? = nil) {
        let width = 24
        let filled = p.batches > 0 ? width * p.batch / p.batches : 0
        let bar = String(repeating: s.console.unicode ? "█" : "#", count: filled) + String(repeating: s.console.unicode ? "·" : ".", count: width - filled)
        let perBatch = p.batch > 0 && p.samplesPerSecond > 0 ? Double(max(p.batchSize, 1)) / p.samplesPerSecond : 0
        let eta = Commands.commandETA(batch: p.batch, batches: p.batches, epochsLeft: epochsLeft, secondsPerBatch: perBatch,
                                     secondsPerEpoch: secondsPerEpoch)
        let text = "epoch \(p.epoch)/\(total) [\(bar)] \(p.batch)/\(p.batches)  loss \(fmt(p.loss, 4))  \(rate(p.samplesPerSecond)) samples/s  ETA \(formatDuration(eta))"
        s.console.out("\r\u{1B}[2K" + s.console.fitLine(text))
    }

    /// Seconds left in a `train N`: the rest of this epoch plus `epochsLeft` whole ones. An epoch takes
    /// `secondsPerEpoch` (measured on the epochs this command finished, test pass included) when known, else
    /// `batches × secondsPerBatch`.
    public static func commandETA(batch: Int, batches: Int, epochsLeft: Int, secondsPerBatch: Double, secondsPerEpoch: Double?) -> Double {
        let perEpoch = secondsPerEpoch ?? Double(batches) * secondsPerBatch
        let left = batches > 0 ? Double(batches - batch) / Double(batches) : 0
        return (left + Double(max(epochsLeft, 0))) * perEpoch
    }

    static func overfit(_ s: Session, samples n: Int) throws {
        if let r = s.currentRun, r.isExternal { _ = try r.trainable(for: "overfit") }
        let d = try s.requireData()
        let c = try s.resolvedConfig()
        guard c.layers!.last! >= d.classes else { throw CommandError("the output layer has \(c.layers!.last!) units but the data have \(d.classes) classes") }
        let k = min(n, d.train.count)
        let small = d.train.prefix(k)
        // Always fresh weights from the configuration's initialiser and seed (for the current run: exactly the weights
        // it started from), never a run's trained ones; no run is touched.
        let net = c.makeNetwork()
        net.initialize(c.initializers(layerCount: c.layers!.count - 1), seed: c.seed)
        let t = Trainer(network: net, optimizer: c.optimizer, seed: c.seed)
        c.configure(t)
        t.measureEvery = 1_000_000
        var steps = 0, loss = Double.nan
        let eps = Float(c.epsilon)
        let target = 0.05
        while steps < 500 {
            // ^C: the session is untouched (overfit trains a copy), so there is nothing to keep.
            if Interrupt.requested { throw CommandInterrupted("overfit: interrupted after \(steps) of at most 500 steps; nothing changed") }
            guard t.trainEpoch(small, test: nil, batch: k, epsilon: eps) != nil, t.nonFinite == nil else { break }
            steps += 1
            loss = t.evaluate(small, epsilon: eps).loss
            if loss < target { break }
        }
        let acc = t.evaluate(small, epsilon: eps).accuracy
        let after = "after \(plural(steps, "step")) on \(plural(k, "sample"))"
        if loss < target {
            s.console.line("overfit: ok — loss \(fmt(loss, 4)) < \(target) \(after) (accuracy \(pct(acc, 1)))")
            return
        } else if t.nonFinite != nil {
            s.console.line("overfit: FAIL — NaN/Inf \(after); lower the learning rate")
        } else {
            s.console.line("overfit: FAIL — loss \(fmt(loss, 4)) still ≥ \(target) \(after) (accuracy \(pct(acc, 1))); check the labels, the learning rate (\(c.optimizer)), the initialisation and the activation")
        }
        // Like a failing check: with --strict (set strict on) the script's exit status becomes 2.
        if s.strict { s.strictFailure = true }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
    func rightPad(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}

