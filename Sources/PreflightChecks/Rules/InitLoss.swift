import PreflightEngine

extension Rule {
    static let initLoss = Rule(
        id: "init-loss", title: "first-batch loss vs chance",
        measures: "The first batch's loss, before any update, compared with ln(classes), the loss of a network that spreads its belief evenly: |loss − ln C| / ln C.",
        why: "An untrained network should be unsure: about ln C (2.30 for 10 classes). A much larger loss means confident wrong predictions (weights too large); a much smaller one means the network already knows the answers (labels leak, or weights are not fresh).",
        source: "Karpathy's \"A recipe for training neural networks\" (verify the loss at init) and TheDeepChecker. Glorot networks on MNIST start at 2.3–2.5; truncated normal std 0.5 at 10–30.",
        tryThis: "Use init glorot or init he; check the labels and that the run starts from fresh weights (run NAME).",
        settings: [.level("warn", 0.5, "warn when the loss is off ln C by this share of ln C or more", .positive),
                   .level("fail", 1, "fail when the loss is off ln C by this share of ln C or more", .positive)],
        evaluate: { $0.initLoss() })
}

private extension RuleContext {
    func initLoss() -> Finding {
        guard let fb = input.firstBatch else { return notRun(noFirstBatch) }
        guard let lnC else { return notRun(classes == 1 ? "needs 2 or more classes, the data have 1" : noClasses) }
        guard fb.loss.isFinite else {
            return make("first-batch", nil, (.fail, p("fail")), "first-batch loss is \(num(fb.loss))",
                        hint: "use init glorot and inputs in [0,1]; keep epsilon above 0")
        }
        let v = abs(fb.loss - lnC) / lnC
        let g = gradeHigh(v, warn: p("warn"), fail: p("fail"), strict: true)
        let hint = fb.loss > lnC ? "use init glorot (or init he for relu): the untrained network is confidently wrong"
                                 : "the loss starts below chance: check the labels, and start from fresh weights (run NAME)"
        return make("first-batch", v, g,
                    "first-batch loss \(num(fb.loss)) vs ln(\(classes)) = \(num(lnC)): off by \(pct(v)) of ln(\(classes))",
                    hint: hint)
    }
}
