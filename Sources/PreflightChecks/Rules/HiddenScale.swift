import PreflightEngine

extension Rule {
    static let hiddenScale = Rule(
        id: "hidden-scale", title: "hidden-layer means too large or running away",
        measures: "The mean of each hidden layer's outputs, on the first batch (at initialisation) and over the latest epoch; also whether the means grow layer over layer (each at least `growth` times the one before: \"running away\").",
        why: "Activations that grow with depth make the logits huge, which saturates the softmax and makes gradients explode. Healthy networks keep hidden means below 1 at the start; they rise slowly with training.",
        source: "The original study: good networks' hidden means stayed below 1 (and rose with training), bad ones were far above 1 and grew layer after layer. The per-epoch limits are looser because trained networks' means rise (to about 1–1.3 after 5–15 epochs of Adam on MNIST).",
        tryThis: "Use init glorot or init he, inputs in [0,1]; if the means grow during training, lower the learning rate.",
        settings: [.level("warn", 1, "at initialisation: warn when any hidden mean is above this", .positive),
                   .level("fail", 3, "at initialisation: fail when the last hidden mean is above this (or above warn while running away)", .positive),
                   .level("epoch-warn", 3, "after an epoch: warn when any hidden mean is above this", .positive),
                   .level("epoch-fail", 10, "after an epoch: fail when the last hidden mean is above this (or above epoch-warn while running away)", .positive),
                   .knob("growth", 1.5, "running away: every hidden mean at least this many times the previous layer's", 1...1e9)],
        evaluate: { $0.hiddenScale() })
}

private extension RuleContext {
    func hiddenScale() -> Finding {
        guard hiddenCount > 0 else { return notRun("no hidden layers") }
        let growth = p("growth") ?? 1.5
        func judge(_ stats: [LayerStats], phase: String, atInit: Bool) -> Finding {
            let means = stats.map(\.mean)
            guard means.allSatisfy(\.isFinite) else {
                return notRun("hidden means are not finite (see nonfinite)", phase: phase)
            }
            let m = means.map(abs)
            let last = m.last!, top = m.max()!
            let running = m.count >= 2 && zip(m, m.dropFirst()).allSatisfy { $0 > 0 && $1 >= growth * $0 }
            let warn = p(atInit ? "warn" : "epoch-warn"), fail = p(atInit ? "fail" : "epoch-fail")
            var g: (Verdict, Double?) = (.ok, warn ?? fail)
            var value = top, ofLast = false
            if let f = fail, last > f { g = (.fail, f); value = last; ofLast = true }
            else if running, let w = warn, last > w { g = (.fail, w); value = last; ofLast = true }
            else if let w = warn, top > w { g = (.warn, w) }
            var text = "hidden-layer means " + list(means) + (atInit ? " on the first batch" : " over \(phase)")
            // The thresholds apply to sizes: with a negative mean, say which size the table shows.
            if means.contains(where: { $0 < 0 }) {
                text += ofLast ? " (the last layer's |mean| is \(num(value)))" : " (largest |mean| \(num(value)))"
            }
            if running && g.0 != .ok { text += ", each ≥\(num(growth))× the layer before (running away)" }
            let hint = atInit ? "use init glorot (or init he for relu) and inputs in [0,1]"
                              : "lower the learning rate, e.g. \(lower())"
            return make(phase, value, g, text, hint: hint)
        }
        var fs: [Finding] = []
        if let fb = input.firstBatch, !fb.hidden.isEmpty { fs.append(judge(fb.hidden, phase: "first-batch", atInit: true)) }
        if let e = lastWithHidden { fs.append(judge(e.hidden, phase: phase(e), atInit: false)) }
        return worst(fs) ?? notRun(noFirstBatch)
    }
}
