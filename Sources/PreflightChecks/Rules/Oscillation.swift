import PreflightEngine

extension Rule {
    static let oscillation = Rule(
        id: "oscillation", title: "loss going up and down",
        measures: "Over 4 or more epochs: the share of successive train-loss differences that change sign (moves smaller than `min-change` of the loss are ignored; at least two sign changes are needed).",
        why: "A loss that alternates between rising and falling is bouncing across a valley: the steps are too large for the landscape.",
        source: "AUTOTRAINER (oscillating loss) and TheDeepChecker.",
        tryThis: "Lower the learning rate, or use a larger batch.",
        settings: [.level("warn", 0.5, "warn when this share of differences or more changes sign", .share),
                   .level("fail", nil, "fail when this share of differences or more changes sign", .share),
                   .knob("min-change", 0.01, "ignore moves smaller than this share of the loss", .share)],
        evaluate: { $0.oscillation() })
}

private extension RuleContext {
    func oscillation() -> Finding {
        let es = input.epochs
        guard es.count >= 4 else { return notRun("needs 4 epochs, have \(es.count)") }
        guard !input.missing.contains(.trainLoss) else { return notRun(noTrainLoss) }
        let losses = es.map(\.trainLoss)
        guard losses.allSatisfy(\.isFinite) else { return notRun("the train loss is not finite (see divergence)") }
        let minChange = p("min-change") ?? 0.01
        var signs: [Int] = []
        for i in 1..<losses.count {
            let d = losses[i] - losses[i - 1]
            if abs(d) >= minChange * max(losses[i - 1], 10 * lossFloor) { signs.append(d > 0 ? 1 : -1) }
        }
        let possible = losses.count - 2
        let flips = signs.count >= 2 ? zip(signs, signs.dropFirst()).filter { $0 != $1 }.count : 0
        let share = Double(flips) / Double(possible)
        var g = gradeHigh(share, warn: p("warn"), fail: p("fail"), strict: false)
        if flips < 2 { g = (.ok, p("warn")) }
        let bs = input.firstBatch.map { "batch \($0.batchSize * 2)" } ?? "a larger batch"
        return make(phase(es), share, g,
                    "\(flips) of \(possible) successive train-loss moves change direction (\(pct(share))) over \(phase(es))",
                    hint: "lower the learning rate (e.g. \(lower())) or use a larger batch (\(bs))")
    }
}
