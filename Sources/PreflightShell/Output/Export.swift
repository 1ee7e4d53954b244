import Foundation
import PreflightEngine
import PreflightChecks

extension Session {
    /// The schema version `export` writes (docs/export.md; the reader takes 1 and 2).
    public static let exportVersion = 2

    /// The JSON export (schema version 2, documented in docs/export.md).
    public func exportJSON(timings: Bool = true) -> JSON {
        .object([("version", .int(Session.exportVersion)), ("runs", .array(runs.map { runJSON($0, timings: timings) }))])
    }

    func checksJSON(_ found: [Finding]) -> JSON {
        .array(found.map { f in
            .object([("rule", .string(f.rule)), ("phase", .string(f.phase)), ("value", .num(f.value)),
                     ("threshold", .num(f.threshold)), ("verdict", .string(f.verdict.rawValue)),
                     ("hint", .string(f.verdict == .notRun ? f.reason : f.hint)), ("measured", .string(f.measured))])
        })
    }

    /// Version 2's description of a Preflight network: each weight layer (`layer1`…) and each hidden
    /// activation (`hidden1`…, the outputs the hidden statistics describe), in forward order. The output's
    /// softmax is part of the loss, as in a PyTorch model trained with cross-entropy. With batch normalisation,
    /// `norm1`… (type `norm`, its γ and β as parameters) between each hidden dense layer and its activation.
    func layersJSON(_ sizes: [Int], activation: Activation, batchNorm: Bool = false) -> JSON {
        var out: [JSON] = []
        for l in 0..<(sizes.count - 1) {
            out.append(.object([("name", .string("layer\(l + 1)")), ("type", .string("dense")), ("inputs", .int(sizes[l])),
                                ("outputs", .int(sizes[l + 1])), ("parameters", .int(sizes[l] * sizes[l + 1] + sizes[l + 1]))]))
            if l < sizes.count - 2 && batchNorm {
                out.append(.object([("name", .string("norm\(l + 1)")), ("type", .string("norm")), ("inputs", .int(sizes[l + 1])),
                                    ("outputs", .int(sizes[l + 1])), ("parameters", .int(2 * sizes[l + 1]))]))
            }
            if l < sizes.count - 2 {
                out.append(.object([("name", .string("hidden\(l + 1)")), ("type", .string("activation")),
                                    ("activation", .string(activation.rawValue))]))
            }
        }
        return .array(out)
    }

    /// Hidden statistics with version 2's name and type in front.
    func namedStatsJSON(_ h: LayerStats, _ i: Int) -> JSON {
        .object([("name", .string("hidden\(i + 1)")), ("type", .string("activation")),
                 ("mean", .num(h.mean)), ("std", .num(h.std)), ("max", .num(h.max)),
                 ("zero_fraction", .num(h.zeroFraction)), ("above_one_fraction", .num(h.aboveOneFraction)),
                 ("dead_fraction", .num(h.deadFraction)), ("saturated_fraction", .num(h.saturatedFraction))])
    }

    func runJSON(_ r: Run, timings: Bool) -> JSON {
        // An external run is written back as it was read, with its current checks.
        if let rec = r.record { return rec.json(name: r.name, checks: checksJSON(r.findings)) }
        let c = r.config
        let sizes = c.layers!
        let classes = data.flatMap { $0.spec == c.data ? $0.classes : nil } ?? sizes.last!
        var config: [(String, JSON)] = [
            ("layers", .array(c.layers!.map { .int($0) })), ("activation", .string(c.activation.rawValue)),
            ("init", .string(c.initializer.name)),
        ]
        if case .truncnormal(let s) = c.initializer { config.append(("init_std", .num(s))) }
        if case .normal(let s) = c.initializer { config.append(("init_std", .num(s))) }
        if case .uniform(let l) = c.initializer { config.append(("init_limit", .num(l))) }
        if !c.layerInits.isEmpty {
            config.append(("layer_init", .object(c.layerInits.keys.sorted().map { (String($0), .string(c.layerInits[$0]!.description)) })))
        }
        config += [("optimizer", .string(c.optimizer.name)), ("learning_rate", .num(c.optimizer.learningRate))]
        if case .sgd(_, let m) = c.optimizer { config.append(("momentum", .num(m))) }
        if case .adamw(_, let wd) = c.optimizer { config.append(("weight_decay", .num(wd))) }
        // Training remedies (issue 14): always written, so a reader need not know their defaults.
        config += [("l2", .num(c.l2Value)), ("schedule", .string(c.scheduleValue.description))]
        if let e = c.scheduleEpochs { config.append(("schedule_epochs", .int(e))) }
        config.append(("dropout", .num(c.dropoutValue)))
        if let cl = c.clip { config.append(("clip_norm", .num(cl))) }
        config.append(("batchnorm", .bool(c.batchNormValue)))
        // The plan matters (and is written) only with a schedule.
        if c.scheduleValue != .none, let p = r.trainer?.optimizer.plannedEpochs, p > 0 { config.append(("planned_epochs", .int(p))) }
        config += [("batch", .int(c.batch)), ("seed", .rawNumber(String(c.seed))), ("epsilon", .num(c.epsilon)),
                   ("dataset", .string(c.data?.name ?? "")), ("scale", .string(c.data?.scale.rawValue ?? "unit"))]
        if let l = c.data?.limit { config.append(("limit", .int(l))) }
        // The range of the run's inputs over its own training set (what input-range judged).
        if let rd = dataRecord(of: r) { config += [("input_min", .num(rd.inputMin)), ("input_max", .num(rd.inputMax))] }
        if let names = c.data?.classNames { config.append(("class_names", .array(names.map { .string($0) }))) }

        var fields: [(String, JSON)] = [
            ("name", .string(r.name)),
            ("engine", .object([("name", .string("preflight")), ("version", .string(Program.version)), ("backend", .null)])),
            ("source", .object([("script", sourceStack.last.map { .string($0) } ?? .null),
                                ("model", .string("MLP \(sizes.map(String.init).joined(separator: "-")) \(c.activation.rawValue)"))])),
            ("classes", .int(classes)),
            ("layers", layersJSON(sizes, activation: c.activation, batchNorm: c.batchNormValue)),
            ("config", .object(config)),
        ]
        if let fb = r.firstBatch {
            fields.append(("first_batch", .object([
                ("loss", .num(fb.loss)), ("saturated_fraction", .num(fb.saturatedFraction)),
                ("low_fraction", .num(fb.lowFraction)), ("high_fraction", .num(fb.highFraction)),
                ("accuracy", .num(fb.accuracy)), ("batch_size", .int(fb.batchSize)),
                ("input_min", .num(fb.inputMin)), ("input_max", .num(fb.inputMax)),
                ("grad_norms", .array(fb.gradNorms.map { .num($0) })),
                ("hidden", .array(fb.hidden.enumerated().map { namedStatsJSON($1, $0) })),
                ("sample_indices", fb.sampleIndices.map { .array($0.map { .int($0) }) } ?? .null),
                ("output_kind", .string("logits")), ("outputs", .int(sizes.last!)),
                ("grad_norm_names", .array((0..<fb.gradNorms.count).map { .string("layer\($0 + 1).weight") })),
                ("nonfinite", .null),
            ])))
        } else {
            fields.append(("first_batch", .null))
        }
        fields.append(("epochs", .array(r.trainer.epochs.map { e in
            .object([
                ("epoch", .int(e.epoch)), ("train_loss", .num(e.trainLoss)), ("train_accuracy", .num(e.trainAccuracy)),
                ("test_loss", .num(e.testLoss)), ("test_accuracy", .num(e.testAccuracy)),
                ("seconds", timings ? .num(e.seconds) : .null), ("samples_per_second", timings ? .num(e.samplesPerSecond) : .null),
                ("batches", .int(e.batches)), ("complete", .bool(e.complete)),
                ("hidden", .array(e.hidden.enumerated().map { namedStatsJSON($1, $0) })),
                ("layers", .array(e.layers.enumerated().map { (i, l) in
                    .object([("name", .string("layer\(i + 1).weight")), ("grad_norm", .num(l.gradNorm)), ("update_ratio", .num(l.updateRatio))])
                })),
            ])
        })))
        if let ev = r.trainer.nonFinite {
            fields.append(("nonfinite", .object([("epoch", .int(ev.epoch)), ("batch", .int(ev.batch)),
                                                 ("stage", .string(ev.stage)), ("layer", .string(ev.layer))])))
        }
        fields.append(("checks", checksJSON(r.findings)))
        return .object(fields)
    }

    /// Tidy CSV: one row per run × epoch × layer × metric. First-batch values have epoch 0 and phase first_batch.
    public func exportCSV(timings: Bool = true) -> String {
        var out = "run,phase,epoch,layer,metric,value\n"
        func v(_ d: Double?) -> String { guard let d, d.isFinite else { return "" }; return JSON.format(d) }
        func row(_ run: String, _ phase: String, _ epoch: Int, _ layer: String, _ metric: String, _ value: Double?) {
            out += "\(csvField(run)),\(phase),\(epoch),\(layer),\(metric),\(v(value))\n"
        }
        for r in runs {
            if let fb = r.firstBatch {
                for (m, x) in [("loss", fb.loss), ("saturated_fraction", fb.saturatedFraction), ("low_fraction", fb.lowFraction),
                               ("high_fraction", fb.highFraction), ("accuracy", fb.accuracy)] { row(r.name, "first_batch", 0, "", m, x) }
                for (i, h) in fb.hidden.enumerated() { hiddenRows(r.name, "first_batch", 0, i, h, row) }
                for (i, g) in fb.gradNorms.enumerated() { row(r.name, "first_batch", 0, "layer\(i + 1)", "grad_norm", g) }
            }
            for e in r.epochs {
                var pairs: [(String, Double?)] = [("train_loss", e.trainLoss), ("train_accuracy", e.trainAccuracy),
                                                   ("test_loss", e.testLoss), ("test_accuracy", e.testAccuracy)]
                if timings { pairs += [("seconds", e.seconds), ("samples_per_second", e.samplesPerSecond)] }
                for (m, x) in pairs { row(r.name, "epoch", e.epoch, "", m, x) }
                for (i, h) in e.hidden.enumerated() { hiddenRows(r.name, "epoch", e.epoch, i, h, row) }
                for (i, l) in e.layers.enumerated() {
                    row(r.name, "epoch", e.epoch, "layer\(i + 1)", "grad_norm", l.gradNorm)
                    row(r.name, "epoch", e.epoch, "layer\(i + 1)", "update_ratio", l.updateRatio)
                }
            }
        }
        return out
    }

    private func hiddenRows(_ run: String, _ phase: String, _ epoch: Int, _ i: Int, _ h: LayerStats,
                            _ row: (String, String, Int, String, String, Double?) -> Void) {
        let l = "hidden\(i + 1)"
        for (m, x) in [("mean", h.mean), ("std", h.std), ("max", h.max), ("zero_fraction", h.zeroFraction),
                       ("above_one_fraction", h.aboveOneFraction), ("dead_fraction", h.deadFraction),
                       ("saturated_fraction", h.saturatedFraction)] { row(run, phase, epoch, l, m, x) }
    }

    func export(_ path: String, timings: Bool, usage u: String) throws {
        let lower = path.lowercased()
        guard lower.hasSuffix(".json") || lower.hasSuffix(".csv") else {
            throw CommandError("export: the file name must end in .json or .csv, got `\(path.prefix(60))`", usage: u)
        }
        // Findings of runs not yet checked, or checked before their latest epochs, are made now so that the
        // export carries the verdicts on what it records (an external run's too).
        for r in runs where (r.findings.isEmpty || r.findingsEpochs != r.epochs.count)
            && (r.isExternal || r.firstBatch != nil || !r.epochs.isEmpty) {
            r.findings = findings(for: r); r.findingsEpochs = r.epochs.count
        }
        if lower.hasSuffix(".json") {
            try writeOutput(path, Array((exportJSON(timings: timings).serialized() + "\n").utf8))
        } else {
            try writeOutput(path, Array(exportCSV(timings: timings).utf8))
        }
        console.info("exported \(runs.count) run\(runs.count == 1 ? "" : "s") to \(path)")
    }
}

func csvField(_ s: String) -> String {
    s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}
