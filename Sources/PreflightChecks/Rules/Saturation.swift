import PreflightEngine

extension Rule {
    static let saturation = Rule(
        id: "saturation", title: "softmax saturation at the start",
        measures: "On the first batch of the first epoch, before any update: the share of softmax outputs below ε or above 1−ε (ε is the session's epsilon, 1e-7 by default).",
        why: "A saturated softmax means the untrained network is already certain, and wrong. Its gradients are tiny or clipped, so training starts slowly or not at all, and the loss is dominated by clipped log(ε) terms.",
        source: "The original study: well-initialised networks (Glorot) had 0% saturated outputs on the first batch, badly initialised ones (truncated normal, std 0.5) 80–100%.",
        tryThis: "Use a scaled initialiser (init glorot, or init he for relu) and inputs scaled to [0,1] (data … --scale unit).",
        settings: [.level("warn", 0.01, "warn when this share of outputs or more is saturated", .share),
                   .level("fail", 0.1, "fail when this share of outputs or more is saturated", .share)],
        evaluate: { $0.saturation() })
}

private extension RuleContext {
    func saturation() -> Finding {
        guard let fb = input.firstBatch else { return notRun(noFirstBatch) }
        guard input.classes != nil else { return notRun(noClasses + ": softmax saturation is about class outputs") }
        let v = fb.saturatedFraction, e = param(input.epsilon)
        let g = gradeHigh(v, warn: p("warn"), fail: p("fail"), strict: false)
        return make("first-batch", v, g,
                    "\(pct(v)) of softmax outputs < \(e) or > 1-\(e) (\(pct(fb.lowFraction)) low, \(pct(fb.highFraction)) high; \(plural(fb.batchSize, "sample")))",
                    hint: "use init glorot (or init he for relu) and inputs in [0,1]: the untrained logits are far too large")
    }
}
