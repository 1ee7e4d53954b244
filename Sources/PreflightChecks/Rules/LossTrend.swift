import PreflightEngine

extension Rule {
    static let lossTrend = Rule(
        id: "loss-trend", title: "loss not falling",
        measures: "The relative change of the train loss from the first epoch to the latest: (last − first) / first.",
        why: "If the train loss does not fall, the network is not learning: the learning rate, the initialisation or the data is wrong.",
        source: "TheDeepChecker and AUTOTRAINER (loss not decreasing).",
        tryThis: "Check the learning rate (too high or too low), the initialisation and the input scaling.",
        settings: [.level("warn", -0.01, "warn when the relative change is above this (fell by less than 1%)"),
                   .level("fail", 0, "fail when the relative change is at or above this (did not fall)")],
        evaluate: { $0.lossTrend() })
}

private extension RuleContext {
    func lossTrend() -> Finding {
        let es = input.epochs
        guard es.count >= 2 else { return notRun("needs 2 epochs, have \(es.count)") }
        guard !input.missing.contains(.trainLoss) else { return notRun(noTrainLoss) }
        let a = es.first!.trainLoss, b = es.last!.trainLoss
        let hint = "check the learning rate (\(lower()) if the loss jumps, \(lower(10)) if it is flat), the init (init glorot) and inputs in [0,1]"
        guard a.isFinite && b.isFinite else {
            return make(phase(es), nil, (.fail, p("fail")), "train loss \(num(a)) → \(num(b)) over \(phase(es))", hint: hint)
        }
        let v = a > 0 ? (b - a) / a : 0
        var text = "train loss \(num(a)) → \(num(b)) over \(phase(es)) (\(signedPct(v)))"
        var g = gradeHigh(v, warn: p("warn"), fail: p("fail"), strict: false)
        if g.0 != .ok && b < lossFloor {
            g = (.ok, p("warn")); text += "; already near 0"
        }
        return make(phase(es), v, g, text, hint: hint)
    }
}
