import PreflightEngine

extension Session {
    static let trainingCommands: [Command] = [
        Command(name: "train", group: .training, usage: "train N",
                summary: "train N more epochs of the current run (^C stops at a batch boundary, keeping the records)",
                details: "starts run1 (or a new run if the configuration changed since the current run) when needed",
                example: "train 5", handler: { s, a in
                    let u = Session.command(named: "train")!.usage
                    guard a.count == 1 else { throw CommandError(a.isEmpty ? "train: how many epochs?" : "train: one number of epochs", usage: u) }
                    let n = try parseCount(a[0], "the number of epochs", in: "train", min: 1, max: 100_000)
                    try s.train(epochs: n)
                }),
        Command(name: "overfit", group: .training, usage: "overfit [N]",
                summary: "train a copy on one batch of N samples (default 16) for up to 500 steps: does the loss reach ~0?",
                details: "the session's run is untouched; a network that cannot overfit 16 samples has a bug in its set-up",
                example: "overfit 16", handler: { s, a in
                    guard a.count <= 1 else { throw CommandError("overfit: at most one number", usage: "overfit [N]") }
                    let n = try a.first.map { try parseCount($0, "the sample count", in: "overfit", min: 1, max: 10_000) } ?? 16
                    try s.overfit(samples: n)
                }),
    ]

    func train(epochs n: Int) throws {
        let d = try requireData()
        let c = try resolvedConfig()
        if c.layers!.last! < d.classes {
            throw CommandError("the output layer has \(c.layers!.last!) units but the data have \(d.classes) classes: make the last layer size \(d.classes)")
        }
        if c.batch > d.train.count { throw CommandError("batch \(c.batch) is larger than the \(d.train.count) training samples") }
        let r = try runForTraining()
        let t = r.trainer
        if let ev = t.nonFinite {
            throw CommandError("run \(r.name) stopped at a NaN/Inf (epoch \(ev.epoch), batch \(ev.batch), \(ev.stage), \(ev.layer)); start a new run with `run NAME` after changing the configuration")
        }
        Interrupt.clear()
        let eps = Float(c.epsilon)
        let start = t.epochs.count
        for _ in 1...n {
            let drawBar = console.interactive
            let epochTotal = start + n
            let rec = t.trainEpoch(d.train, test: d.test.count > 0 ? d.test : nil, batch: c.batch, epsilon: eps,
                                   shouldStop: { Interrupt.requested },
                                   progress: drawBar ? { p in self.drawProgress(p, of: epochTotal) } : nil)
            if drawBar { console.out("\r\u{1B}[2K") }
            if let rec, rec.batches > 0 || t.nonFinite == nil { printEpoch(rec, run: r) }
            if let ev = t.nonFinite {
                console.error("NaN/Inf: training stopped at epoch \(ev.epoch), batch \(ev.batch): first seen in the \(ev.stage) pass, \(ev.layer). Recorded epochs are kept; `check nonfinite` for what to try.")
                break
            }
            if Interrupt.requested {
                Interrupt.clear()
                console.info("interrupted: stopped after batch \(rec?.batches ?? 0) of epoch \(t.epochs.count); \(t.epochs.count) epochs recorded in run \(r.name)")
                break
            }
        }
    }

    func printEpoch(_ rec: EpochRecord, run: Run) {
        var s = "epoch \(String(rec.epoch).leftPad(3))  loss \(fmt(rec.trainLoss, 4))  acc \(pct(rec.trainAccuracy))"
        if let tl = rec.testLoss, let ta = rec.testAccuracy { s += "  test loss \(fmt(tl, 4))  test acc \(pct(ta))" }
        s += "  \(fmt(rec.seconds, 2))s  \(rate(rec.samplesPerSecond)) samples/s"
        if !rec.complete { s += "  (partial: \(rec.batches)/\(rec.totalBatches) batches)" }
        console.info(s)
    }

    func drawProgress(_ p: BatchProgress, of total: Int) {
        let width = 24
        let filled = p.batches > 0 ? width * p.batch / p.batches : 0
        let bar = String(repeating: console.unicode ? "█" : "#", count: filled) + String(repeating: console.unicode ? "·" : ".", count: width - filled)
        // Seconds left in this epoch at the current rate (samples per batch ≈ samples seen / batches done).
        let perBatch = p.batch > 0 && p.samplesPerSecond > 0 ? 1 / (p.samplesPerSecond / Double(max(p.batchSize, 1))) : 0
        let eta = Double(p.batches - p.batch) * perBatch
        console.out("\r\u{1B}[2Kepoch \(p.epoch)/\(total) [\(bar)] \(p.batch)/\(p.batches)  loss \(fmt(p.loss, 4))  \(rate(p.samplesPerSecond)) samples/s  ETA \(fmt(eta, 0))s")
    }

    func overfit(samples n: Int) throws {
        let d = try requireData()
        let c = try resolvedConfig()
        guard c.layers!.last! >= d.classes else { throw CommandError("the output layer has \(c.layers!.last!) units but the data have \(d.classes) classes") }
        let k = min(n, d.train.count)
        let small = d.train.prefix(k)
        // Start from the current run's weights when it matches the configuration, else fresh ones.
        let net = Network(sizes: c.layers!, activation: c.activation)
        if let r = currentRun, r.config == c { net.setParameters(r.network.parameterArray) }
        else { net.initialize(c.initializers(layerCount: c.layers!.count - 1), seed: c.seed) }
        let t = Trainer(network: net, optimizer: c.optimizer, seed: c.seed)
        t.measureEvery = 1_000_000
        var steps = 0, loss = Double.nan
        let eps = Float(c.epsilon)
        let target = 0.05
        while steps < 500 {
            guard t.trainEpoch(small, test: nil, batch: k, epsilon: eps) != nil, t.nonFinite == nil else { break }
            steps += 1
            loss = t.evaluate(small, epsilon: eps).loss
            if loss < target { break }
        }
        let acc = t.evaluate(small, epsilon: eps).accuracy
        if loss < target {
            console.line("overfit: ok — loss \(fmt(loss, 4)) < \(target) after \(steps) steps on \(k) samples (accuracy \(pct(acc, 1)))")
        } else if t.nonFinite != nil {
            console.line("overfit: FAIL — NaN/Inf after \(steps) steps on \(k) samples; lower the learning rate")
        } else {
            console.line("overfit: FAIL — loss \(fmt(loss, 4)) still ≥ \(target) after \(steps) steps on \(k) samples (accuracy \(pct(acc, 1))); check the labels, the learning rate (\(c.optimizer)), the initialisation and the activation")
        }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
    func rightPad(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
