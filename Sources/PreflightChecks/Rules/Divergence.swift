import PreflightEngine

extension Rule {
    static let divergence = Rule(
        id: "divergence", title: "loss diverging",
        measures: "Whether the train loss became NaN/Inf; how far the latest epoch's train loss is above its lowest so far (latest / minimum; the first batch's loss before any update counts as the start); and whether it is above `chance` × ln(classes), the loss of guessing, while also above its earlier best.",
        why: "A loss that climbs back up, or ends worse than guessing and worse than where it started, means the steps are too large and training is undoing itself (Adam with learning rate 10 does exactly this on MNIST).",
        source: "AUTOTRAINER and UMLAUT (loss increasing, NaN loss).",
        tryThis: "Lower the learning rate.",
        settings: [.level("warn", 1.25, "warn when latest / minimum train loss is at or above this", 1...1e9),
                   .level("fail", 2, "fail when latest / minimum train loss is at or above this", 1...1e9),
                   .knob("chance", 1, "fail when the train loss is above this × ln(classes) and above its earlier best", .positive)],
        evaluate: { $0.divergence() })
}

private extension RuleContext {
    func divergence() -> Finding {
        let es = input.epochs
        guard !es.isEmpty else { return notRun("needs 1 epoch, have 0") }
        let hint = "lower the learning rate, e.g. \(lower())"
        guard !input.missing.contains(.trainLoss) else {
            if let ev = input.nonFinite {
                return make("epoch \(ev.epoch)", nil, (.fail, nil),
                            "training stopped on NaN/Inf in epoch \(ev.epoch), batch \(ev.batch) (\(ev.layer), \(ev.stage))", hint: hint)
            }
            return notRun(noTrainLoss)
        }
        if let bad = es.first(where: { !$0.trainLoss.isFinite }) {
            return make(phase(bad), nil, (.fail, nil), "train loss became \(num(bad.trainLoss)) in epoch \(bad.epoch)", hint: hint)
        }
        if let ev = input.nonFinite {
            return make("epoch \(ev.epoch)", nil, (.fail, nil),
                        "training stopped on NaN/Inf in epoch \(ev.epoch), batch \(ev.batch) (\(ev.layer), \(ev.stage))", hint: hint)
        }
        // The start (the first batch's loss, before any update) counts as the loss before epoch 1.
        var points: [(label: String, loss: Double)] = []
        if let fb = input.firstBatch, fb.loss.isFinite { points.append(("the start", fb.loss)) }
        points += es.map { ("epoch \($0.epoch)", $0.trainLoss) }
        let last = es.last!.trainLoss
        let earlier = points.dropLast()
        let best = earlier.min { $0.loss < $1.loss }
        let minL = min(best?.loss ?? last, last)
        let ratio = minL > 0 ? last / minL : (last > 0 ? .infinity : 1)
        var g = gradeHigh(ratio, warn: p("warn"), fail: p("fail"), strict: false)
        let bestText = last <= minL ? "its lowest so far" : "\(num(ratio))× its lowest \(num(minL)) (\(best!.label))"
        var text = "train loss \(num(last)) in epoch \(es.last!.epoch) is \(bestText)"
        if g.0 != .ok && last - minL < lossFloor { g = (.ok, p("warn")); text += "; the rise is below \(num(lossFloor)), ignored" }
        var f = make(phase(es), ratio, g, text, hint: hint)
        // Above its earlier best by more than noise (the same floor as the ratio's).
        if let lnC, let chance = p("chance"), let best, last > chance * lnC, last - best.loss >= lossFloor {
            let times = last / lnC
            f = make(phase(es.last!), times, (.fail, chance),
                     "train loss \(num(last)) in epoch \(es.last!.epoch) is \(num(times))× ln(\(classes)) = \(num(lnC)) (worse than guessing) and above \(num(best.loss)) (\(best.label)): training made the network worse",
                     hint: hint)
        }
        return f
    }
}
