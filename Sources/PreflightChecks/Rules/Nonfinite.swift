import PreflightEngine

extension Rule {
    static let nonfinite = Rule(
        id: "nonfinite", title: "NaN or infinity",
        measures: "Whether training stopped on a NaN/Inf (and where it first appeared: epoch, batch, stage, layer), and whether any recorded loss, hidden statistic or gradient norm is NaN or infinite.",
        why: "One NaN poisons every weight it touches; nothing after it means anything.",
        source: "DeepLocalize (locate the first layer and stage that goes non-finite) and TensorFlow's check_numerics.",
        tryThis: "Lower the learning rate, scale inputs to [0,1], keep epsilon above 0.",
        settings: [],
        evaluate: { $0.nonfinite() })
}

private extension RuleContext {
    func nonfinite() -> Finding {
        let hint = "lower the learning rate (e.g. \(lower())) and scale inputs to [0,1] (data … --scale unit)"
        if let ev = input.nonFinite {
            return make("epoch \(ev.epoch)", 1, (.fail, nil),
                        "NaN/Inf first in \(ev.layer) at the \(ev.stage) stage, epoch \(ev.epoch) batch \(ev.batch); training stopped",
                        hint: hint)
        }
        if let at = input.firstBatchNonFinite {
            return make("first-batch", 1, (.fail, nil), "NaN/Inf first in the output of \(at.layer) (\(at.stage)) on the first batch",
                        hint: hint)
        }
        guard input.firstBatch != nil || !input.epochs.isEmpty else {
            return notRun("nothing recorded yet: train, or check before training probes the first batch")
        }
        var found: [(phase: String, what: String)] = []
        func stats(_ s: [LayerStats], _ ph: String) {
            for (i, h) in s.enumerated() where !(h.mean.isFinite && h.std.isFinite && h.max.isFinite) {
                found.append((ph, "hidden layer \(i + 1)'s outputs"))
            }
        }
        if let fb = input.firstBatch {
            if !fb.loss.isFinite { found.append(("first-batch", "the loss")) }
            stats(fb.hidden, "first-batch")
            for (i, g) in fb.gradNorms.enumerated() where !g.isFinite { found.append(("first-batch", "weight layer \(i + 1)'s gradient")) }
        }
        for e in input.epochs {
            let ph = phase(e)
            if !e.trainLoss.isFinite && !input.missing.contains(.trainLoss) { found.append((ph, "the train loss")) }
            if let t = e.testLoss, !t.isFinite { found.append((ph, "the test loss")) }
            stats(e.hidden, ph)
            for (i, l) in e.layers.enumerated() where !l.gradNorm.isFinite { found.append((ph, "weight layer \(i + 1)'s gradient")) }
        }
        if let f = found.first {
            let more = found.count > 1 ? " (\(found.count) non-finite values in all)" : ""
            return make(f.phase, Double(found.count), (.fail, nil), "\(f.what) is NaN/Inf in \(f.phase)\(more)", hint: hint)
        }
        let scope = [input.firstBatch != nil ? "first batch" : nil,
                     input.epochs.isEmpty ? nil : "\(input.epochs.count) epoch\(input.epochs.count == 1 ? "" : "s")"]
            .compactMap { $0 }.joined(separator: ", ")
        let ph = input.epochs.isEmpty ? "first-batch" : (input.firstBatch != nil ? "first-batch, " : "") + phase(input.epochs)
        return make(ph, 0, (.ok, nil), "losses, hidden statistics and gradient norms all finite (\(scope))", hint: "")
    }
}
