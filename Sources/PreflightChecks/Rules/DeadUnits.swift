import PreflightEngine

extension Rule {
    static let deadUnits = Rule(
        id: "dead-units", title: "dead relu units",
        measures: "For relu-like activations (relu, leaky_relu, elu): the share of a hidden layer's units that were never active (output never above 0) on the first batch, or over the whole latest epoch. The worst layer counts.",
        why: "A unit that is never active passes no gradient (relu) and stops learning for good; a layer full of them is wasted capacity, or a broken network.",
        source: "DeepDiagnosis, AUTOTRAINER and TheDeepChecker all check for dying relus. Healthy Glorot/He networks on MNIST measured at most 6% over an epoch of 60000 samples; init zeros gives 100%, Adam 0.01 about 23%. Over short epochs more units look dead: healthy controls of the fault zoo (2000 samples an epoch) reached 10–16%, hence a warn level of 15% (faults/RESULTS.md).",
        tryThis: "Use init he or init glorot (never zeros); if units die during training, lower the learning rate or try activation leaky_relu.",
        settings: [.level("warn", 0.15, "over an epoch: warn when this share of a layer's units or more is dead", .share),
                   .level("fail", 0.5, "fail when this share of a layer's units or more is dead (first batch or epoch)", .share),
                   .level("init-warn", 0.25, "on the first batch: warn when this share or more is dead (a batch is a small sample: deep layers of healthy networks show up to ~15% on 32 samples)", .share),
                   .knob("min-batch", 32, "judge the first batch only when it has at least this many samples", 1...1e9)],
        evaluate: { $0.deadUnits() })
}

private extension RuleContext {
    func deadUnits() -> Finding {
        guard let act = input.activation else { return notRun(unknownActivation) }
        guard isReluLike(act) else {
            return notRun("activation \(act.rawValue) has no dead units (relu-like activations only)")
        }
        guard hiddenCount > 0 else { return notRun("no hidden layers") }
        guard !input.missing.contains(.deadFraction) else { return notRun("\(input.source)'s hidden statistics have no dead_fraction") }
        let minBatch = Int(p("min-batch") ?? 32)
        func judge(_ stats: [LayerStats], phase: String, over: String, atInit: Bool) -> Finding {
            let dead = stats.map(\.deadFraction)
            let k = dead.indices.max { dead[$0] < dead[$1] || (dead[$0].isNaN && !dead[$1].isNaN) }!
            let v = dead[k]
            let g = gradeHigh(v, warn: p(atInit ? "init-warn" : "warn"), fail: p("fail"), strict: false)
            var text = "\(pct(v)) of hidden layer \(k + 1)'s units never active \(over)"
            if dead.count > 1 { text += " (layers: \(list(dead, pct)))" }
            let hint: String
            if initIsConstant { hint = "weights start at 0: use init he or init glorot" }
            else if atInit { hint = "use init he (or glorot) and inputs in [0,1], or activation leaky_relu" }
            else { hint = "lower the learning rate (e.g. \(lower())) or try activation leaky_relu" }
            return make(phase, v, g, text, hint: hint)
        }
        var fs: [Finding] = []
        if let fb = input.firstBatch, !fb.hidden.isEmpty {
            if fb.batchSize >= minBatch {
                fs.append(judge(fb.hidden, phase: "first-batch", over: "on the first batch (\(plural(fb.batchSize, "sample")))", atInit: true))
            } else {
                fs.append(notRun("the first batch has \(plural(fb.batchSize, "sample")); needs \(minBatch) (check.dead-units.min-batch)",
                                 phase: "first-batch"))
            }
        }
        if let e = lastWithHidden {
            fs.append(judge(e.hidden, phase: phase(e), over: "over epoch \(e.epoch)", atInit: false))
        }
        return worst(fs) ?? notRun(noFirstBatch)
    }
}
