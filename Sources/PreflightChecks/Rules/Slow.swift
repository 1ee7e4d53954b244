import PreflightEngine

extension Rule {
    static let slow = Rule(
        id: "slow", title: "learning too slowly",
        measures: "Over the last 3 epochs: the relative fall of the train loss per epoch, counted only while the train accuracy is below `accuracy`.",
        why: "A network that is still bad but has stopped improving is stuck: a plateau, a learning rate that is too small, or saturated units.",
        source: "AUTOTRAINER (slow convergence) and UMLAUT. The 2% a epoch is calibrated on the fault zoo: learning rates 10–100× too small fell 0.3–0.8% an epoch, the slowest healthy control still below 90% accuracy 7.6% (faults/RESULTS.md).",
        tryThis: "Raise the learning rate, switch to adam, or fix the initialisation.",
        settings: [.level("warn", 0.02, "warn when the loss falls by less than this share per epoch", .positive),
                   .level("fail", nil, "fail when the loss falls by less than this share per epoch", .positive),
                   .knob("accuracy", 0.9, "only judge while train accuracy is below this", .share)],
        evaluate: { $0.slow() })
}

private extension RuleContext {
    func slow() -> Finding {
        let es = input.epochs
        guard es.count >= 3 else { return notRun("needs 3 epochs, have \(es.count)") }
        guard !input.missing.contains(.trainLoss) else { return notRun(noTrainLoss) }
        let w = es.suffix(3)
        let a = w.first!.trainLoss, b = w.last!.trainLoss
        guard a.isFinite && b.isFinite else { return notRun("the train loss is not finite (see divergence)") }
        let imp = a > 0 ? (a - b) / a / Double(w.count - 1) : 0
        let acc = w.last!.trainAccuracy
        let accLimit = p("accuracy") ?? 0.9
        var text = "train loss \(imp < 0 ? "rose" : "fell") \(pct(abs(imp))) per epoch over \(phase(w)) (\(num(a)) → \(num(b)))"
            + (acc.isNaN ? "" : ", train accuracy \(pct(acc))")
        var g = gradeLow(imp, warn: p("warn"), fail: p("fail"))
        if acc >= accLimit {
            if g.0 != .ok { text += " ≥ \(pct(accLimit)): not judged" }
            g = (.ok, p("warn"))
        }
        let hint: String
        if case .sgd? = input.optimizer { hint = "use optimizer adam 0.001, or \(raise())" }
        else if let o = input.optimizer, o.learningRate * 10 <= usualLR.top { hint = "\(raise()), or fix the init (init glorot / init he)" }
        else { hint = "lower the learning rate (e.g. \(lower())): units may have died (see dead-units)" }
        return make(phase(w), imp, g, text, hint: hint)
    }
}
